"""A request in Slack, through the real Bolt app over signed HTTP: the draft card, refused and allowed approvals."""

import json
from pathlib import Path

from slack_http import DANA, MARCUS, form, mention
from sqlalchemy import func, select

from integrations.crm.models import ActionLog


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
