"""An account's written records (notes, tickets, survey comments, contacts) as typed values agents can cite.

Every function checks, in code, that the viewer may see the account before reading anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from integrations.crm.models import Activity, SurveyResponse, Ticket
from tools import access
from tools.crm import Source, ToolContext, src


@dataclass(frozen=True)
class Record:
    """One written record: a note or call (activity), a ticket or a survey comment."""

    type: str  # "activity" | "ticket" | "nps"
    n: int  # the record's id in its table
    date: str  # ISO date it was written (a ticket's opening day)
    label: str  # its subject (a survey answer: "NPS 9")
    text: str  # what it says
    score: int | None = None  # a survey answer's score

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


def notes(ctx: ToolContext, account_id: int, days: int = 365, limit: int = 12) -> list[Record]:
    """The account's notes and calls of the last `days` days (up to today), newest first."""
    _check(ctx, account_id)
    since = ctx.as_of - timedelta(days=days)
    with ctx.store.session() as s:
        rows = s.scalars(select(Activity).where(Activity.account_id == account_id, Activity.occurred_on >= since,
                                                Activity.occurred_on <= ctx.as_of)
                         .order_by(Activity.occurred_on.desc()).limit(limit)).all()
        return [Record("activity", a.id, a.occurred_on.isoformat(), a.subject, a.body) for a in rows]


def tickets(ctx: ToolContext, account_id: int, days: int = 365, limit: int = 6) -> list[Record]:
    """The account's tickets opened in the last `days` days, newest first (text: subject and body)."""
    _check(ctx, account_id)
    since = ctx.as_of - timedelta(days=days)
    with ctx.store.session() as s:
        rows = s.scalars(select(Ticket).where(Ticket.account_id == account_id, Ticket.opened_at >= since)
                         .order_by(Ticket.opened_at.desc()).limit(limit)).all()
        return [Record("ticket", t.id, t.opened_at.date().isoformat(), t.subject, f"{t.subject}. {t.body}")
                for t in rows]


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

