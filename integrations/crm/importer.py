"""CSV import from a real CRM: validate every row, then upsert all of them in one transaction.

A file with any bad row writes nothing (unless skip_bad), and says which lines and why.
Re-importing the same file changes nothing: rows are matched on their external id.
A row for a record that exists changes only the columns the file has: a missing column keeps its
value (the row is checked as the record with the file's cells laid over it), a blank cell in a
present column clears the value and is counted in the result's `cleared`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from configs import CONFIG_DIR
from core.errors import ImportValidationError, RetainError
from integrations.crm import rows
from integrations.crm.cells import fitted, lookalikes, misfit
from integrations.crm.files import iter_rows
from integrations.crm.models import CSM, Account, Activity, Contact, Contract, SurveyResponse, Ticket
from integrations.crm.rows import AccountRow, NpsRow, _Child, _Row
from integrations.crm.store import CRMStore

KINDS, SCHEMAS = rows.KINDS, rows.SCHEMAS


def load_mapping(kind: str, mapping: str | None) -> dict[str, str]:
    """Header -> field for a kind: 'salesforce', 'hubspot', a YAML file, or none (native names)."""
    if not mapping:
        return {}
    path = CONFIG_DIR / "mappings" / f"{mapping}.yaml"
    if not path.exists():
        path = Path(mapping)
    if not path.exists():
        raise RetainError(f"Mapping '{mapping}' not found. Use salesforce, hubspot, or a YAML file path.")
    data = yaml.safe_load(path.read_text()) or {}
    return dict(data.get(kind, {}))


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e["loc"]) or "row"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def as_row(obj: Any, fields: Iterable[str], refs: dict[str, tuple[str, dict[int, str]]]) -> dict[str, Any]:
    """A stored record as an import row: its own columns, references by external id, times as dates.

    `refs`: a reference field -> (the record's id column, id -> external id).
    """
    out: dict[str, Any] = {}
    for f in fields:
        if f in refs:
            attr, names = refs[f]
            rid = getattr(obj, attr, None)
            out[f] = names.get(rid) if rid is not None else None
        elif hasattr(obj, f):
            v = getattr(obj, f)
            out[f] = v.date() if isinstance(v, datetime) else v
    return out


def overlay(existing: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The row to check: the stored record's values with the file's cells laid over them."""
    return fields if existing is None else {**existing, **fields}


def count_cleared(cleared: dict[str, int], existing: dict[str, Any] | None, fields: dict[str, Any]) -> None:
    """Count the blank cells of present columns that empty a value the record had."""
    if existing is None:
        return
    for k, v in fields.items():
        if v is None and existing.get(k) not in (None, "", {}, []):
            cleared[k] = cleared.get(k, 0) + 1


class ImportResult(TypedDict):
    """What importing one kind did: counts, bad rows (line, why), cleared cells per field, look-alike warnings."""

    kind: str
    rows: int
    inserted: int
    updated: int
    skipped: int
    bad: list[tuple[int, str]]
    cleared: dict[str, int]
    warnings: list[tuple[int, str]]
    ignored: NotRequired[int]  # children of records that are not accounts (a CRM's prospects)
    unassigned: NotRequired[dict[str, str]]  # account -> an owner e-mail no Retain person has
    unread: NotRequired[list[str]]  # a file's columns that name no field of its kind (file imports)


def import_csv(store: CRMStore, kind: str, path: Path, mapping: str | None = None,
               skip_bad: bool = False) -> ImportResult:
    """Validate and upsert a CSV or Parquet file; return counts and the bad rows (when skip_bad)."""
    if kind not in SCHEMAS:
        raise RetainError(f"Unknown kind '{kind}'. Use one of: {', '.join(KINDS)}.")
    header_map = load_mapping(kind, mapping)
    raw, unit = iter_rows(path)
    fields = SCHEMAS[kind].model_fields
    unread: dict[str, None] = {}  # the file's columns that name no field of this kind (kept in file order)

    def named() -> Iterator[tuple[int, dict[str, Any]]]:
        for n, (line, row) in enumerate(raw):
            if n == 0:
                unread.update((k, None) for k in row if k and header_map.get(k, k) not in fields)
            yield line, {header_map.get(k, k): (v if v != "" else None) for k, v in row.items() if k}

    result = import_rows(store, kind, named(), unit, skip_bad=skip_bad)
    return {**result, "unread": list(unread)}


def chunks(rows: Iterable[Any], size: int = 2_000) -> Iterator[list[Any]]:
    """`rows` in lists of `size` (a big file is checked a chunk at a time)."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def import_rows(store: CRMStore, kind: str, rows: Iterable[tuple[int, dict[str, Any]]], unit: str = "line", *,
                skip_bad: bool = False, from_crm: bool = False, session: Session | None = None) -> ImportResult:
    """Validate and upsert rows already named by Retain's fields; counts, and the bad rows (when skip_bad).

    `from_crm` is how a scheduled connector reads a whole CRM: a child of a record that is not a Retain
    account (a prospect's contact) is `ignored`, not bad; an account whose owner is not a Retain CSM
    comes in unassigned (listed in `unassigned`) rather than not at all; a record seen twice keeps its
    last version. `session`: write in the caller's transaction (a connector commits a page with its
    checkpoint; a dry run rolls it back). Rows are read as they come: once a row is bad (and not
    skip_bad) the good ones are no longer kept, only counted, so a big bad file stays small in memory.
    Look-alike text (`integrations.crm.cells`) is imported and listed in `warnings`.
    """
    schema = SCHEMAS[kind]
    with nullcontext(session) if session is not None else store.session() as s:
        known_accounts: dict[str, int] = {e: i for e, i in s.execute(select(Account.external_id, Account.id)) if e}
        csm_emails: dict[str, int] = {e: i for e, i in s.execute(select(CSM.email, CSM.id))}
        contacts = {e for (e,) in s.execute(select(Contact.external_id)) if e} if kind == "nps" else set()
    good: dict[str, tuple[int, _Row, set[str]]] = {}
    seen: dict[str, int] = {}
    bad: list[tuple[int, str]] = []
    warnings: list[tuple[int, str]] = []
    ignored = total = 0
    unassigned: dict[str, str] = {}
    cleared: dict[str, int] = {}
    for chunk in chunks(rows):
        with nullcontext(session) if session is not None else store.session() as s:
            stored = _stored(s, kind, [str(f.get("external_id") or "").strip() for _, f in chunk], known_accounts,
                             csm_emails)
        for line, fields in chunk:
            total += 1
            if from_crm and issubclass(schema, _Child) and not fields.get("account_external_id"):
                ignored += 1  # a CRM record of no company (a lone contact): nothing of an account's
                continue
            before = stored.get(str(fields.get("external_id") or "").strip())
            present = {k for k in fields if k in schema.model_fields}
            try:
                rec = schema.model_validate(overlay(before, fields))
            except ValidationError as exc:
                bad.append((line, _describe(exc)))
                continue
            table = _MODEL[kind].__table__
            if from_crm:  # a CRM's long subject or name is cut to fit, not a reason to drop the record
                rec = rec.model_copy(update=fitted(rec.model_dump(), table))
            why = misfit(rec.model_dump(), table)
            if why:
                bad.append((line, why))
                continue
            if rec.external_id in seen and not from_crm:
                bad.append((line, f"external_id '{rec.external_id}' repeats {unit} {seen[rec.external_id]}"))
                continue
            seen[rec.external_id] = line
            if isinstance(rec, _Child) and rec.account_external_id not in known_accounts:
                if from_crm:
                    ignored += 1
                    continue
                bad.append((line, f"account '{rec.account_external_id}' does not exist; import accounts first"))
                continue
            if isinstance(rec, NpsRow) and rec.contact_external_id and rec.contact_external_id not in contacts:
                bad.append((line, f"contact '{rec.contact_external_id}' does not exist; import contacts first"))
                continue
            if isinstance(rec, AccountRow) and rec.owner_email and rec.owner_email not in csm_emails:
                if not from_crm:
                    bad.append((line, f"owner '{rec.owner_email}' is not a known CSM email"))
                    continue
                unassigned[rec.name] = rec.owner_email
                rec = rec.model_copy(update={"owner_email": None})
            if bad and not skip_bad:
                continue  # nothing will be written: check the rest, keep nothing
            count_cleared(cleared, before, {k: fields[k] for k in present})
            warnings.extend((line, w) for w in lookalikes({k: fields[k] for k in present}))
            good[rec.external_id] = (line, rec, present)
    if bad and not skip_bad:
        raise ImportValidationError(bad, total, unit)

    inserted = updated = 0

    def write(s: Session) -> None:
        nonlocal inserted, updated
        for _line, rec, present in good.values():
            _obj, is_new = _upsert(s, kind, rec, known_accounts, csm_emails, present)
            inserted += is_new is True
            updated += is_new is False

    with nullcontext(session) if session is not None else store.session() as s:
        write(s)
    return {"kind": kind, "rows": total, "inserted": inserted, "updated": updated, "skipped": len(bad),
            "bad": bad, "ignored": ignored, "unassigned": unassigned, "cleared": cleared, "warnings": warnings}


_MODEL: dict[str, Any] = {"accounts": Account, "contacts": Contact, "contracts": Contract, "tickets": Ticket,
          "notes": Activity, "nps": SurveyResponse}


_REFS = {"account_external_id": "account_id", "owner_email": "owner_id", "contact_external_id": "contact_id"}


def _stored(s: Session, kind: str, exts: list[str], accounts: dict[str, int],
            csms: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The records these external ids name that exist, as import rows (by external id)."""
    model, schema = _MODEL[kind], SCHEMAS[kind]
    wanted = sorted({e for e in exts if e})
    objs = [o for k in range(0, len(wanted), 500)
            for o in s.scalars(select(model).where(model.external_id.in_(wanted[k:k + 500])))]
    if not objs:
        return {}
    refs: dict[str, tuple[str, dict[int, str]]] = {
        "account_external_id": ("account_id", {i: e for e, i in accounts.items()}),
        "owner_email": ("owner_id", {i: e for e, i in csms.items()})}
    if kind == "nps":
        refs["contact_external_id"] = ("contact_id", {i: e for i, e in s.execute(
            select(Contact.id, Contact.external_id).where(Contact.id.in_({o.contact_id for o in objs}))) if e})
    return {o.external_id: as_row(o, schema.model_fields, refs) for o in objs}


def _upsert(s: Any, kind: str, rec: _Row, accounts: dict[str, int],
            csms: dict[str, int], present: set[str] | None = None) -> tuple[Any, bool | None]:
    """Insert or update one record: (it, True when new, False when changed, None when already the same).

    An existing record changes only in the `present` columns (all when None).
    """
    model = _MODEL[kind]
    values = rec.model_dump()
    keep = None if present is None else {_REFS.get(k, k) for k in present}
    if "account_external_id" in values:
        values["account_id"] = accounts[values.pop("account_external_id")]
    if kind == "accounts":
        email = values.pop("owner_email")
        values["owner_id"] = csms.get(email) if email else None
    if kind == "tickets":
        values["opened_at"] = datetime.combine(values["opened_at"], datetime.min.time())
        if values["closed_at"]:
            values["closed_at"] = datetime.combine(values["closed_at"], datetime.min.time())
    if kind == "nps":
        ext = values.pop("contact_external_id", None)
        values["contact_id"] = s.scalar(select(Contact.id).where(Contact.external_id == ext)) if ext else None
    obj = s.scalars(select(model).where(model.external_id == rec.external_id)).first()
    if obj is None:
        obj = model(**values)
        s.add(obj)
        if kind == "accounts":
            s.flush()
            accounts[rec.external_id] = obj.id
        return obj, True
    changed = False
    for k, v in values.items():
        if keep is not None and k not in keep:
            continue
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return obj, False if changed else None
