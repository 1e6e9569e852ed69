"""Deciding a drafted action: approve (or edit) runs it exactly once, skip records it; only the right people."""

from __future__ import annotations

from typing import Any, cast

from agents.context import Deps
from agents.state import ActionResult, Draft
from core.errors import NotFoundError
from tools import access, decisions


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
        viewer = deps.asker_for(who)
    except NotFoundError:
        viewer = None
    if viewer is None or not access.may_decide(store, viewer, draft["account_id"]):
        return {"draft_id": draft["id"], "kind": draft["kind"], "decision": "refused", "already_done": False}
    done = decisions.record(store, viewer, draft, choice, text, deps.services.settings.as_of(),
                            str(decision.get("origin") or ""), str(decision.get("click") or ""))
    if done.already_done:
        return {"draft_id": draft["id"], "kind": draft["kind"], "decision": done.decision,
                "already_done": True, "click": done.click, **cast(ActionResult, done.result)}
    result = cast(ActionResult, dict(done.result))
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
            "already_done": False, "click": done.click, **result}
