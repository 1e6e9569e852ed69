""""How much ARR did we lose": contract value before minus after (all of it for a churn), per renewal and
totalled, cited; expansions never net a loss away and the account's ARR today is never read as lost.

Through `Assistant.ask` on the seeded demo; every figure is read from the database by the test.
"""

from datetime import date

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account, RenewalEvent

DANA, SAM = "dana.reyes@retain.example", "sam.okafor@retain.example"


def _events(rt, owner, start, end, outcomes):
    with rt.store.session() as s:
        return s.execute(select(Account.name, Account.arr, RenewalEvent.arr_before, RenewalEvent.arr_after)
                         .join(Account, Account.id == RenewalEvent.account_id).join(CSM, CSM.id == Account.owner_id)
                         .where(CSM.email == owner, RenewalEvent.outcome.in_(outcomes),
                                RenewalEvent.renewal_date >= date.fromisoformat(start),
                                RenewalEvent.renewal_date <= date.fromisoformat(end))).all()


def _money(v):
    return f"${v:,.0f}"


def test_lost_arr_after_a_mixed_list_counts_the_losses_not_the_net(rt):
    bot = Assistant(rt, use_memory=False)
    bot.ask("which of my renewals this year expanded or contracted?", DANA, "m1")
    ans = bot.ask("how much ARR did we lose there?", DANA, "m1")["answer"]
    rows = _events(rt, DANA, "2026-01-01", "2026-11-23", ["expanded", "contracted"])
    lost = [r for r in rows if r.arr_after < r.arr_before]
    assert lost and len(lost) < len(rows)  # the demo mixes both, so net and lost differ
    text = ans["text"]
    assert f"ARR lost {_money(sum(r.arr_before - r.arr_after for r in lost))}" in text, text
    for r in lost:
        line = next(ln for ln in text.splitlines() if ln.lstrip("• ").startswith(f"{r.name}:"))
        assert f"lost {_money(r.arr_before - r.arr_after)}" in line and "[" in line, line


def test_a_new_question_about_lost_arr_reads_past_renewals_in_the_window(rt):
    bot = Assistant(rt, use_memory=False)
    ans = bot.ask("how much ARR did we lose on renewals in Q3?", SAM, "q3")["answer"]
    rows = _events(rt, SAM, "2026-07-01", "2026-09-30", ["churned", "contracted"])
    assert rows
    text = ans["text"]
    assert f"ARR lost {_money(sum(r.arr_before - r.arr_after for r in rows))}" in text, text
    assert all(f"lost {_money(r.arr_before - r.arr_after)}" in text for r in rows), text


def test_lost_to_churn_is_the_full_contract_value_of_each_churn_never_todays_arr(rt):
    bot = Assistant(rt, use_memory=False)
    ans = bot.ask("how much ARR did we lose to churn last year?", DANA, "c1")["answer"]
    rows = _events(rt, DANA, "2025-01-01", "2025-12-31", ["churned"])
    assert rows and all(r.arr != r.arr_before for r in rows)  # a churned account's ARR today is not what it lost
    text = ans["text"]
    assert f"ARR lost {_money(sum(r.arr_before for r in rows))}" in text, text
    assert all(f"lost {_money(r.arr_before)}" in text for r in rows), text
