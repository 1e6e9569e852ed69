"""An account's written records (notes, tickets, survey comments, contacts) as typed values agents can cite.

Every function checks, in code, that the viewer may see the account before reading anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from integrations.crm.models import CSM, Account, Activity, Contact, SurveyResponse, Ticket
from tools import access
from tools.context import Source, ToolContext, src


@dataclass(frozen=True)
class Record:
    """One written record: a note or call (activity), a ticket or a survey comment."""

    type: str  # "activity" | "ticket" | "nps"
    n: int  # the record's id in its table
    date: str  # ISO date it was written (a ticket's opening day)
    label: str  # its subject (a survey answer: "NPS 9")
    text: str  # what it says (a ticket: "subject. body")
    score: int | None = None  # a survey answer's score
    body: str = ""  # a ticket's body alone

    @property
    def id(self) -> str:
        """The record's id across kinds, e.g. "activity:12" (what a model cites)."""
        return f"{self.type}:{self.n}"

    @property
    def source(self) -> Source:
        """The record as a citable source."""
        return src(self.type, self.n, self.date, self.label)


def _check(ctx: ToolContext, account_id: int) -> None:
    access.check(ctx.store, ctx.viewer, account_id, "That account")  # no name: the asker may not see it


def notes(ctx: ToolContext, account_id: int, days: int = 365, limit: int | None = 12,
          upto_today: bool = True) -> list[Record]:
    """The account's notes and calls of the last `days` days (up to today, unless not `upto_today`), newest first."""
    _check(ctx, account_id)
    since = ctx.as_of - timedelta(days=days)
    stmt = select(Activity).where(Activity.account_id == account_id, Activity.occurred_on >= since)
    if upto_today:
        stmt = stmt.where(Activity.occurred_on <= ctx.as_of)
    with ctx.store.session() as s:
        rows = s.scalars(stmt.order_by(Activity.occurred_on.desc()).limit(limit)).all()
        return [Record("activity", a.id, a.occurred_on.isoformat(), a.subject, a.body) for a in rows]


def tickets(ctx: ToolContext, account_id: int, days: int = 365, limit: int = 6) -> list[Record]:
    """The account's tickets opened in the last `days` days, newest first (text: subject and body)."""
    _check(ctx, account_id)
    since = ctx.as_of - timedelta(days=days)
    with ctx.store.session() as s:
        rows = s.scalars(select(Ticket).where(Ticket.account_id == account_id, Ticket.opened_at >= since)
                         .order_by(Ticket.opened_at.desc()).limit(limit)).all()
        return [_ticket(t) for t in rows]


def open_tickets(ctx: ToolContext, account_id: int) -> list[Record]:
    """The account's tickets not closed, newest first."""
    _check(ctx, account_id)
    with ctx.store.session() as s:
        rows = s.scalars(select(Ticket).where(Ticket.account_id == account_id, Ticket.status != "closed")
                         .order_by(Ticket.opened_at.desc())).all()
        return [_ticket(t) for t in rows]


def _ticket(t: Ticket) -> Record:
    return Record("ticket", t.id, t.opened_at.date().isoformat(), t.subject, f"{t.subject}. {t.body}", body=t.body)


def survey_comments(ctx: ToolContext, account_id: int, days: int = 365, limit: int = 4) -> list[Record]:
    """The account's survey answers with a comment from the last `days` days, newest first."""
    _check(ctx, account_id)
    since = ctx.as_of - timedelta(days=days)
    with ctx.store.session() as s:
        rows = s.scalars(select(SurveyResponse).where(SurveyResponse.account_id == account_id,
                                                      SurveyResponse.responded_on >= since,
                                                      SurveyResponse.comment.is_not(None))
                         .order_by(SurveyResponse.responded_on.desc()).limit(limit)).all()
        return [Record("nps", r.id, r.responded_on.isoformat(), f"NPS {r.score}", r.comment or "", r.score)
                for r in rows]


@dataclass(frozen=True)
class Person:
    """A contact at the account."""

    id: int
    name: str
    role: str | None
    email: str | None
    champion: bool
    left_on: date | None


def contacts(ctx: ToolContext, account_id: int, current: bool = False) -> list[Person]:
    """The account's contacts (only those who have not left, with `current`), in the CRM's order."""
    _check(ctx, account_id)
    stmt = select(Contact).where(Contact.account_id == account_id)
    if current:
        stmt = stmt.where(Contact.left_on.is_(None))
    with ctx.store.session() as s:
        return [Person(c.id, c.name, c.role, c.email, bool(c.is_champion), c.left_on) for c in s.scalars(stmt)]


def account_name(ctx: ToolContext, account_id: int) -> str | None:
    """The account's name, or None when there is no such account."""
    _check(ctx, account_id)
    with ctx.store.session() as s:
        return s.scalar(select(Account.name).where(Account.id == account_id))


def owner_name(ctx: ToolContext, account_id: int) -> str | None:
    """The name of the CSM who owns the account, if any."""
    _check(ctx, account_id)
    with ctx.store.session() as s:
        return s.scalar(select(CSM.name).join(Account, Account.owner_id == CSM.id).where(Account.id == account_id))


def sentences(text: str) -> list[str]:
    """A record's sentences (split at sentence ends and line breaks), without surrounding quotes."""
    return [t.strip().strip("'\"") for t in re.split(r"(?<=[.!?])\s+|\n+", text) if t.strip()]


@dataclass(frozen=True)
class Mention:
    """A sentence of a record that matched what was looked for."""

    record: Record
    sentence: str


def mentions(records: list[Record], pattern: re.Pattern[str], limit: int = 5) -> list[Mention]:
    """Sentences of `records` matching `pattern` (one per record, in the records' order)."""
    out: list[Mention] = []
    for rec in records:
        hit = next((s for s in sentences(rec.text) if pattern.search(s)), None)
        if hit is not None:
            out.append(Mention(rec, hit[:240]))
        if len(out) >= limit:
            break
    return out

