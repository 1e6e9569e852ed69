"""The real Bolt app in HTTP mode, driven by signed requests the way Slack sends them, against a local
mock of Slack's Web API that records every call."""

import json
import time
from datetime import datetime, timedelta

import httpx
from mock_slack import MockSlack
from slack_http import DANA, MARCUS, SECRET, answers, approval_value, event, form, mention, signed
from sqlalchemy import func, select

from agents.assistant import Assistant
from core.settings import load_settings
from integrations.crm.models import Account, ActionLog, Activity, SlackInbox
from integrations.slack.http import serve_http
from integrations.slack.safe import clean, cut
from retain.slack.app import RetainSlack
from tools.services import Services


def test_mention_gets_placeholder_then_threaded_answer_with_sources(slack):
    bot, mock, url = slack
    t = time.perf_counter()
    r = mention(url, "how is Acme doing?")
    assert r.status_code == 200 and time.perf_counter() - t < 3
    bot.inbox.drain()
    post = mock.of("chat.postMessage")[0]
    assert post["thread_ts"] == "1700000100.000100" and "Looking into" in post["text"]
    upd = answers(mock)[-1]
    assert upd["ts"] == "1700000000.000001"  # the placeholder was replaced, not a second message
    text = json.dumps(upd["blocks"])
    assert "Health 98" in text and "health score" in text.lower()  # answer and its sources block
    assert [b["type"] for b in upd["blocks"][-2:]] == ["context", "context_actions"]  # sources, then feedback
    # A reply in the thread continues the conversation.
    mention(url, "and their renewal?", ts="1700000101.000100", thread_ts="1700000100.000100", eid="Ev2")
    bot.inbox.drain()
    assert "2027-06-11" in json.dumps(answers(mock)[-1]["blocks"])


def test_duplicates_and_retries_get_one_answer(slack):
    bot, mock, url = slack
    for retry in (None, 1, 2, 3):
        assert mention(url, "how is Globex doing?", eid="EvDup", retry=retry).status_code == 200
    bot.inbox.drain()
    assert len(mock.of("chat.postMessage")) == 1 and len(answers(mock)) == 1


def test_retry_of_an_event_that_never_ran_is_processed(slack, rt):
    bot, mock, url = slack
    # Accepted before a crash: the row exists, nothing ran.
    with bot.services.store.session() as s:
        from datetime import datetime
        s.add(SlackInbox(key="EvLost", kind="question", status="pending", attempts=0, received_at=datetime.now(),
                         payload={"user": DANA, "channel": "C0EAST0001", "text": "<@UBOT> how is Acme doing?",
                                  "ts": "1700000200.000100", "thread_ts": None, "channel_type": "channel"}))
        s.commit()
    assert mention(url, "how is Acme doing?", ts="1700000200.000100", eid="EvLost", retry=1).status_code == 200
    bot.inbox.drain()
    assert len(answers(mock)) == 1
    assert bot.inbox.recover() == 0  # done rows are not run again on restart


def test_a_row_the_old_inbox_wrote_mid_answer_is_finished_in_its_placeholder(slack):
    """A question the previous version of Retain failed once, after posting its placeholder: the row as that
    code left it (Slack's payload; the kept state under `result.state`) is claimed as a `Job`, answered in
    the same placeholder, and nothing is posted twice."""
    bot, mock, url = slack
    ph = bot.client.chat_postMessage(channel="C0EAST0001", thread_ts="1700000400.000100", text="Looking into it…")
    with bot.services.store.session() as s:
        s.add(SlackInbox(key="EvOld", kind="question", status="failed", attempts=1, received_at=datetime.now(),
                         lease_until=datetime.now() - timedelta(seconds=1), thread_key="C0EAST0001:1700000400.000100",
                         order_ts=1700000400.0001, claimed_by="old-host:1:abc",
                         result={"error": "Retry", "state": {"placeholder": ph["ts"]}},
                         payload={"user": DANA, "channel": "C0EAST0001", "text": "<@UBOT> how is Acme doing?",
                                  "ts": "1700000400.000100", "thread_ts": None, "channel_type": "channel"}))
        s.commit()
    bot.inbox.tick()
    assert bot.inbox.drain(60)
    assert [u["ts"] for u in answers(mock)] == [ph["ts"]]  # the old placeholder holds the answer
    assert "Health" in json.dumps(answers(mock)[0]["blocks"])
    assert len(mock.of("chat.postMessage")) == 1  # only the placeholder the old attempt posted
    with bot.services.store.session() as s:
        row = s.get(SlackInbox, "EvOld")
        assert row.status == "done" and row.attempts == 2 and row.result["ts"] == ph["ts"]
        assert not any(k.startswith("_") for k in row.payload)  # the payload is still Slack's, untouched


def test_bad_and_stale_signatures_are_rejected(slack):
    bot, mock, url = slack
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}, "event_id": "EvBad"})
    assert httpx.post(url, content=body, headers=signed(body, secret="wrong")).status_code == 401
    assert httpx.post(url, content=body, headers=signed(body, ts=int(time.time()) - 600)).status_code == 401
    assert httpx.post(url, content=body).status_code == 401
    with bot.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(SlackInbox)) == 0


