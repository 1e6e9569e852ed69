"""CSV import from a real CRM: validate every row, then upsert all of them in one transaction.

A file with any bad row writes nothing (unless skip_bad), and says which lines and why.
Re-importing the same file changes nothing: rows are matched on their external id.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select

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

    _d = field_validator("last_engaged", mode="before")(_date)

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

    _d = field_validator("start_date", "renewal_date", mode="before")(_date)


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
    """An NPS response row."""

    score: int = Field(ge=0, le=10)
    comment: str | None = None
    responded_on: date

    _d = field_validator("responded_on", mode="before")(_date)


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


def import_csv(store: CRMStore, kind: str, path: Path, mapping: str | None = None,
               skip_bad: bool = False) -> dict[str, Any]:
    """Validate and upsert a CSV; return counts and the bad rows (when skip_bad)."""
    if kind not in SCHEMAS:
        raise RetainError(f"Unknown kind '{kind}'. Use one of: {', '.join(KINDS)}.")
    if not path.exists():
        raise RetainError(f"File {path} does not exist.")
    header_map = load_mapping(kind, mapping)
    schema = SCHEMAS[kind]
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise RetainError(f"{path} is empty: it needs a header line and rows.")
            raw = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError:
        raise RetainError(f"{path} is not UTF-8 text. Export it as CSV (UTF-8).") from None
    except csv.Error as exc:
        raise RetainError(f"{path} is not valid CSV: {exc}.") from None

    with store.session() as s:
        known_accounts: dict[str, int] = {e: i for e, i in s.execute(select(Account.external_id, Account.id)) if e}
        csm_emails: dict[str, int] = {e: i for e, i in s.execute(select(CSM.email, CSM.id))}
    good: list[tuple[int, _Row]] = []
    bad: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, row in raw:
        fields = {header_map.get(k, k): (v if v != "" else None) for k, v in row.items() if k}
        try:
            rec = schema.model_validate(fields)
        except ValidationError as exc:
            bad.append((line, _describe(exc)))
            continue
        if rec.external_id in seen:
            bad.append((line, f"external_id '{rec.external_id}' repeats line {seen[rec.external_id]}"))
            continue
        seen[rec.external_id] = line
        if isinstance(rec, _Child) and rec.account_external_id not in known_accounts:
            bad.append((line, f"account '{rec.account_external_id}' does not exist; import accounts first"))
            continue
        if isinstance(rec, AccountRow) and rec.owner_email and rec.owner_email not in csm_emails:
            bad.append((line, f"owner '{rec.owner_email}' is not a known CSM email"))
            continue
        good.append((line, rec))
    if bad and not skip_bad:
        raise ImportValidationError(bad, len(raw))

    inserted = updated = 0
    with store.session() as s:
        for _line, rec in good:
            obj, is_new = _upsert(s, kind, rec, known_accounts, csm_emails)
            inserted += is_new
            updated += not is_new
    return {"kind": kind, "rows": len(raw), "inserted": inserted, "updated": updated,
            "skipped": len(bad), "bad": bad}


_MODEL: dict[str, Any] = {"accounts": Account, "contacts": Contact, "contracts": Contract, "tickets": Ticket,
          "notes": Activity, "nps": SurveyResponse}


def _upsert(s: Any, kind: str, rec: _Row, accounts: dict[str, int],
            csms: dict[str, int]) -> tuple[Any, bool]:
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
        values["kind"] = "nps"
    obj = s.scalars(select(model).where(model.external_id == rec.external_id)).first()
    if obj is None:
        obj = model(**values)
        s.add(obj)
        if kind == "accounts":
            s.flush()
            accounts[rec.external_id] = obj.id
        return obj, True
    for k, v in values.items():
        setattr(obj, k, v)
    return obj, False
