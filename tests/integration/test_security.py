"""Regression tests for the adversarial pass (issue 11): each fails on the code before the fix.

Real components: the demo CRM in SQLite, the real graph, the real Bolt app over signed HTTP with a
mock Slack Web API on 127.0.0.1, the real outbox, the stdlib e-mail parser.
"""

import email
import json
import socket
import sys
from datetime import date, datetime
from email.policy import default as default_policy

import pytest
from mock_slack import MockSlack
from slack_http import approval_value, form, mention
from sqlalchemy import func, select

from agents.assistant import Assistant
from core.errors import AccessDenied, ConfigError, NotFoundError, mask_secrets
from core.settings import load_settings
from integrations.crm.models import CSM, Account, ActionLog, Activity, Contact, SlackInbox, Ticket
from integrations.outbox import deliver
from integrations.slack import safe
from integrations.slack.client import make_client
from integrations.slack.config import secrets
from retain import jobs
from retain.actions import Delivery
from tools import access, crm

DANA, MARCUS, SAM = "dana.reyes@retain.example", "marcus.chen@retain.example", "sam.okafor@retain.example"
U_DANA, U_MARCUS, U_SAM, U_OLIVIA = "UCSM00004", "UCSM00005", "UCSM00007", "UMGR00001"


def _counts(rt):
    with rt.store.session() as s:
        return (s.scalar(select(func.count()).select_from(Activity)),
                s.scalar(select(func.count()).select_from(ActionLog)))


def _click(url, user, action_id, value, k=0):
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C0EAST0001"}, "message": {"ts": "1700000000.000009"},
               "trigger_id": f"trig-{user}-{action_id}-{k}", "container": {"type": "message"},
               "actions": [{"action_id": action_id, "value": value, "action_ts": f"17.{k}", "type": "button"}]}
    return form(url, payload)


# ---------------------------------------------------------------- 1. who may decide
def test_only_owner_manager_or_admin_may_decide_a_draft(rt):
    bot = Assistant(rt, use_memory=False)
    r = bot.ask("what's blocking Cyberdyne's onboarding?", MARCUS, "ob")
    assert r["pending"]
    before = _counts(rt)
    for who in (DANA, SAM, "nobody@evil.example", ""):  # same team, other team, unknown, no identity
        with pytest.raises((AccessDenied, NotFoundError)):
            bot.decide("ob", "edit", who, text="pwned")
    assert _counts(rt) == before and bot.pending_draft("ob") is not None  # nothing changed, still waiting
    done = bot.decide("ob", "approve", "olivia.grant@retain.example")  # Marcus's manager
    assert done["actions"][0]["decision"] == "approve"
    with rt.store.session() as s:
        assert s.scalars(select(ActionLog)).one().decided_by == "Olivia Grant"  # the real decider


def test_slack_clicks_modals_and_submissions_from_others_change_nothing(slack):
    bot, mock, url = slack
    value = approval_value(bot, mock, url, U_MARCUS, "EvOb")
    before = _counts(bot.services)
    for k, user in enumerate((U_DANA, U_SAM, "UNOBODY01")):
        _click(url, user, "retain_approve", value, k)
        _click(url, user, "retain_skip", value, k)
        _click(url, user, "retain_edit", value, k)
    forged = {"type": "view_submission", "user": {"id": U_DANA}, "team": {"id": "T1"}, "api_app_id": "A1",
              "view": {"id": "V9", "hash": "h", "type": "modal", "callback_id": "retain_edit_submit",
                       "private_metadata": json.dumps({**json.loads(value), "channel": "C0EAST0001",
                                                       "ts": "1700000000.000009"}),
                       "state": {"values": {"body": {"text": {"value": "Wire the fee to evil"}}}}}}
    form(url, forged)
    bot.inbox.drain()
    assert _counts(bot.services) == before
    assert not mock.of("views.open")  # the draft was never shown to them
    refusals = [p for p in mock.of("chat.postEphemeral") if "only its owner" in p["text"]]
    assert {p["user"] for p in refusals} >= {U_DANA, U_SAM}
    _click(url, U_MARCUS, "retain_approve", value, 9)  # the owner
    bot.inbox.drain()
    with bot.services.store.session() as s:
        assert s.scalars(select(ActionLog)).one().decided_by == "Marcus Chen"
    assert "Approved by Marcus Chen" in json.dumps(mock.of("chat.update")[-1]["blocks"])


