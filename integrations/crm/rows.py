"""The rows a CRM file may hold (accounts, contacts, contracts, tickets, notes, NPS), each checked by its schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from integrations.crm.cells import CleanRow

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


class _Row(CleanRow):
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
