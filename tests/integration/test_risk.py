"""Qualitative risk over a seeded CRM: a fresh note about another vendor's pilot turns "on track" into "At risk"."""

from datetime import date

import pytest
from fakes import QueuedChat

from agents.assistant import Assistant
from core.errors import AccessDenied
from integrations.crm.models import Activity
from tools import crm, risk_signals
from tools.agent_tools import build_tools

DANA = "dana.reyes@retain.example"
ACCOUNT = "Oakridge Energy"  # Dana's, healthy, no risk in its notes: its renewal reads "On track" in the demo


def _log(rt, account_id: int, day: date, kind: str, body: str, author: str = "Dana Reyes") -> int:
    with rt.store.session() as s:
        a = Activity(account_id=account_id, kind=kind, occurred_on=day, author=author,
                     subject=f"{kind.title()} notes: {ACCOUNT}", body=body)
        s.add(a)
        s.commit()
        return a.id


def test_a_fresh_competitor_pilot_note_is_named_cited_and_never_on_track(rt):
    bot = Assistant(rt, use_memory=False)
    aid = crm.find_account(rt.tool_context(DANA), ACCOUNT)["account_id"]
    before = bot.ask(f"is {ACCOUNT} at risk of walking?", DANA, "risk-0")["answer"]["text"]
    assert "On track" in before and "Risk signal" not in before

    note = _log(rt, aid, date(2026, 11, 20), "note",
                "QBR prep cancelled again, the champion skipped it twice. "
                "Heard from their architect that they're piloting another vendor for the support bot.")
    for ask, thread in ((f"is {ACCOUNT} at risk of walking?", "risk-1"), (f"how is {ACCOUNT} doing?", "risk-2")):
        r = bot.ask(ask, DANA, thread)
        text = r["answer"]["text"]
        assert "on track" not in text.lower()
        assert "At risk: 2 signals from the last 60 days stand unanswered" in text
        quote = "Heard from their architect that they're piloting another vendor for the support bot."
        assert f"\u201c{quote}\u201d" in text
        cited = [s for s in r["answer"]["sources"] if s["type"] == "activity" and s["id"] == str(note)]
        assert cited and cited[0]["date"] == "2026-11-20"
        n = cited[0]["n"]
        assert any("piloting another vendor" in line and f"[{n}]" in line for line in text.splitlines())

    # A later call with the customer that raises no risk itself answers the signals: the verdict goes.
    call = _log(rt, aid, date(2026, 11, 22), "call", "Call with their architect and VP: walked through the roadmap "
                "and next quarter's rollout plan.")
    text = bot.ask(f"is {ACCOUNT} at risk of walking?", DANA, "risk-3")["answer"]["text"]
    assert "At risk:" not in text and "followed up on 2026-11-22" in text
    # An internal note is no answer to the customer; a colleague's call is (any CSM counts), a stranger's is not.
    found = risk_signals.risk_signals(rt.tool_context(DANA), aid)
    assert {s["kind"] for s in found["signals"]} == {"competitor", "disengaged"}
    assert all(s["answered_by"]["id"] == str(call) for s in found["signals"])
    with rt.store.session() as s:
        s.get(Activity, call).author = "someone@customer.example"
        s.commit()
    assert {s["kind"] for s in risk_signals.risk_signals(rt.tool_context(DANA), aid)["unanswered"]} == \
        {"competitor", "disengaged"}


def test_signals_older_than_the_window_are_history(rt):
    aid = crm.find_account(rt.tool_context(DANA), ACCOUNT)["account_id"]
    _log(rt, aid, date(2026, 9, 1), "note", "They gave notice that they will not renew.")
    assert risk_signals.risk_signals(rt.tool_context(DANA), aid)["signals"] == []
    assert "On track" in Assistant(rt, use_memory=False).ask(f"is {ACCOUNT} at risk of walking?", DANA,
                                                            "old")["answer"]["text"]


def test_only_the_askers_accounts_and_a_tool_a_model_can_call(rt):
    aid = crm.find_account(rt.tool_context(DANA), ACCOUNT)["account_id"]
    marcus = rt.tool_context("marcus.chen@retain.example")
    with pytest.raises(AccessDenied):
        risk_signals.risk_signals(marcus, aid)
    tool = {t.name: t for t in build_tools(marcus)}["risk_signals"]
    wayne = tool.invoke({"account_id": crm.find_account(marcus, "Wayne Media")["account_id"]})
    assert [(s["kind"], s["date"], s["unanswered"]) for s in wayne["signals"]] == [  # the sponsor leaving, in a call
        ("disengaged", "2026-11-03", True), ("departed", "2026-10-04", True)]
    assert wayne["signals"][0]["quote"] == "No reply from the new platform lead after two emails."
    with pytest.raises(AccessDenied):
        tool.invoke({"account_id": aid})


def test_model_prose_that_calls_it_on_track_is_refused(rt):
    aid = crm.find_account(rt.tool_context(DANA), ACCOUNT)["account_id"]
    ask = f"is {ACCOUNT} at risk of walking?"
    found = Assistant(rt, use_memory=False).ask(ask, DANA, "det")["findings"]
    fact = next(i["text"] for f in found for i in f["facts"] if i["kind"] == "renewal_date")
    calm = f"- {fact}, on track [1]"  # a cited fact, grounded word for word, with a verdict added
    r = Assistant(rt, chat=QueuedChat(replies=[calm], asked=[], kwargs=[]), use_memory=False).ask(ask, DANA, "ok")
    assert r["answer"]["mode"] == "llm"  # with nothing unanswered the same prose is kept

    _log(rt, aid, date(2026, 11, 21), "email", "Finance has frozen all new software spend until Q2.")
    chat = QueuedChat(replies=[calm, calm], asked=[], kwargs=[])
    r = Assistant(rt, chat=chat, use_memory=False).ask(ask, DANA, "llm")
    assert r["answer"]["mode"] == "deterministic"
    assert r["answer"]["unsupported"] == ["'on track' while risk signals stand unanswered"]
    assert "on track" not in r["answer"]["text"].lower() and "frozen all new software spend" in r["answer"]["text"]