def test_cli_decide_as_another_csm_is_refused(rt, run_cli):
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    Assistant(rt, use_memory=False).ask("what's blocking Cyberdyne's onboarding?", MARCUS, "cli-ob")
    before = _counts(rt)
    code, _, err = run_cli("--as", DANA, "decide", "edit", "--thread", "cli-ob", "--text", "pwned", env_extra=env)
    assert code == 2 and "only its owner" in err and "Traceback" not in err
    assert _counts(rt) == before


# ---------------------------------------------------------------- 2. customer-facing text
@pytest.mark.parametrize("raw, must_not", [
    ("<!here> look", "<!here>"), ("<!channel>", "<!channel>"), ("<!everyone>", "<!everyone>"),
    ("<!subteam^S123|@oncall> now", "<!subteam"), ("hi <@U12345>", "<@U"), ("see <#C0123|general>", "<#C"),
    ("<https://evil.example/okta|Okta fix here>", "<https://evil"), ("https://evil.example\\@retain.example/x",
                                                                      "evil.example"),
    ("go to www.evil.example now", "www.evil.example"), ("evil.example/login", "evil.example/"),
    ("@here and @channel", "@here"),
])
def test_safe_rendering_removes_pings_masked_links_and_foreign_hosts(raw, must_not):
    out = safe.clean(raw, ["retain.example"])
    assert must_not not in out
    assert safe.clean(out, ["retain.example"]) == out  # idempotent: applied again at the client, unchanged
    assert "https://docs.retain.example/a" in safe.clean("https://docs.retain.example/a", ["retain.example"])


def test_every_posting_call_goes_through_the_safe_rendering():
    mock = MockSlack()
    try:
        client = make_client("xoxb-test", mock.url, ["retain.example"])
        client.chat_postMessage(channel="C1", text="<!here> <https://evil.example|x>",
                                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "<!channel> hi"}},
                                        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
                                            {"type": "broadcast", "range": "here"},
                                            {"type": "link", "url": "https://evil.example/p", "text": "p"}]}]}])
        sent = json.dumps(mock.of("chat.postMessage")[0])
        assert "<!" not in sent and "broadcast" not in sent and "https://evil.example" not in sent
    finally:
        mock.close()


def test_customer_follow_up_is_posted_and_mailed_safely(rt, tmp_path):
    mock = MockSlack()
    try:
        with rt.store.session() as s:
            cyber = s.scalar(select(Account.id).where(Account.name == "Cyberdyne Systems"))
            for t in s.scalars(select(Ticket).where(Ticket.account_id == cyber)):
                t.body = "SSO is failing. <https://evil.example/okta|Okta fix here> <!here> https://[ broken"
            s.commit()
        a = Assistant(rt, use_memory=False, actions=Delivery(rt))
        jobs.configure(rt, client=make_client("xoxb-test", mock.url, ["retain.example"]), assistant=a)
        r = a.ask("what's blocking Cyberdyne's onboarding?", MARCUS, "sc")
        assert "evil" in r["pending"][0]["body"]  # the blocker text went into the draft
        act = a.decide("sc", "approve", MARCUS)["actions"][0]
        assert act["sent_via"] == "slack_connect"
        deliver(rt.store, jobs.client())
        post = [p for p in mock.of("chat.postMessage") if p["channel"] == "C0CYBERDYN1"]
        assert len(post) == 1
        text = post[0]["text"]
        assert "<!here>" not in text and "<https://evil" not in text and "evil.example/" not in text
        assert "Okta fix here" in text
    finally:
        jobs.reset()
        mock.close()


def test_email_headers_cannot_be_injected_from_crm_data(rt):
    a = Assistant(rt, use_memory=False)
    with rt.store.session() as s:  # Initech has no Slack Connect channel: its follow-ups are mailed
        aid = s.scalar(select(Account.id).where(Account.name == "Wayne Media"))
        for c in s.scalars(select(Contact).where(Contact.account_id == aid)):
            c.email = "x>\nBcc: spy@evil.example"
            c.name = "Eve\r\nBcc: spy2@evil.example"
        s.commit()
    from agents.approve import execute
    from agents.state import Deps

    draft = {"id": "d-inject", "kind": "follow_up", "account_id": aid, "account": "Wayne Media", "milestone_id": 1,
             "to": "Eve\r\nBcc: spy2@evil.example", "to_email": "x>\nBcc: spy@evil.example",
             "subject": "Hello\nBcc: spy3@evil.example", "body": "<!here> see <https://evil.example|this>"}
    with rt.store.session() as s:
        owner = s.scalar(select(CSM.email).join(Account, Account.owner_id == CSM.id).where(Account.id == aid))
    res = execute(Deps(services=a.services, actions=Delivery(rt)), owner, draft, {"decision": "approve"})
    assert res["sent_via"] == "none" and "not a valid address" in res["error"] and "\n" not in res["error"]
    assert not list((rt.settings.data_dir / "email_outbox").glob("*.eml"))
    good = {**draft, "id": "d-good", "to_email": "raj@wayne.example"}
    res = execute(Deps(services=a.services, actions=Delivery(rt)), owner, good, {"decision": "approve"})
    msg = email.message_from_bytes((rt.settings.data_dir / "email_outbox" / "d-good.eml").read_bytes(),
                                   policy=default_policy)
    assert msg.get_all("Bcc") is None and msg["To"].addresses[0].addr_spec == "raj@wayne.example"
    assert "\n" not in str(msg["Subject"]) and len(msg.get_all("To")) == 1
    body = msg.get_content()
    assert "<!here>" not in body and "https://evil.example" not in body and "this (https://evil[.]example)" in body


