"""Deciding a drafted action: approve (or edit) runs it exactly once, skip records it; only the right people."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agents.state import ActionResult, Deps, Draft
from core.errors import NotFoundError
from integrations.crm.models import CSM, Account, ActionLog, Activity, RememberedFact
from tools import access


def execute(deps: Deps, who: str, draft: Draft, decision: Any) -> ActionResult:
    """Run an approved draft exactly once (keyed by its id); a skip is recorded too.

    `who` is the person deciding. Only the account's owner, their manager or an admin may decide
    (checked here too, not only by the caller); anyone else changes nothing.
    """
    if isinstance(decision, str):
        decision = {"decision": decision}
    choice = str(decision.get("decision", "skip")).lower()
    if choice not in ("approve", "edit", "skip"):
        choice = "skip"
    text = (decision.get("text") or draft.get("body") or "").strip()
    store = deps.services.store
    try:
        viewer = deps.services.viewer(who)
    except NotFoundError:
        viewer = None
    if viewer is None or not access.may_decide(store, viewer, draft["account_id"]):
        return {"draft_id": draft["id"], "kind": draft["kind"], "decision": "refused", "already_done": False}
    by = viewer.name
    with store.session() as s:
        prior = s.get(ActionLog, draft["id"])
        if prior is not None:
            return {"draft_id": draft["id"], "kind": draft["kind"], "decision": prior.decision,
                    "already_done": True, **cast(ActionResult, prior.result)}
        result: ActionResult = {}
        if choice in ("approve", "edit"):
            name = s.scalar(select(Account.name).where(Account.id == draft["account_id"])) or ""
            access.check(store, viewer, draft["account_id"], name)
            if draft["kind"] == "fact":
                fact = RememberedFact(account_id=draft["account_id"], text=text, said_by=by,
                                      said_at=datetime.now().replace(microsecond=0), origin=decision.get("origin", ""))
                s.add(fact)
                s.flush()
                result = {"fact_id": fact.id, "text": text}
            elif draft["kind"] in ("follow_up", "message", "meeting"):
                author = s.scalar(select(CSM.name).join(Account, Account.owner_id == CSM.id)
                                  .where(Account.id == draft["account_id"])) or by
                act = Activity(account_id=draft["account_id"], kind="slack" if draft.get("draft_kind") == "slack"
                               else "email", occurred_on=deps.services.settings.as_of(),
                               author=author, subject=draft["subject"], body=f"To: {draft.get('to', '')}\n\n{text}")
                s.add(act)
                s.flush()
                result = {"activity_id": act.id, "to": draft.get("to", "")}
            elif draft["kind"] == "reminder":
                result = {"due": draft.get("when", ""), "to": draft.get("to", "")}
        s.add(ActionLog(draft_id=draft["id"], kind=draft["kind"], decision="skip" if choice == "skip" else "approve",
                        decided_by=by, decided_at=datetime.now(), result=result))
        try:
            s.commit()
        except IntegrityError:  # the same draft decided concurrently: the first one won
            s.rollback()
            prior = s.get(ActionLog, draft["id"])
            return {"draft_id": draft["id"], "kind": draft["kind"], "already_done": True,
                    "decision": prior.decision if prior else choice,
                    **cast(ActionResult, prior.result if prior else {})}
    if draft["kind"] == "follow_up":  # side effects belong to the shell (retain.actions)
        result |= (deps.actions.snooze_follow_up(draft) if choice == "skip"
                   else deps.actions.send_follow_up(draft, text))
    if draft["kind"] in ("message", "meeting", "reminder") and choice != "skip":
        result |= deps.actions.send_draft(draft, text)
    if draft["kind"] == "fact" and choice != "skip" and deps.memory is not None:
        try:
            deps.memory.sync_facts()
        except Exception:  # noqa: BLE001 - the fact is in the CRM; `retain memory sync` catches up
            result["memory"] = "pending sync"
    return {"draft_id": draft["id"], "kind": draft["kind"], "decision": "skip" if choice == "skip" else "approve",
            "already_done": False, **result}
