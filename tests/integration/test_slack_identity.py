"""One identity check for every Slack handler: the sender must be a Slack member mapped to an active person."""

import json

from slack_http import DANA, event, form, mention
from sqlalchemy import select

from integrations.crm.models import Account
from tools import people

DM = "D0DANA0001"


def _account_names(bot):
    with bot.services.store.session() as s:
        return set(s.scalars(select(Account.name)))


def _thread_started(url, user, eid, thread_ts):
    ev = {"type": "assistant_thread_started", "assistant_thread": {"user_id": user, "channel_id": DM,
                                                                   "thread_ts": thread_ts, "context": {}}}
    return event(url, ev, eid)


def _home(url, user, eid):
    return event(url, {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home"}, eid)


def _named(calls, names):
    said = json.dumps(calls)
    return sorted(n for n in names if n in said)


def test_a_forged_or_unknown_sender_gets_no_account_data_from_any_handler(slack):
    bot, mock, url = slack
    names = _account_names(bot)
    for n, who in enumerate(["!operator", "", "UNOBODY01"]):
        assert _thread_started(url, who, f"EvIdT{n}", f"1700001000.00010{n}").status_code == 200
        assert _home(url, who, f"EvIdH{n}").status_code == 200
    payload = {"type": "block_actions", "user": {"id": "!operator"}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000002", "text": "x"},
               "trigger_id": "trigId", "container": {"type": "message"},
               "actions": [{"type": "feedback_buttons", "action_id": "retain_feedback", "block_id": "fb",
                            "value": "bad|answer|EvNone", "action_ts": "1700001001.1"}]}
    assert form(url, payload).status_code == 200
    bot.inbox.drain()
    sent = [p for _, p in mock.calls]
    assert not _named(sent, names)  # no account of anyone's reached Slack
    prompts = mock.of("assistant.threads.setSuggestedPrompts")
    assert all(p["title"] in ("What can you do?",) or "worry" in p["title"] for c in prompts for p in c["prompts"])
    homes = mock.of("views.publish")
    assert [h["user_id"] for h in homes] == ["UNOBODY01"]  # a Slack member who is not a CSM is told why
    assert "don't have you as a CSM" in json.dumps(homes[0]["view"]) and "UNOBODY01" in json.dumps(homes[0]["view"])
    notes = [p["text"] for p in mock.of("chat.postMessage")]
    assert any("don't have you as a CSM" in t for t in notes)  # in the unknown member's assistant thread
    assert not [p for p in mock.of("chat.postEphemeral") if "Thanks" in p.get("text", "")]


def test_a_deactivated_person_is_told_so_by_every_handler(slack):
    bot, mock, url = slack
    names = _account_names(bot)
    people.deactivate(bot.services.store, "dana.reyes@retain.example", None)
    assert _thread_started(url, DANA, "EvDeT", "1700001100.000100").status_code == 200
    assert _home(url, DANA, "EvDeH").status_code == 200
    mention(url, "how is Acme doing?", eid="EvDeM")
    form(url, command="/retain", text="account Acme", user_id=DANA, channel_id="C0EAST0001",
         trigger_id="trigDe", team_id="T1")
    bot.inbox.drain()
    assert not _named([p for _, p in mock.calls], names)
    said = [json.dumps(mock.of(m)) for m in ("views.publish", "chat.postMessage", "chat.postEphemeral")]
    assert all("deactivated" in s for s in said), said
