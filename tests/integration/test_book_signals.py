"""Risk signals over one CSM's book in a window ("any churn signals in Sam's notes over the last month?"):
the detector runs over that CSM's accounts' notes, tickets and survey comments dated in the window, each
signal cited; a rolling "last month" is the last 30 days and a named month is that month, said in the
reading; nobody else's accounts, nothing outside the window, nothing outside the asker's scope.
"""

import re
from datetime import date, timedelta

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account, Activity

NOAH, DANA = "noah.kim@retain.example", "dana.reyes@retain.example"
SIGNS = ("piloting another vendor", "questioning the spend")  # phrases the demo's notes carry


def _noted(rt, owner_name, start, end):
    """Accounts of the owner with a note in [start, end] carrying one of the demo's signal phrases."""
    with rt.store.session() as s:
        rows = s.execute(select(Account.name, Activity.body).join(Activity, Activity.account_id == Account.id)
                         .join(CSM, CSM.id == Account.owner_id)
                         .where(CSM.name == owner_name, Activity.occurred_on >= start,
                                Activity.occurred_on <= end)).all()
    return {name for name, body in rows if any(p in (body or "") for p in SIGNS)}


def _others(rt, owner_name):
    with rt.store.session() as s:
        return set(s.scalars(select(Account.name).join(CSM, CSM.id == Account.owner_id)
                             .where(CSM.name != owner_name)))


def _signal_lines(text):
    return [ln for ln in text.splitlines() if "Risk signal (" in ln]


def test_a_rolling_month_over_one_csms_book_lists_their_signals_in_the_window_cited(rt):
    today = rt.settings.as_of()
    start = today - timedelta(days=30)
    ans = Assistant(rt, use_memory=False).ask("any churn signals in Sam's notes over the last month?", NOAH,
                                               "s1")["answer"]
    text = ans["text"]
    assert "last 30 days" in text and f"{start.isoformat()} to {today.isoformat()}" in text, text
    expected = _noted(rt, "Sam Okafor", start, today)
    assert expected and all(f"{name}: Risk signal" in text for name in expected), text
    lines = _signal_lines(text)
    others = _others(rt, "Sam Okafor")
    assert lines and not [ln for ln in lines if ln.lstrip("• ").split(":")[0] in others]
    for ln in lines:
        day = re.findall(r", (\d{4}-\d{2}-\d{2})[);]", ln)[-1]
        assert start.isoformat() <= day <= today.isoformat(), ln
        assert re.search(r"\[\d+\]", ln), ln  # cited


def test_a_named_month_is_that_calendar_month(rt):
    ans = Assistant(rt, use_memory=False).ask("what risk signals came up in Diego's accounts in October?", NOAH,
                                               "s2")["answer"]
    text = ans["text"]
    assert "2026-10-01 to 2026-10-31" in text, text
    expected = _noted(rt, "Diego Alvarez", date(2026, 10, 1), date(2026, 10, 31))
    assert expected and all(f"{name}: Risk signal" in text for name in expected), text
    for ln in _signal_lines(text):
        assert re.findall(r", (\d{4}-\d{2}-\d{2})[);]", ln)[-1].startswith("2026-10"), ln


def test_a_csm_asking_about_a_colleagues_book_sees_none_of_it(rt):
    text = Assistant(rt, use_memory=False).ask("any red flags in Sam's book lately?", DANA, "s3")["answer"]["text"]
    sams = _others(rt, "Dana Reyes") - _others(rt, "Sam Okafor")  # Sam's own accounts
    assert sams and not [n for n in sams if f"{n}:" in text], text
