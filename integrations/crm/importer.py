"""CSV import from a real CRM: validate every row, then upsert all of them in one transaction.

A file with any bad row writes nothing (unless skip_bad), and says which lines and why.
Re-importing the same file changes nothing: rows are matched on their external id.
"""

from __future__ import annotations

import csv
import re
from contextlib import nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from configs import CONFIG_DIR
from core.errors import ImportValidationError, RetainError
from integrations.crm.models import CSM, Account, Activity, Contact, Contract, SurveyResponse, Ticket
from integrations.crm.store import CRMStore

KINDS = ["accounts", "contacts", "contracts", "tickets", "notes", "nps"]


def _date(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        if not v:
            return None
        for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f%z"):
            try:
                return datetime.strptime(v, fmt).date()
            except ValueError:
                continue
        try:  # any other ISO-8601 time (2026-11-03T10:00:00+00:00, ...T10:00:00.000+0000 from Salesforce)
            return datetime.fromisoformat(v.replace("Z", "+00:00")).date()
        except ValueError:
            pass
        raise ValueError(f"'{v}' is not a date (use YYYY-MM-DD)")
    return v


class _Row(BaseModel):
    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    external_id: str = Field(min_length=1)


class AccountRow(_Row):
    """An account row."""

    name: str = Field(min_length=1)
    domain: str | None = None
    segment: Literal["enterprise", "mid-market", "SMB"] = "mid-market"
    industry: str | None = None
    arr: float = Field(0.0, ge=0)
    owner_email: str | None = None
    lifecycle_stage: str = "adopted"
    created_on: date | None = None

    _c = field_validator("created_on", mode="before")(_date)

    @field_validator("segment", mode="before")
    @classmethod
    def _seg(cls, v: Any) -> Any:
        if not v:
            return "mid-market"
        key = str(v).strip().lower().replace(" ", "-").replace("_", "-")
        return {"enterprise": "enterprise", "mid-market": "mid-market", "midmarket": "mid-market",
                "smb": "SMB", "small-business": "SMB"}.get(key, v)

    @field_validator("arr", mode="before")
    @classmethod
    def _money(cls, v: Any) -> Any:
        return str(v).replace("$", "").replace(",", "").strip() or 0 if v is not None else 0


class _Child(_Row):
    account_external_id: str = Field(min_length=1)


class ContactRow(_Child):
    """A contact row."""

    name: str = Field(min_length=1)
    email: str | None = None
    role: str | None = None
    is_champion: bool = False
    last_engaged: date | None = None
    left_on: date | None = None  # the day they left the company

    _d = field_validator("last_engaged", "left_on", mode="before")(_date)

    @field_validator("is_champion", mode="before")
    @classmethod
    def _bool(cls, v: Any) -> Any:
        return str(v).strip().lower() in ("1", "true", "yes", "y", "x") if v is not None else False


class ContractRow(_Child):
    """A contract row."""

    plan: str = Field(min_length=1)
    start_date: date
    renewal_date: date
    arr: float = Field(ge=0)
    seats: int = Field(ge=0)
    status: Literal["active", "expired", "cancelled"] = "active"

    _d = field_validator("start_date", "renewal_date", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "active").strip().lower()
        return {"canceled": "cancelled", "ended": "expired", "closed won": "active"}.get(s, s)


class TicketRow(_Child):
    """A support ticket row."""

    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    status: Literal["open", "pending", "closed"] = "open"
    opened_at: date
    closed_at: date | None = None
    subject: str = Field(min_length=1)
    body: str = ""

    _d = field_validator("opened_at", "closed_at", mode="before")(_date)

    @field_validator("priority", "status", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        v = str(v or "").strip().lower()
        return {"medium": "normal", "new": "open", "waiting on contact": "pending",
                "in progress": "open", "resolved": "closed"}.get(v, v) or None


class NoteRow(_Child):
    """An activity/note row."""

    kind: Literal["meeting", "email", "call", "note"] = "note"
    occurred_on: date
    author: str = "imported"
    subject: str = ""
    body: str = Field(min_length=1)

    _d = field_validator("occurred_on", mode="before")(_date)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        v = str(v or "note").strip().lower()
        return {"task": "note", "meetings": "meeting", "emails": "email", "calls": "call"}.get(v, v)


class NpsRow(_Child):
    """A survey answer: NPS (0-10, the default) or CSAT (1-5), optionally from a known contact."""

    kind: Literal["nps", "csat"] = "nps"
    score: int = Field(ge=0, le=10)
    comment: str | None = None
    responded_on: date
    contact_external_id: str | None = None

    _d = field_validator("responded_on", mode="before")(_date)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        return str(v or "nps").strip().lower()

    @field_validator("score", mode="after")
    @classmethod
    def _range(cls, v: int, info: Any) -> int:
        if info.data.get("kind") == "csat" and not 1 <= v <= 5:
            raise ValueError("a CSAT score is 1 to 5")
        return v


SCHEMAS: dict[str, type[_Row]] = {"accounts": AccountRow, "contacts": ContactRow,
                                  "contracts": ContractRow, "tickets": TicketRow,
                                  "notes": NoteRow, "nps": NpsRow}


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


# OWASP's CSV injection guidance: a cell starting with one of these is a formula to a spreadsheet.
_FORMULA = re.compile("^'*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")
_ESCAPED = re.compile("^'+[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a formula-like value gets a leading `'`.

    Values already starting with quotes before a formula character get one more, so `spreadsheet_value`
    (what `read_rows` applies) gives back exactly the original for every string.
    """
    return "'" + value if _FORMULA.match(value) else value


def spreadsheet_value(cell: str) -> str:
    """The value `spreadsheet_safe` protected: one leading `'` before a formula character removed."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """The rows of a CSV or Parquet file, each with its number, and what the number counts ("line", "row").

    CSV: UTF-8 with a header line (line numbers as an editor shows them); a cell `'=...` (a formula
    that `retain export` or a spreadsheet protected as text) reads as `=...`. Parquet (`.parquet`): row
    numbers from 1. Empty cells are None either way.
    """
    if not path.is_file():
        raise RetainError(f"File {path} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
            raise RetainError(f"{path} is not a readable Parquet file ({type(exc).__name__}). "
                              "Write it with pandas.DataFrame.to_parquet or pyarrow.") from None
        return [(i, {k: (None if v == "" else v) for k, v in row.items()})
                for i, row in enumerate(table.to_pylist(), start=1)], "row"
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise RetainError(f"{path} is empty: it needs a header line and rows.")
            return [(reader.line_num, {k: spreadsheet_value(v) if isinstance(v, str) else v for k, v in row.items()})
                    for row in reader], "line"
    except UnicodeDecodeError:
        raise RetainError(f"{path} is not UTF-8 text. Export it as CSV (UTF-8).") from None
    except csv.Error as exc:
        raise RetainError(f"{path} is not valid CSV: {exc}.") from None


def import_csv(store: CRMStore, kind: str, path: Path, mapping: str | None = None,
               skip_bad: bool = False) -> dict[str, Any]:
    """Validate and upsert a CSV or Parquet file; return counts and the bad rows (when skip_bad)."""
    if kind not in SCHEMAS:
        raise RetainError(f"Unknown kind '{kind}'. Use one of: {', '.join(KINDS)}.")
    header_map = load_mapping(kind, mapping)
    raw, unit = read_rows(path)
    rows = [(line, {header_map.get(k, k): (v if v != "" else None) for k, v in row.items() if k})
            for line, row in raw]
    return import_rows(store, kind, rows, unit, skip_bad=skip_bad)


def import_rows(store: CRMStore, kind: str, rows: list[tuple[int, dict[str, Any]]], unit: str = "line", *,
                skip_bad: bool = False, from_crm: bool = False, session: Session | None = None) -> dict[str, Any]:
    """Validate and upsert rows already named by Retain's fields; counts, and the bad rows (when skip_bad).

    `from_crm` is how a scheduled connector reads a whole CRM: a child of a record that is not a Retain
    account (a prospect's contact) is `ignored`, not bad; an account whose owner is not a Retain CSM
    comes in unassigned (listed in `unassigned`) rather than not at all; a record seen twice keeps its
    last version. `session`: write in the caller's transaction (a connector commits a page with its
    checkpoint; a dry run rolls it back).
    """
    schema = SCHEMAS[kind]
    with nullcontext(session) if session is not None else store.session() as s:
        known_accounts: dict[str, int] = {e: i for e, i in s.execute(select(Account.external_id, Account.id)) if e}
        csm_emails: dict[str, int] = {e: i for e, i in s.execute(select(CSM.email, CSM.id))}
        contacts = {e for (e,) in s.execute(select(Contact.external_id)) if e} if kind == "nps" else set()
    good: dict[str, tuple[int, _Row]] = {}
    bad: list[tuple[int, str]] = []
    ignored = 0
    unassigned: dict[str, str] = {}
    for line, fields in rows:
        if from_crm and issubclass(schema, _Child) and not fields.get("account_external_id"):
            ignored += 1  # a CRM record of no company (a lone contact): nothing of an account's
            continue
        try:
            rec = schema.model_validate(fields)
        except ValidationError as exc:
            bad.append((line, _describe(exc)))
            continue
        if rec.external_id in good and not from_crm:
            bad.append((line, f"external_id '{rec.external_id}' repeats {unit} {good[rec.external_id][0]}"))
            continue
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
        good[rec.external_id] = (line, rec)
    if bad and not skip_bad:
        raise ImportValidationError(bad, len(rows), unit)

    inserted = updated = 0

    def write(s: Session) -> None:
        nonlocal inserted, updated
        for _line, rec in good.values():
            _obj, is_new = _upsert(s, kind, rec, known_accounts, csm_emails)
            inserted += is_new is True
            updated += is_new is False

    with nullcontext(session) if session is not None else store.session() as s:
        write(s)
    return {"kind": kind, "rows": len(rows), "inserted": inserted, "updated": updated,
            "skipped": len(bad), "bad": bad, "ignored": ignored, "unassigned": unassigned}


_MODEL: dict[str, Any] = {"accounts": Account, "contacts": Contact, "contracts": Contract, "tickets": Ticket,
          "notes": Activity, "nps": SurveyResponse}


def _upsert(s: Any, kind: str, rec: _Row, accounts: dict[str, int],
            csms: dict[str, int]) -> tuple[Any, bool | None]:
    """Insert or update one record: (it, True when new, False when changed, None when already the same)."""
    model = _MODEL[kind]
    values = rec.model_dump()
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
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return obj, False if changed else None
