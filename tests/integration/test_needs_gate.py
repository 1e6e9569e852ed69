"""The needs extractor's model call is gated like the other model calls (issue 36).

No call when the rules already hold every sentence a model could add; no call once the model's recent
extractions were nearly all rejected by the quote check (one in `prose_probe_every` still tries). The
needs finding says which gate held. Agent logic runs with a queued fake chat model whose calls are counted.
"""

from __future__ import annotations

import json
from datetime import date

from fakes import QueuedChat
from sqlalchemy import select, text

from agents import prose_gate
from agents.assistant import Assistant
from core.settings import load_settings
from integrations import verdicts
from integrations.crm.models import Account, Activity
from tools.services import Services

DANA = "dana.reyes@retain.example"
MADE_UP = json.dumps({"goals": [{"text": "They plan to double their spend on widgets", "source": "activity:1"}]})
PROSE = "Acme Corp renewal risk is 87% and ARR is $9,999,999 [1]."


def _needs_gate(r: dict) -> str:
    return next((f["data"].get("llm_gate", "") for f in r["findings"] if f["agent"] == "needs"), "")


def test_no_extraction_call_when_the_rules_hold_every_sentence(rt):
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == "Globex"))
        for table in ("activities", "tickets", "survey_responses"):
            s.execute(text(f"delete from {table} where account_id = :a"), {"a": aid})
        s.add(Activity(account_id=aid, kind="note", occurred_on=date(2026, 11, 20), author="x", subject="Call notes",
                       body="They want to roll out the assistant to Madrid next quarter. Success means fewer "
                            "chargebacks in Q1. The support copilot use case is live in Berlin. The outage last "
                            "week was frustrating for their agents."))
        s.commit()
    chat = QueuedChat(replies=[PROSE], asked=[], kwargs=[])  # one reply: the answer's prose, nothing for needs
    r = Assistant(rt, chat=chat, use_memory=False).ask("what does Globex care about?", DANA, "sure")
    assert "needs" not in r["llm"]["by_kind"], r["llm"]
    assert _needs_gate(r).startswith("sure: every sentence"), _needs_gate(r)
    facts = [i["text"] for f in r["findings"] if f["agent"] == "needs" for i in f["facts"]]
    assert any("Madrid" in x for x in facts) and any("chargebacks" in x for x in facts)


def test_no_extraction_call_once_the_models_items_are_nearly_all_rejected(rt):
    rt2 = Services(load_settings(data_dir=str(rt.settings.data_dir), today=rt.settings.today,
                                 llm={"prose_min": 3, "prose_window": 4, "prose_off_at": 0.9, "prose_probe_every": 0}))
    # One call an answer: the extraction (it uses the answer's budget), then the last answer's prose only.
    chat = QueuedChat(replies=[MADE_UP] * 3 + [PROSE], asked=[], kwargs=[])
    bot = Assistant(rt2, chat=chat, use_memory=False)
    for k, name in enumerate(["Acme", "Globex", "Initech"]):  # a profile per account: each extracted once
        r = bot.ask(f"what does {name} care about?", DANA, f"n{k}")
        assert r["llm"]["by_kind"].get("needs") == 1, r["llm"]
        assert not any("widgets" in i["text"] for f in r["findings"] for i in f["facts"])  # never a made-up item
    line = prose_gate.state_line(rt2.settings, prose_gate.key("queued-fake", "extraction"))
    assert line == "prose off: the verifier rejected 3 of the last 3", line
    r = bot.ask("what does Beacon Software care about?", DANA, "n3")
    assert "needs" not in r["llm"]["by_kind"] and not chat.replies, r["llm"]
    assert _needs_gate(r).startswith("extraction off: the verifier rejected 3 of the last 3"), _needs_gate(r)
    assert any(t.get("note", "").startswith("extraction off") for t in r["trace"])  # and the trace says so
    # Items that quote their record count as kept: the gate opens again when the model does better.
    for ok in (True, True, True):
        verdicts.record(rt2.settings.data_dir, prose_gate.key("queued-fake", "extraction"), ok, 4)
    assert prose_gate.state_line(rt2.settings, prose_gate.key("queued-fake", "extraction")).startswith("prose on")
