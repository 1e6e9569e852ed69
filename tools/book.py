"""Records across a book of accounts (what changed since a day), for the morning briefing.

Callers pass the ids of accounts the viewer may see (`ToolContext.visible`); nothing here widens them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from integrations.crm.models import CSM, Account, SurveyResponse, Ticket
from integrations.crm.store import CRMStore


@dataclass(frozen=True)
class Answer:
    """A survey answer."""

    id: int
    account_id: int
    score: int
    day: date
    comment: str


@dataclass(frozen=True)
class NewTicket:
    """A ticket opened in the window."""

    id: int
    account_id: int
    priority: str
    subject: str
    opened: date


def detractors(store: CRMStore, ids: list[int], since: date, today: date) -> list[Answer]:
    """NPS answers of 6 or less given after `since` (up to today) by the accounts `ids`."""
    with store.session() as s:
        return [Answer(r.id, r.account_id, r.score, r.responded_on, r.comment or "")
                for r in s.scalars(select(SurveyResponse).where(
                    SurveyResponse.account_id.in_(ids), SurveyResponse.kind == "nps", SurveyResponse.score <= 6,
                    SurveyResponse.responded_on > since, SurveyResponse.responded_on <= today))]


def new_tickets(store: CRMStore, ids: list[int], since: date, today: date) -> dict[int, list[NewTicket]]:
    """Tickets opened after `since` (through today), per account of `ids`."""
    out: dict[int, list[NewTicket]] = {}
    with store.session() as s:
        for t in s.scalars(select(Ticket).where(Ticket.account_id.in_(ids), Ticket.opened_at > since,
                                                Ticket.opened_at <= today + timedelta(days=1))):
            out.setdefault(t.account_id, []).append(NewTicket(t.id, t.account_id, t.priority, t.subject,
                                                              t.opened_at.date()))
    return out


def owners(store: CRMStore, ids: list[int]) -> dict[int, int | None]:
    """Each account's owner (a CSM id)."""
    with store.session() as s:
        return {r[0]: r[1] for r in s.execute(select(Account.id, Account.owner_id).where(Account.id.in_(ids)))}


def csm_names(store: CRMStore) -> dict[int, str]:
    """Every CSM's name, by id."""
    with store.session() as s:
        return {r[0]: r[1] for r in s.execute(select(CSM.id, CSM.name))}


def every_account_name(store: CRMStore) -> list[str]:
    """The name of every account, churned ones included (what a briefing's prose must not invent)."""
    with store.session() as s:
        return list(s.scalars(select(Account.name)))