# ---------------------------------------------------------------- 3. odd text
def test_odd_text_never_crashes_answers_briefs_or_the_sweep(rt, capsys, monkeypatch):
    with rt.store.session() as s:
        for acct in s.scalars(select(Account).limit(40)):
            s.add(Activity(account_id=acct.id, kind="note", occurred_on=date(2026, 11, 22), author="x",
                           subject="odd", body="see https://[ and https://]x and http://%zz <https://[|x>"))
        globex = s.scalar(select(Account.id).where(Account.name == "Globex"))
        s.add(Ticket(account_id=globex, subject="Timeouts on [/v1/completions] endpoint [bold red]x[/]",
                     body="[/qqq]", priority="high", status="open", opened_at=datetime(2026, 11, 20, 9)))
        s.commit()
    assert safe.clean("https://[") == "https://["
    mock = MockSlack()
    try:
        a = Assistant(rt, use_memory=False)
        jobs.configure(rt, client=make_client("xoxb-test", mock.url), assistant=a)
        out = jobs.onboarding_sweep()
        assert out["failed"] == 0 and out["drafted"] >= 5 and out["sent"] == out["drafted"]
        assert jobs.briefing("csm", 4)["sent"] >= 1
    finally:
        jobs.reset()
        mock.close()
    from retain import cli
    from retain.cli import common

    monkeypatch.setenv("RETAIN_DATA_DIR", str(rt.settings.data_dir))
    for argv, expect in ((["--as", DANA, "account", "Globex"], "[/v1/completions]"),
                         (["account", "[/qqq]"], "[/qqq]")):
        monkeypatch.setattr(sys, "argv", ["retain", *argv])
        code = _run_main(cli, common)
        out = capsys.readouterr()
        assert "Traceback" not in out.err and expect in out.out + out.err, (argv, out)
        assert code in (0, 2)


def _run_main(cli, common):
    """The real `retain` entry point in-process; its exit code."""
    common.state.services, common.state.who = None, None
    try:
        cli.main()
    except SystemExit as done:
        return done.code or 0
    return 0


# ---------------------------------------------------------------- 4. no identity
def test_no_identity_means_no_access(rt, slack):
    with pytest.raises(NotFoundError):
        access.resolve_asker(rt.store, "")
    with pytest.raises(NotFoundError):
        access.resolve_asker(rt.store, "#team=East")
    bot, mock, url = slack
    mention(url, "how is Acme doing?", user="", eid="EvNoUser")
    mention(url, "how is Acme doing?", user="", channel="D0DANA0001", eid="EvNoUser2")
    bot.inbox.drain()
    assert not mock.of("chat.update")  # no answer anywhere
    assert all("Acme" not in p["text"] for p in mock.of("chat.postMessage"))


# ---------------------------------------------------------------- 5. empty scope
def test_a_csm_or_team_with_no_accounts_gets_a_plain_answer(rt, slack):
    with rt.store.session() as s:
        s.add(CSM(name="New Hire", email="new@retain.example", role="csm", team="East", slack_user_id="UNEW00001",
                  timezone="UTC"))
        s.commit()
    a = Assistant(rt, use_memory=False)
    for q in ("which of my accounts are at risk?", "what renews in the next 90 days?", "how is my book?"):
        r = a.ask(q, "new@retain.example", f"e:{q}")
        assert "0 " in r["answer"]["text"]
    bot, mock, url = slack
    for k, (user, channel) in enumerate(((U_DANA, "C0WEST0001"), ("UNEW00001", "D0NEW00001"))):
        form(url, command="/retain", text="at-risk", user_id=user, channel_id=channel, team_id="T1",
             trigger_id=f"t-empty-{k}", response_url="https://hooks.slack.com/x", api_app_id="A1")
    bot.inbox.drain()
    eph = [p["text"] for p in mock.of("chat.postEphemeral")]
    assert len(eph) == 2 and all("0 at-risk" in t for t in eph)
    with bot.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(SlackInbox).where(SlackInbox.status != "done")) == 0


