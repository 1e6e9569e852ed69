"""A request in Slack, through the real Bolt app over signed HTTP: the draft card, refused and allowed approvals."""

import json
from datetime import datetime, timedelta
from pathlib import Path

from slack_http import DANA, MARCUS, form, mention
from sqlalchemy import func, select

from agents.approve import execute
from agents.state import Deps
from integrations.crm.models import ActionLog, SlackInbox
from retain.actions import Delivery


def _click(url, user, value, k):
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000009"}, "trigger_id": f"trigD{k}",
               "container": {"type": "message"},
               "actions": [{"action_id": "retain_approve", "value": value, "action_ts": f"19.{k}",
                            "block_id": "retain_approval", "type": "button"}]}
    assert form(url, payload).status_code == 200


def test_a_request_in_slack_shows_a_draft_card_that_only_the_owner_can_approve(slack):
    bot, mock, url = slack
    mention(url, "draft a note to Acme's champion proposing a call next week about two more teams", eid="EvDr")
    bot.inbox.drain()
    [card] = [p for p in mock.of("chat.postMessage") if "Draft for approval" in p["text"]]
    text = json.dumps(card["blocks"])
    assert "two more teams" in text and "[contact " in text and "Account owner: Dana Reyes" in text
    buttons = card["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["retain_approve", "retain_edit", "retain_skip"]
    box = Path(bot.services.settings.data_dir) / "email_outbox"
    _click(url, MARCUS, buttons[0]["value"], 0)  # not Acme's owner
    bot.inbox.drain()
    assert any("only its owner" in p["text"] for p in mock.of("chat.postEphemeral"))
    assert not box.exists() or not list(box.glob("*.eml"))
    for k in (1, 2):  # the owner clicks twice
        _click(url, DANA, buttons[0]["value"], k)
    bot.inbox.drain()
    with bot.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ActionLog)) == 1
    assert len(list(box.glob("*.eml"))) == 1
    decided = [u for u in mock.of("chat.update") if "Approved by Dana Reyes" in json.dumps(u.get("blocks"))]
    assert len(decided) == 1


def _retried_click(bot, key, value):
    """A click whose first attempt failed (its row as the inbox leaves it), to be run again by `tick`."""
    with bot.services.store.session() as s:
        s.add(SlackInbox(key=key, kind="decision", status="failed", attempts=1, received_at=datetime.now(),
                         lease_until=datetime.now() - timedelta(seconds=1), claimed_by="old-host:1:abc",
                         result={"error": "Retry"},
                         payload={"user": DANA, "value": value, "action": "retain_approve",
                                  "channel": "C0EAST0001", "ts": "1700000000.000009"}))
        s.commit()


def test_a_retried_click_updates_the_card_only_for_the_decision_it_made(slack):
    """The owner clicks twice; the first click decides (sends once), then its worker dies before the thread
    moves on. The second click's retry finds the decision on record: it is another click's, so the card is
    left to that click, whose own retry updates it, once."""
    bot, mock, url = slack
    mention(url, "draft a note to Acme's champion proposing a call next week about two more teams", eid="EvDr2")
    bot.inbox.drain()
    [card] = [p for p in mock.of("chat.postMessage") if "Draft for approval" in p["text"]]
    value = card["blocks"][-1]["elements"][0]["value"]
    meta = json.loads(value)
    draft = bot.assistant.pending_draft(meta["thread"], meta["draft"])
    first = execute(Deps(services=bot.services, actions=Delivery(bot.services)), DANA, draft,
                    {"decision": "approve", "click": "act:trigD1"})  # the first click's attempt, up to its death
    assert first["decision"] == "approve" and not first["already_done"]
    assert bot.assistant.pending_draft(meta["thread"], meta["draft"]) is not None  # the thread is still paused

    def approved():
        return [u for u in mock.of("chat.update") if "Approved by Dana Reyes" in json.dumps(u.get("blocks"))]

    _retried_click(bot, "act:trigD2", value)
    bot.inbox.tick()
    assert bot.inbox.drain(60)
    assert approved() == []  # the second click did not decide: it claims nothing
    _retried_click(bot, "act:trigD1", value)
    bot.inbox.tick()
    assert bot.inbox.drain(60)
    assert len(approved()) == 1  # the deciding click's retry updates the card
    with bot.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ActionLog)) == 1
        assert {r.key: r.status for r in s.scalars(select(SlackInbox).where(SlackInbox.kind == "decision"))} == {
            "act:trigD1": "done", "act:trigD2": "done"}
    box = Path(bot.services.settings.data_dir) / "email_outbox"
    assert len(list(box.glob("*.eml"))) == 1
