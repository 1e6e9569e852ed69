"""Totals and measures over the last answer's rows (issue 36): counted, summed or changed on those rows.

Each test holds a short conversation on the seeded demo through the real graph (no model) and checks the
answer against the database: a count over the last records with an added filter names their accounts
(never a switch to counting accounts); ARR won or lost on renewal rows is the change of those renewals,
never an account's ARR today; spend, cost or tokens of the last accounts is their usage over a stated
window; survey rows are ranked and quoted by their own scores and comments; a per-account count over a
child record ("more than 2 overdue milestones") is applied, with the counts.
"""

import re

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
SAM = "sam.okafor@retain.example"
LENA = "lena.fischer@retain.example"
MARCUS = "marcus.chen@retain.example"
DIEGO = "diego.alvarez@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _ask(bot: Assistant, who: str, thread: str, *asks: str) -> list[dict]:
    return [bot.ask(a, who, thread)["answer"] for a in asks]


def test_a_count_over_the_last_records_with_a_filter_names_their_accounts(rt):
    bot = Assistant(rt, use_memory=False)
    oct_ = "t.opened_at >= '2026-10-01' and t.opened_at < '2026-11-01' and a.owner_id = 5 and " \
        "a.lifecycle_stage != 'churned'"
    high = _sql(rt, f"select a.name, count(*) from tickets t join accounts a on a.id = t.account_id where {oct_} and "
                    "t.priority = 'high' group by a.name")
    normal_only = {n for (n,) in _sql(rt, f"select distinct a.name from tickets t join accounts a on a.id = "
                                          f"t.account_id where {oct_}")} - {n for n, _ in high}
    assert high and normal_only
    for k, ask in enumerate(("how many of those were high priority, and on which accounts?",
                             "how many of them are high priority and at which customers")):
        ans = _ask(bot, MARCUS, f"cnt{k}", "tickets opened on my accounts in october", ask)[-1]
        first = ans["text"].splitlines()[0]
        assert first.lower().startswith("tickets") and "high" in first and "2026-10-01" in first, ans["text"][:300]
        assert f"{sum(c for _, c in high)} tickets" in ans["text"], ans["text"][:300]
        for name, c in high:
            assert re.search(rf"{re.escape(name)}: {c} tickets?\b", ans["text"]), (name, ans["text"][:600])
        assert not any(n in ans["text"] for n in normal_only), ans["text"][:600]


def test_a_count_over_survey_rows_applies_a_bound_on_their_score(rt):
    bot = Assistant(rt, use_memory=False)
    n = _sql(rt, "select count(*) from survey_responses s join accounts a on a.id = s.account_id where a.owner_id = 4 "
                 "and a.lifecycle_stage != 'churned' and s.responded_on >= '2026-09-01' and s.score < 7")[0][0]
    ans = _ask(bot, DANA, "srv", "survey responses on my accounts since september",
               "how many of those scored under 7?")[-1]
    assert "score under 7" in ans["text"].splitlines()[0] and f"{n} survey responses" in ans["text"], ans["text"][:300]
    assert "did not apply" not in ans["text"]
