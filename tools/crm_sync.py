"""CRM connectors on a schedule: HubSpot or Salesforce into Retain's CRM, incremental and resumable.

For each kind in parents-first order (accounts, contacts, contracts, tickets, notes) the sync asks
the adapter for the records changed since that kind's checkpoint, oldest first, a page at a time.
Each page is mapped to Retain's fields (the `api:` section of configs/mappings/<crm>.yaml),
validated like a file import and upserted in one transaction together with the new checkpoint
(the page's last modification time, kept in that run's `sync_runs` row). So:

- a run that fails mid-way (a dropped connection, a 500 on page 7) keeps pages 1-6 and the next run
  starts at page 7's first record: nothing is read twice but the page boundary, nothing is lost;
- re-reading is harmless: upserts match on external ids and an unchanged record is not rewritten;
- a bad record (a ticket without a subject) is rejected with its reason in the run's record and
  does not stop the sync (it would stop every run until someone fixed the CRM); so is a record whose
  modification time is unreadable or in the future (2999): the checkpoint never moves past a time
  it rejected, and a stored checkpoint like that is passed over (`tools.watermarks`);
- a run reads at most `max_pages` pages of a kind ("limited", going on next run), and a CRM that
  hands back the same page cursor twice ends the run as "failed" with that reason: no run pages forever;
- a child of a company Retain does not have (a prospect's contact) is ignored, and when such a
  company later becomes an account, its existing contacts, deals, tickets and notes are read for it
  (their modification times are older than the checkpoint, so the incremental query would miss them);
- an account whose owner is not a Retain CSM comes in unassigned (reported, `retain csms add`);
- an API limit stops the run after the last committed page ("limited"), to resume next run.

`dry_run` reads everything the same way inside one transaction that is rolled back: it reports what
would change and writes nothing, not even a run record.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import yaml
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from configs import CONFIG_DIR
from core.errors import RetainError, mask_secrets
from integrations.crm import importer
from integrations.crm.hubspot import HubSpot
from integrations.crm.models import Account, SyncRun
from integrations.crm.salesforce import Salesforce
from integrations.crm.source import LimitReached, ObjectQuery, Record, Source, SourceError
from integrations.crm.store import CRMStore
from tools import watermarks

ORDER = ["accounts", "contacts", "contracts", "tickets", "notes"]
MAX_PAGES = 2000  # per kind and run (settings: connectors.max_pages): a CRM that never stops paging ends
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/h\d)\s*/?>", re.IGNORECASE)  # tags that end a line


class ObjectMap(BaseModel):
    """How one Retain kind is read from the CRM."""

    model_config = {"extra": "forbid"}
    object: str = Field(min_length=1)
    modified: str = Field(min_length=1)
    where: list[Any] = Field(default_factory=list)
    associate: str | None = None  # HubSpot: the associated object type that holds the account
    account: str | None = None  # Salesforce: the field linking a record to its Account
    fields: dict[str, Any] = Field(min_length=1)


class CrmMapping(BaseModel):
    """The `api:` section of a mapping file."""

    model_config = {"extra": "forbid"}
    kinds: dict[str, ObjectMap]


def load_mapping(crm: str, mapping: str) -> CrmMapping:
    """The connector mapping: a name under configs/mappings/ or a YAML file path; one clear error."""
    path = CONFIG_DIR / "mappings" / f"{mapping}.yaml"
    if not path.is_file():
        path = Path(mapping)
    if not path.is_file():
        raise RetainError(f"{crm} mapping '{mapping}' not found: use '{crm}' (configs/mappings/{crm}.yaml) or a "
                          "YAML file path.")
    try:
        api = (yaml.safe_load(path.read_text()) or {}).get("api")
    except yaml.YAMLError as exc:
        raise RetainError(f"{crm} mapping {path} is not valid YAML: {exc}") from None
    if not isinstance(api, dict) or not api:
        raise RetainError(f"{crm} mapping {path} has no `api:` section (per kind: object, modified, fields).")
    unknown = sorted(set(api) - set(ORDER))
    if unknown:
        raise RetainError(f"{crm} mapping {path}: unknown kind(s) {', '.join(unknown)}; use {', '.join(ORDER)}.")
    try:
        m = CrmMapping.model_validate({"kinds": api})
    except ValidationError as exc:
        raise RetainError(f"{crm} mapping {path}: {importer._describe(exc)}") from None
    for kind, om in m.kinds.items():
        if "external_id" not in om.fields:
            raise RetainError(f"{crm} mapping {path}: {kind} needs an external_id field (the record id).")
    return m


# ---------------------------------------------------------------- mapping records to Retain rows
def _sources(spec: Any) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [str(s) for s in spec]
    if isinstance(spec, dict):
        return [] if spec.get("company") else _sources(spec.get("from", []))
    return []


def query_for(om: ObjectMap) -> ObjectQuery:
    """The adapter's query for one kind: the fields its mapping reads."""
    fields = list(dict.fromkeys(f for spec in om.fields.values() for f in _sources(spec) if f != "id"))
    return ObjectQuery(object=om.object, fields=fields, modified=om.modified, where=list(om.where),
                       associate=om.associate or om.account)