def test_unmapped_user_and_unconfigured_channel(slack):
    bot, mock, url = slack
    mention(url, "how is Acme doing?", user="UNOBODY", eid="EvU")
    mention(url, "how is Acme doing?", channel="C0RANDOM01", ts="1700000300.000100", eid="EvC")
    bot.inbox.drain()
    texts = [p["text"] for p in mock.of("chat.postMessage")]
    assert any("don't have you as a CSM" in t and "UNOBODY" in t for t in texts)
    assert any("channels set up for a team" in t for t in texts)
    assert not answers(mock)  # no data went anywhere


def test_team_channel_only_shows_that_teams_accounts(slack):
    bot, mock, url = slack
    mention(url, "how is Umbrella doing?", user="UADMIN0001", channel="C0EAST0001", eid="EvT")  # West account
    bot.inbox.drain()
    text = json.dumps(answers(mock)[-1]["blocks"])
    assert "not in your portfolio" in text and "NaN" not in text


def test_approval_buttons_run_the_action_once(slack):
    bot, mock, url = slack
    mention(url, "what's blocking Cyberdyne's onboarding?", user=MARCUS, channel="C0EAST0001", eid="EvOb")
    bot.inbox.drain()
    approval = [p for p in mock.of("chat.postMessage") if "Draft for approval" in p["text"]][0]
    buttons = approval["blocks"][-1]["elements"]
    value = buttons[0]["value"]
    with bot.services.store.session() as s:
        before = s.scalar(select(func.count()).select_from(Activity))
    for k in range(2):  # clicked twice
        payload = {"type": "block_actions", "user": {"id": MARCUS}, "team": {"id": "T1"}, "api_app_id": "A1",
                   "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000009"},
                   "trigger_id": f"trig{k}", "container": {"type": "message"},
                   "actions": [{"action_id": "retain_approve", "value": value, "action_ts": f"17.{k}",
                                "block_id": "retain_approval", "type": "button"}]}
        assert form(url, payload).status_code == 200
    bot.inbox.drain()
    with bot.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == before + 1
        assert s.scalar(select(func.count()).select_from(ActionLog)) == 1
    decided = [u for u in answers(mock) if "Approved by" in json.dumps(u.get("blocks"))]
    assert len(decided) == 1


def test_edit_opens_a_modal_and_submission_approves_the_edit(slack):
    bot, mock, url = slack
    value = approval_value(bot, mock, url, MARCUS, "EvEd", button=1)
    payload = {"type": "block_actions", "user": {"id": MARCUS}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000005"}, "trigger_id": "trigE",
               "actions": [{"action_id": "retain_edit", "value": value, "action_ts": "18.1", "type": "button"}]}
    form(url, payload)
    modal = mock.of("views.open")[0]["view"]
    sub = {"type": "view_submission", "user": {"id": MARCUS}, "team": {"id": "T1"}, "api_app_id": "A1",
           "view": {"id": "V9", "hash": "h1", "type": "modal", "callback_id": "retain_edit_submit",
                    "private_metadata": modal["private_metadata"],
                    "state": {"values": {"body": {"text": {"type": "plain_text_input",
                                                           "value": "Raj, 30 minutes on the Okta audience?"}}}}}}
    assert form(url, sub).status_code == 200
    bot.inbox.drain()
    with bot.services.store.session() as s:
        act = s.scalars(select(Activity).order_by(Activity.id.desc())).first()
        assert "Okta audience" in act.body


def test_slash_commands(slack):
    bot, mock, url = slack
    for text in ("account Acme", "at-risk", "renewals 60", "help", "account Cyberdyne"):
        r = form(url, command="/retain", text=text, user_id=DANA, channel_id="D0DANA0001", team_id="T1",
                 trigger_id=f"t-{text}", response_url="https://hooks.slack.com/x", api_app_id="A1")
        assert r.status_code == 200 and "Working on it" in r.text
    bot.inbox.drain()
    eph = {json.dumps(p.get("blocks")) + p.get("text", "") for p in mock.of("chat.postEphemeral")}
    joined = "\n".join(eph)
    assert "Acme Corp" in joined and "P(renew)" in joined  # the account card
    assert "Initech" in joined  # at-risk and renewals
    assert "how is Acme doing" in joined  # help
    assert "not in your portfolio" in joined  # Cyberdyne is Marcus's
    assert len(mock.uploads) == 1 and b"\x89PNG" in mock.uploads[0]  # the health-trend chart
    done = mock.of("files.completeUploadExternal")[0]
    assert done["channel_id"] == "D0DANA0001"


def test_app_home_shows_the_portfolio(slack):
    bot, mock, url = slack
    event(url, {"type": "app_home_opened", "user": DANA, "channel": "D0DANA0001", "tab": "home"}, "EvHome")
    bot.inbox.drain()
    view = json.dumps(mock.of("views.publish")[0]["view"])
    assert "Portfolio: Dana Reyes" in view and "Initech" in view and "Renewals in the next 90 days" in view