# ---------------------------------------------------------------- 6. whose briefing
def test_brief_respects_the_askers_scope(rt, monkeypatch, capsys):
    from retain import cli
    from retain.cli import common

    monkeypatch.setenv("RETAIN_DATA_DIR", str(rt.settings.data_dir))
    monkeypatch.setenv("RETAIN_LLM__BACKEND", "none")
    cases = [([SAM, DANA], 2), ([DANA, MARCUS], 2), (["noah.kim@retain.example", DANA], 2),
             (["olivia.grant@retain.example", DANA], 0), (["avery.stone@retain.example", DANA], 0), ([DANA, DANA], 0)]
    for (asker, subject), code in cases:
        monkeypatch.setattr(sys, "argv", ["retain", "--as", asker, "brief", "--csm", subject, "--no-llm"])
        got = _run_main(cli, common)
        out = capsys.readouterr()
        assert got == code, (asker, subject, out.err)
        assert ("Dana Reyes" in out.out) == (code == 0)


# ---------------------------------------------------------------- 7. names out of scope
def test_out_of_scope_names_are_never_revealed(rt):
    ctx = rt.tool_context(SAM)
    with pytest.raises(AccessDenied) as denied:
        crm.find_account(ctx, "x")
    assert "Globex" not in str(denied.value) and "x is not" in str(denied.value)
    with pytest.raises(AccessDenied) as denied:
        crm.find_account(ctx, "Vandelay")  # both are East accounts: Sam sees neither
    assert "Imports" not in str(denied.value) and "Industries" not in str(denied.value)
    r = Assistant(rt, use_memory=False).ask("how is Globx doing?", SAM, "n1")
    assert "Globx" in r["answer"]["text"] and "Globex" not in r["answer"]["text"]


# ---------------------------------------------------------------- 8. secrets
def test_secrets_are_masked_in_errors_and_answers(rt, tmp_path):
    from integrations.crm.store import make_engine

    with pytest.raises(ConfigError) as bad_db:
        make_engine("postgresql+nodriver://retain:hunter2@127.0.0.1/crm")
    assert "hunter2" not in str(bad_db.value) and "retain:***@" in str(bad_db.value)
    sec = tmp_path / "secrets.yaml"
    sec.write_text("bot_token: xoxb-1\nsigning_secret: s3cr3t-signing: [oops\n")
    settings = load_settings(data_dir=str(rt.settings.data_dir), slack={"secrets_file": str(sec)})
    with pytest.raises(ConfigError) as bad_file:
        secrets(settings)
    assert "s3cr3t" not in str(bad_file.value) and "line 2" in str(bad_file.value)
    from integrations.llm import OpenAICompatChat

    with socket.socket() as sk:  # a port nobody listens on
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    chat = OpenAICompatChat(f"http://user:pa55word@127.0.0.1:{port}", "m", timeout_s=5)
    r = Assistant(rt, chat=chat, use_memory=False).ask("how is Acme doing?", DANA, "sec1")
    assert "pa55word" not in json.dumps(r, default=str) and "user:***@" in r["answer"]["note"]
    if rt.store.engine.dialect.name == "sqlite":
        assert b"pa55word" not in (rt.settings.data_dir / "checkpoints.sqlite").read_bytes()
    else:  # checkpoints live in the CRM's PostgreSQL database
        from sqlalchemy import text

        with rt.store.engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT coalesce(string_agg(checkpoint::text || metadata::text, ''), '') FROM checkpoints "
                "UNION ALL SELECT coalesce(string_agg(encode(blob, 'escape'), ''), '') FROM checkpoint_blobs "
                "UNION ALL SELECT coalesce(string_agg(encode(blob, 'escape'), ''), '') FROM checkpoint_writes")).all()
        assert any(row[0] for row in stored)  # the conversation was checkpointed there
        assert not any("pa55word" in row[0] for row in stored)
    assert mask_secrets("token xoxb-123-abc and postgresql://a:b@h/db") == "token xoxb-*** and postgresql://a:***@h/db"