def _value(rec: Record, spec: Any, owners: dict[str, dict[str, str]]) -> Any:
    if isinstance(spec, dict) and spec.get("company"):
        return rec.company
    names = _sources(spec)
    vals = [rec.values.get(n) for n in names]
    vals = [v for v in vals if v is not None and v != ""]
    opts = spec if isinstance(spec, dict) else {}
    if "join" in opts:
        v: Any = str(opts["join"]).join(str(x) for x in vals) if vals else None
    else:
        v = vals[0] if vals else opts.get("default")
    if v is None:
        return None
    if opts.get("owner"):
        v = (owners.get(str(v)) or {}).get(str(opts["owner"]))
    if opts.get("html") and isinstance(v, str):
        v = html.unescape(_TAG.sub("", _BLOCK.sub("\n", v)))
        v = "\n".join(line for line in (re.sub(r"[ \t]+", " ", x).strip() for x in v.splitlines()) if line)
    values = opts.get("values") or {}
    if values:
        v = values.get(str(v), v)
    return v


def to_row(rec: Record, om: ObjectMap, owners: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A CRM record as a row of Retain's fields."""
    return {field: _value(rec, spec, owners) for field, spec in om.fields.items()}


# ---------------------------------------------------------------- runs and checkpoints
KindReport = TypedDict("KindReport", {
    "kind": str,
    "object": str,  # the CRM's object (Company, Account, ...)
    "rows": int,
    "inserted": int,
    "updated": int,
    "rejected": int,
    "ignored": int,
    "backfilled": int,  # older records of companies that became accounts this run
    "from": str | None,  # the checkpoint the run started from
    "watermark": str | None,  # the checkpoint after the run
    "problems": list[tuple[str, str]],  # (record id, why) of rejected records
    "unassigned": dict[str, str],  # account -> owner e-mail no Retain person has
    "status": NotRequired[str],  # ok | limited | failed
})
"""What a sync run did with one kind."""


class SyncReport(TypedDict):
    """What a sync run did: per kind, and how it ended."""

    source: str
    dry_run: bool
    kinds: list[KindReport]
    status: str  # ok | limited
    error: NotRequired[str]

def checkpoint(store: CRMStore, source: str) -> str | None:
    """Where the next run of `source` starts: the last committed page's modification time.

    A stored checkpoint that is not a time, or lies in the future, is passed over (`tools.watermarks`).
    """
    return watermarks.last_good(store, source)


def _start(store: CRMStore, source: str, watermark: str | None) -> int:
    with store.session() as s:
        run = SyncRun(source=source, started_at=datetime.now(), status="running", watermark=watermark)
        s.add(run)
        s.flush()
        return run.id


def _finish(store: CRMStore, run_id: int, status: str, error: str | None = None) -> None:
    with store.session() as s:
        run = s.get(SyncRun, run_id)
        if run is not None:
            run.status, run.finished_at = status, datetime.now()
            if error:
                run.error = (mask_secrets(error))[:2000]


class _Rollback(Exception):  # noqa: N818 - rolls a dry run back
    pass


def run(store: CRMStore, source: Source, mapping: CrmMapping, *, page_size: int = 100, dry_run: bool = False,
        full: bool = False, only: list[str] | None = None, max_pages: int = MAX_PAGES,
        progress: Callable[[str, int], None] | None = None) -> SyncReport:
    """Sync every mapped kind (or `only` these) from `source`; per kind what came in and what changed.

    `full` reads everything again (ignoring the checkpoints; still idempotent). Raises SourceError
    (AuthError, a CRM repeating its page cursor, ...) after recording the failed kind; `LimitReached`
    (the CRM's API limit, or `max_pages` pages of one kind in this run) ends the run early as
    "limited", to go on from the checkpoint next run.
    """
    kinds = [k for k in ORDER if k in mapping.kinds and (not only or k in only)]
    unknown = sorted(set(only or []) - set(mapping.kinds))
    if unknown:
        raise RetainError(f"The {source.name} mapping has no {', '.join(unknown)}; it maps {', '.join(mapping.kinds)}.")
    owners: dict[str, dict[str, str]] = {}
    out: SyncReport = {"source": source.name, "dry_run": dry_run, "kinds": [], "status": "ok"}
    if dry_run:
        try:
            with store.session() as s:
                _all(store, source, mapping, kinds, owners, page_size, full, out, s, progress, max_pages)
                raise _Rollback
        except _Rollback:
            pass
        except LimitReached as exc:
            out["status"], out["error"] = "limited", mask_secrets(str(exc))
        return out
    try:
        _all(store, source, mapping, kinds, owners, page_size, full, out, None, progress, max_pages)
    except LimitReached as exc:
        out["status"], out["error"] = "limited", mask_secrets(str(exc))
    return out


def _all(store: CRMStore, source: Source, mapping: CrmMapping, kinds: list[str], owners: dict[str, dict[str, str]],
         page_size: int, full: bool, out: SyncReport, session: Session | None,
         progress: Callable[[str, int], None] | None, max_pages: int = 0) -> None:
    new_accounts: list[str] = []
    for kind in kinds:
        om = mapping.kinds[kind]
        name = f"{source.name}:{kind}"
        since = None if full else checkpoint(store, name)
        res: KindReport = {"kind": kind, "object": om.object, "rows": 0, "inserted": 0, "updated": 0, "rejected": 0,
                           "ignored": 0, "backfilled": 0, "from": since, "watermark": since, "problems": [],
                           "unassigned": {}}
        out["kinds"].append(res)
        run_id = None if session is not None else _start(store, name, since)
        q = query_for(om)
        try:
            if not owners and any(isinstance(spec, dict) and spec.get("owner") for spec in om.fields.values()):
                owners.update(source.owners())
            for n, page in enumerate(source.pages(q, since, page_size), start=1):
                _write(store, kind, om, page, owners, res, session, run_id, new_accounts, move=True)
                if progress:
                    progress(kind, len(page))
                if max_pages and n >= max_pages:
                    raise LimitReached(f"{source.name} {om.object}: stopped after {n:,} pages this run "
                                       "(connectors.max_pages); the next run goes on from the checkpoint.")
            # Companies that became accounts this run: their older records predate the checkpoint.
            if kind != "accounts" and since is not None and new_accounts:
                for page in source.children(q, new_accounts, page_size):
                    before = res["inserted"] + res["updated"]
                    _write(store, kind, om, page, owners, res, session, run_id, [], move=False)
                    res["backfilled"] += res["inserted"] + res["updated"] - before
        except LimitReached as exc:
            res["status"] = "limited"
            if run_id is not None:
                _finish(store, run_id, "limited", str(exc))
            raise
        except SourceError as exc:
            res["status"] = "failed"
            if run_id is not None:
                _finish(store, run_id, "failed", str(exc))
            raise
        except BaseException as exc:
            if run_id is not None:
                _finish(store, run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        res["status"] = "ok"
        if run_id is not None:
            problems = "; ".join(f"{rid}: {why}" for rid, why in res["problems"][:20]) or None
            _finish(store, run_id, "ok", problems)


def _write(store: CRMStore, kind: str, om: ObjectMap, page: list[Record], owners: dict[str, dict[str, str]],
           res: KindReport, session: Session | None, run_id: int | None, new_accounts: list[str],
           move: bool) -> None:
    """Upsert one page and (when `move`) its checkpoint, in one transaction."""
    now = datetime.now(UTC)
    late = {i: why for i, r in enumerate(page) if (why := watermarks.problem(r.modified, now))}
    rows = [(i, to_row(r, om, owners)) for i, r in enumerate(page) if i not in late]
    good_times = [page[i].modified for i, _row in rows]

    def write(s: Session) -> None:
        existing: set[str] = set()
        if kind == "accounts":
            ids = [str(r["external_id"]) for _i, r in rows if r.get("external_id")]
            existing = set(s.scalars(select(Account.external_id).where(Account.external_id.in_(ids))))
        r = importer.import_rows(store, kind, rows, "record", skip_bad=True, from_crm=True, session=s)
        if kind == "accounts":
            bad = {i for i, _why in r["bad"]}
            new_accounts.extend(str(row["external_id"]) for i, row in rows
                                if i not in bad and row.get("external_id") and str(row["external_id"]) not in existing)
        res["rows"] += len(page)
        res["inserted"] += r["inserted"]
        res["updated"] += r["updated"]
        res["rejected"] += r["skipped"] + len(late)
        res["ignored"] += r["ignored"]
        res["unassigned"].update(r["unassigned"])
        res["problems"].extend((page[i].id, why) for i, why in [*late.items(), *r["bad"]])
        if move and good_times:  # never past a time that was rejected, never backwards
            res["watermark"] = max(t for t in [res["watermark"], *good_times] if t)
        if run_id is not None:
            run = s.get(SyncRun, run_id)
            if run is not None:
                run.rows_in, run.inserted, run.updated = res["rows"], res["inserted"], res["updated"]
                run.rejected, run.watermark = res["rejected"], res["watermark"]

    if session is not None:  # a dry run: one transaction for the whole run, rolled back at its end
        write(session)
        session.flush()
    else:
        with store.session() as s:
            write(s)


# ---------------------------------------------------------------- connecting
CRMS = ("hubspot", "salesforce")
_SECRET_KEYS = ("hubspot_access_token", "salesforce_access_token", "salesforce_password",
                "salesforce_security_token", "salesforce_consumer_secret")


def secrets(settings: Any) -> dict[str, str]:
    """Connector credentials: the settings (environment) first, then connectors.secrets_file."""
    c = settings.connectors
    out = {"hubspot_access_token": c.hubspot.access_token.get_secret_value(),
           "salesforce_access_token": c.salesforce.access_token.get_secret_value(),
           "salesforce_password": c.salesforce.password.get_secret_value(),
           "salesforce_security_token": c.salesforce.security_token.get_secret_value(),
           "salesforce_consumer_secret": c.salesforce.consumer_secret.get_secret_value()}
    if c.secrets_file:
        path = Path(c.secrets_file)
        if not path.is_file():
            raise RetainError(f"Connector secrets file {path} does not exist (connectors.secrets_file).")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:  # the parser's message quotes the line: it may hold a secret
            raise RetainError(f"Connector secrets file {path} is not valid YAML: write one 'name: value' per "
                              f"line ({', '.join(_SECRET_KEYS)}).") from None
        if not isinstance(data, dict):
            raise RetainError(f"Connector secrets file {path} must hold 'name: value' lines.")
        out |= {k: str(v) for k, v in data.items() if k in out and v and not out[k]}
    return out


def configured(settings: Any) -> list[str]:
    """The CRMs that have credentials (and so are synced on the schedule)."""
    try:
        sec = secrets(settings)
    except RetainError:
        return []
    sf = settings.connectors.salesforce
    out = []
    if sec["hubspot_access_token"]:
        out.append("hubspot")
    if (sf.instance_url and sec["salesforce_access_token"]) or (sf.username and sec["salesforce_password"]) or (
            sf.consumer_key and sec["salesforce_consumer_secret"]):
        out.append("salesforce")
    return out


def connect(settings: Any, crm: str, sleep: Callable[[float], None] | None = None) -> tuple[Source, CrmMapping]:
    """The adapter and mapping for one CRM, from the settings."""
    if crm not in CRMS:
        raise RetainError(f"Unknown CRM '{crm}'; use {' or '.join(CRMS)}.")
    sec = secrets(settings)
    c = settings.connectors
    if crm == "hubspot":
        return (HubSpot(sec["hubspot_access_token"], c.hubspot.base_url, sleep=sleep),
                load_mapping(crm, c.hubspot.mapping))
    sf = c.salesforce
    return (Salesforce(instance_url=sf.instance_url, access_token=sec["salesforce_access_token"],
                       username=sf.username, password=sec["salesforce_password"],
                       security_token=sec["salesforce_security_token"], consumer_key=sf.consumer_key,
                       consumer_secret=sec["salesforce_consumer_secret"], domain=sf.domain,
                       api_version=sf.api_version, ca_bundle=sf.ca_bundle, max_api_share=sf.max_api_share,
                       sleep=sleep),
            load_mapping(crm, sf.mapping))