def test_rate_limit_is_retried_after_retry_after(slack):
    bot, mock, url = slack
    mock.fail["chat.postMessage"] = [(429, {"Retry-After": "1"})]
    mention(url, "how is Acme doing?", eid="Ev429")
    bot.inbox.drain()
    calls = [p for m, p in mock.calls if m == "chat.postMessage"]
    assert calls[0]["_failed"] and not calls[1]["_failed"] and calls[1]["_at"] - calls[0]["_at"] >= 0.9
    assert len(answers(mock)) == 1


def test_channel_ping_in_a_note_pings_nobody(slack, rt):
    bot, mock, url = slack
    with bot.services.store.session() as s:
        from datetime import date

        acme = s.scalar(select(Account.id).where(Account.name == "Acme Corp"))
        s.add(Activity(account_id=acme, kind="note", occurred_on=date(2026, 11, 22), author="x", subject="n",
                       body="<!channel> they want to expand to <https://evil.example/x|Oslo> next quarter @here"))
        s.commit()
    mention(url, "what does Acme care about?", eid="EvPing")
    bot.inbox.drain()
    text = json.dumps(answers(mock)[-1]["blocks"])
    assert "Oslo" in text and "<!channel>" not in text and "<https://evil" not in text and "@here" not in text


def test_a_40000_character_message(slack):
    bot, mock, url = slack
    assert mention(url, "how is Acme doing? " * 2200, eid="EvBig").status_code == 200
    bot.inbox.drain()
    upd = answers(mock)[-1]
    assert "characters" in upd["text"] and len(upd["text"]) < 4000


def test_safe_text_helpers():
    assert clean("<!everyone> & <@U1>") == "@\u200beveryone &amp; @\u200bU1"
    assert "https://docs.retain.example/a" in clean("see https://docs.retain.example/a", ["retain.example"])
    assert "https://evil[.]example" in clean("https://evil.example", ["retain.example"])
    assert cut("é" * 5000, 3000) == "é" * 2999 + "…"


def test_worker_process_answers_each_event_once(rt):
    mock = MockSlack()
    settings = load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today, llm={"backend": "none"},
                             slack={"mode": "http", "bot_token": "xoxb-test", "signing_secret": SECRET,
                                    "base_url": mock.url, "post_interval_s": 0})
    services = Services(settings)
    bot = RetainSlack(services, Assistant(services, use_memory=False), worker_process=True)
    server = serve_http(bot.app, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        for k in range(3):
            for retry in (None, 1):
                mention(url, "how is Acme doing?", ts=f"1700000500.00000{k}", eid=f"EvP{k}", retry=retry)
        assert bot.inbox.drain(120)
        assert len(answers(mock)) == 3 and all("Health 98" in json.dumps(u["blocks"]) for u in answers(mock))
    finally:
        server.shutdown()
        bot.close()
        mock.close()


def test_a_failed_answer_replaces_the_placeholder_with_one_clear_message(slack, monkeypatch):
    bot, mock, url = slack

    def boom(*a, **k):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.assistant, "ask", boom)
    mention(url, "how is Acme doing?", eid="EvFail")
    bot.inbox.drain()
    assert not answers(mock)  # the first failure is retried, not announced
    for _ in range(2):  # the inbox's own retries (backoff elapsed)
        bot.inbox.retry_due(now=datetime.now() + timedelta(hours=1))
        bot.inbox.drain()
    upd = answers(mock)
    assert len(upd) == 1 and "couldn't answer" in upd[0]["text"] and "database on fire" not in upd[0]["text"]
    assert len(mock.of("chat.postMessage")) == 1  # one placeholder across the three attempts
    with bot.services.store.session() as s:
        row = s.get(SlackInbox, "EvFail")
        assert row.status == "failed" and row.attempts == 3
    assert bot.inbox.retry_due(now=datetime.now() + timedelta(hours=2)) == 0  # nothing after the last


def test_a_list_answer_carries_one_table_block_with_safe_cells(slack, rt):
    bot, mock, url = slack
    with rt.store.session() as s:  # an account name with Slack markup in it: rendered as text, never a ping
        acc = s.scalar(select(Account).where(Account.name == "Globex"))
        acc.name = "Globex <!channel>"
        s.commit()
    mention(url, "top 3 accounts by ARR", eid="EvT")
    bot.inbox.drain()
    blocks = answers(mock)[-1]["blocks"]
    tables = [b for b in blocks if b["type"] == "table"]
    assert len(tables) == 1
    header, *rows = tables[0]["rows"]
    assert [c["text"] for c in header][:2] == ["account", "health"] and len(rows) == 3
    assert all(c["type"] == "raw_text" and c["text"] for r in rows for c in r)
    mention(url, "top 50 accounts by health", eid="EvT2")
    bot.inbox.drain()
    assert "<!channel>" not in json.dumps(answers(mock)[-1])
