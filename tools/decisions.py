"""Deciding a draft in the CRM: the decision and what approving writes, exactly once per draft id.

The shell's side effects (sending, snoozing) follow only a decision recorded here for the first time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.crm.models import CSM, Account, ActionLog, Activity, RememberedFact
from integrations.crm.store import CRMStore
from tools import access
from tools.access import Viewer


class DecidedResult(TypedDict, total=False):
    """What approving wrote: a fact (its id and text), an activity (its id, to whom) or a reminder (due, to)."""

    fact_id: int
    text: str
    activity_id: int
    to: str
    due: str


@dataclass(frozen=True)
class Decided:
    """A recorded decision: "approve" or "skip", what it wrote, and whether it had been decided already."""

    decision: str
    already_done: bool
    result: DecidedResult = field(default_factory=DecidedResult)
    click: str = ""
    """What asked for the decision on record (e.g. a Slack click's inbox key), "" when not said."""


def _decided(row: ActionLog) -> Decided:
    """A recorded decision as it was first made (the click that made it is kept beside what it wrote)."""
    result = dict(row.result or {})
    click = str(result.pop("click", "") or "")
    return Decided(row.decision, True, cast(DecidedResult, result), click)


def recorded(store: CRMStore, draft_id: str) -> Decided | None:
    """The decision on record for a draft, or None while it is undecided."""
    with store.session() as s:
        row = s.get(ActionLog, draft_id)
        return None if row is None else _decided(row)


def record(store: CRMStore, viewer: Viewer, draft: Mapping[str, Any], choice: str, text: str, today: date,
           origin: str = "", click: str = "") -> Decided:
    """Record `choice` (approve | edit | skip) on a draft, with what approving writes, in one transaction.

    Approving a fact saves it as a remembered fact; a follow-up, message or meeting is logged as an
    activity by the account's owner. A draft decided before (or concurrently: the first one wins)
    comes back with `already_done` and its first decision, and nothing is written again. Raises
    AccessDenied when approving on an account the viewer may not see. `click` names what asked (kept
    with the decision, so a retried click can tell its own decision from another click's).
    """
    with store.session() as s:
        prior = s.get(ActionLog, draft["id"])
        if prior is not None:
            return _decided(prior)
        result: DecidedResult = {}
        if choice in ("approve", "edit"):
            name = s.scalar(select(Account.name).where(Account.id == draft["account_id"])) or ""
            access.check(store, viewer, draft["account_id"], name)
            if draft["kind"] == "fact":
                fact = RememberedFact(account_id=draft["account_id"], text=text, said_by=viewer.name,
                                      said_at=datetime.now().replace(microsecond=0), origin=origin)
                s.add(fact)
                s.flush()
                result = {"fact_id": fact.id, "text": text}
            elif draft["kind"] in ("follow_up", "message", "meeting"):
                author = s.scalar(select(CSM.name).join(Account, Account.owner_id == CSM.id)
                                  .where(Account.id == draft["account_id"])) or viewer.name
                act = Activity(account_id=draft["account_id"], kind="slack" if draft.get("draft_kind") == "slack"
                               else "email", occurred_on=today,
                               author=author, subject=draft["subject"], body=f"To: {draft.get('to', '')}\n\n{text}")
                s.add(act)
                s.flush()
                result = {"activity_id": act.id, "to": draft.get("to", "")}
            elif draft["kind"] == "reminder":
                result = {"due": draft.get("when", ""), "to": draft.get("to", "")}
        decision = "skip" if choice == "skip" else "approve"
        s.add(ActionLog(draft_id=draft["id"], kind=draft["kind"], decision=decision, decided_by=viewer.name,
                        decided_at=datetime.now(),
                        result={**result, "click": click} if click else result))
        try:
            s.commit()
        except IntegrityError:  # the same draft decided concurrently: the first one won
            s.rollback()
            prior = s.get(ActionLog, draft["id"])
            return _decided(prior) if prior else Decided(choice, True)
    return Decided(decision, False, result, click)
