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


def _spend(rt, names: list[str], start: str, end: str, field: str = "t.spend") -> float:
    quoted = ", ".join(f"'{n}'" for n in names)
    return float(_sql(rt, f"select sum({field}) from telemetry_daily t join accounts a on a.id = t.account_id where "
                          f"a.name in ({quoted}) and t.day between '{start}' and '{end}'")[0][0])


def test_spend_cost_or_tokens_of_the_last_accounts_is_their_usage_over_a_stated_window(rt):
    bot = Assistant(rt, use_memory=False)
    top = [n for (n,) in _sql(rt, "select name from accounts where owner_id = 8 and lifecycle_stage != 'churned' "
                                  "order by arr desc limit 3")]
    arr = _sql(rt, f"select sum(arr) from accounts where name in ({', '.join(repr(n) for n in top)})")[0][0]
    for k, ask in enumerate(("total cost of those?", "combined spend for those 3")):
        ans = _ask(bot, LENA, f"cost{k}", "my 3 biggest accounts", ask)[-1]
        first = ans["text"].splitlines()[0]
        assert "not the ARR" in first and "2026-10-25 to 2026-11-23" in first and "last 30 days" in first, first
        assert f"${_spend(rt, top, '2026-10-25', '2026-11-23'):,.0f}" in ans["text"], ans["text"][:500]
        assert f"${arr:,.0f}" not in ans["text"] and "did not apply" not in ans["text"], ans["text"][:500]
        assert all(n in ans["text"] for n in top)
    ans = bot.ask("how many tokens did they use in october?", LENA, "cost0")["answer"]
    assert "2026-10-01 to 2026-10-31" in ans["text"].splitlines()[0], ans["text"][:300]
    assert f"{_spend(rt, top, '2026-10-01', '2026-10-31', 't.input_tokens + t.output_tokens'):,.0f}" in ans["text"]


def test_a_usage_total_keeps_the_last_answers_usage_window_and_asks_when_the_count_does_not_match(rt):
    bot = Assistant(rt, use_memory=False)
    ans = _ask(bot, DIEGO, "win", "which 4 accounts of mine used the most requests over the last 60 days",
               "and what did those four spend altogether?")[-1]
    first = ans["text"].splitlines()[0]
    assert "same window as the last answer" in first and "2026-09-24 to 2026-11-23" in first, ans["text"][:400]
    top = [n for (n,) in _sql(rt, "select a.name from telemetry_daily t join accounts a on a.id = t.account_id where "
                                  "a.owner_id = 9 and a.lifecycle_stage != 'churned' and t.day between '2026-09-24' "
                                  "and '2026-11-23' group by a.name order by sum(t.api_requests) desc limit 4")]
    assert f"${_spend(rt, top, '2026-09-24', '2026-11-23'):,.0f}" in ans["text"], (top, ans["text"][:500])
    ans = bot.ask("total cost of those 2", DIEGO, "win")["answer"]
    assert "which one you mean" in ans["text"] and "$" not in ans["text"], ans["text"][:300]


def _renewal(rt, name: str) -> tuple:
    return _sql(rt, "select r.renewal_date, r.arr_before, r.arr_after from renewal_events r join accounts a on "
                    f"a.id = r.account_id where a.name = '{name}' order by r.renewal_date desc limit 1")[0]


def test_how_much_a_picked_renewal_grew_or_shrank_is_that_renewals_change(rt):
    bot = Assistant(rt, use_memory=False)
    grown = _sql(rt, "select a.name from renewal_events r join accounts a on a.id = r.account_id where a.owner_id = 8 "
                     "and r.outcome = 'expanded' and r.renewal_date >= '2026-01-01' order by r.arr_after - "
                     "r.arr_before limit 1")[0][0]
    day, before, after = _renewal(rt, grown)
    ans = _ask(bot, LENA, "grew", "which of my renewals expanded this year?",
               f"how much did the {grown} one grow by?")[-1]
    assert f"grew by ${after - before:,.0f} (+{(after - before) / before * 100:.1f}%)" in ans["text"], ans["text"][:400]
    assert "ARR change" in ans["reading"] and grown in ans["reading"], ans["reading"]
    # a name shared by two accounts is the one the last answer listed; a later pick reads the list again
    shrunk = _sql(rt, "select a.name from renewal_events r join accounts a on a.id = r.account_id where a.owner_id = 8 "
                      "and r.outcome = 'contracted' and r.renewal_date >= '2026-08-01' order by r.renewal_date "
                      "limit 1")[0][0]
    day, before, after = _renewal(rt, shrunk)
    ans = _ask(bot, LENA, "lost", "renewals on my book since august", f"what did we lose on the {shrunk.split()[0]} "
               "one, how much?")[-1]
    assert f"shrank by ${before - after:,.0f} (-{(before - after) / before * 100:.1f}%)" in ans["text"], ans["text"]


def test_how_much_an_account_row_grew_is_its_latest_renewals_change_never_its_health_card(rt):
    bot = Assistant(rt, use_memory=False)
    (name,), = _sql(rt, "select a.name from accounts a join contracts c on c.account_id = a.id and c.status = "
                        "'active' where a.owner_id = 5 and a.lifecycle_stage != 'churned' and c.renewal_date between "
                        "'2027-04-01' and '2027-04-30'")
    day, before, after = _renewal(rt, name)
    ans = _ask(bot, MARCUS, "acct", "which of my accounts renew in april 2027?", "and how much did that one shrink "
               "by last time?")[-1]
    assert f"shrank by ${before - after:,.0f}" in ans["text"] and str(day)[:10] in ans["text"], ans["text"][:400]
    assert "latest renewal" in ans["reading"] and "Health" not in ans["text"], ans["text"][:400]


def test_survey_rows_are_ranked_by_their_score_and_their_comments_quoted(rt):
    bot = Assistant(rt, use_memory=False)
    first = _ask(bot, LENA, "srv", "nps detractors on my accounts in the last 90 days?")[-1]
    start, end = re.search(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})", first["text"]).groups()
    rows = _sql(rt, "select a.name, s.score, s.comment from survey_responses s join accounts a on a.id = s.account_id "
                    f"where a.owner_id = 8 and a.lifecycle_stage != 'churned' and s.responded_on between '{start}' and "
                    f"'{end}' and s.score <= 6 and s.kind = 'nps' order by s.score")
    assert len(rows) >= 3 and rows[0][1] < rows[1][1], rows
    for k, ask in enumerate(("what were their gripes?", "so what did they complain about")):
        ans = _ask(bot, LENA, "srv", ask)[-1] if k == 0 else \
            _ask(bot, LENA, "srv1", "nps detractors on my accounts in the last 90 days?", ask)[-1]
        assert "which account" not in ans["text"].lower() and "quoted" in ans["reading"], ans["text"][:300]
        for comment in {c for _, _, c in rows}:
            assert f"\u201c{comment}\u201d" in ans["text"], (comment, ans["text"][:600])
        assert all(name in ans["text"] for name, _, _ in rows)
    ans = bot.ask("and which one of those scored worst?", LENA, "srv")["answer"]
    assert rows[0][0] in ans["text"] and f"score {rows[0][1]}" in ans["text"], ans["text"][:300]
    assert "Health" not in ans["text"]
    ans = bot.ask("what did they say?", LENA, "srv")["answer"]
    assert f"\u201c{rows[0][2]}\u201d: 1 response, {rows[0][0]}" in ans["text"], ans["text"][:300]


def test_a_per_account_count_over_a_kind_of_record_is_applied_with_the_counts(rt):
    bot = Assistant(rt, use_memory=False)
    live = "a.owner_id = 5 and a.lifecycle_stage != 'churned'"
    overdue = _sql(rt, "select a.name, count(*) from milestones m join onboarding_plans p on p.id = m.plan_id join "
                       f"accounts a on a.id = p.account_id where {live} and m.status != 'done' and m.due_date < "
                       "'2026-11-23' group by a.name")
    high = _sql(rt, "select a.name, count(*) from tickets t join accounts a on a.id = t.account_id where "
                    f"{live} and t.status != 'closed' and t.priority = 'high' group by a.name")
    for ask, counts, bound in (("accounts with more than 2 overdue milestones", overdue, 2),
                               ("which of my customers have 2+ open high priority tickets?", high, 1),
                               ("clients with at least two open high-priority tickets", high, 1)):
        ans = _ask(bot, MARCUS, ask, ask)[-1]
        assert ans["text"].startswith("Accounts") and "did not apply" not in ans["text"], ans["text"][:300]
        assert [n for n, c in counts if c > bound], counts
        for name, c in counts:
            assert (name in ans["text"]) == (c > bound), (ask, name, c, ans["text"][:500])
    tickets = _sql(rt, "select a.name, count(*) from tickets t join accounts a on a.id = t.account_id where "
                       f"{live} and t.opened_at >= '2026-01-01' group by a.name")
    for ask, bound in (("accounts with more than 4 tickets opened this year", 4),
                       ("which customers filed 6 or more tickets this year?", 5)):
        ans = _ask(bot, MARCUS, ask, ask)[-1]
        assert "did not apply" not in ans["text"] and "only accounts with" in ans["reading"], ans["text"][:300]
        passing = [(n, c) for n, c in tickets if c > bound]
        assert passing and len(passing) < len(tickets)
        for name, c in tickets:
            assert (f"{name}: {c} tickets" in ans["text"]) == (c > bound), (ask, name, c, ans["text"][:800])


def test_the_last_n_records_asked_oldest_first_are_the_n_most_recent_shown_upward(rt):
    bot = Assistant(rt, use_memory=False)
    days = [str(d)[:10] for (d,) in _sql(rt, "select x.occurred_on from activities x join accounts a on a.id = "
                                             "x.account_id where a.name = 'Northstar Freight' order by x.occurred_on")]
    assert len(days) >= 6 and len(set(days[-4:])) == 4
    for k, ask in enumerate(("last 4 touchpoints with Northstar Freight, oldest first",
                             "the latest 4 interactions with northstar freight in chronological order")):
        ans = _ask(bot, "priya.patel@retain.example", f"up{k}", ask)[-1]
        assert "did not apply" not in ans["text"] and "shown oldest first" in ans["reading"], ans["text"][:300]
        shown = re.findall(r"occurred on (\d{4}-\d{2}-\d{2})", ans["text"])
        assert shown == days[-4:], (shown, days, ans["text"][:1500])
    ans = _ask(bot, "priya.patel@retain.example", "up2", "the last 3 tickets on my accounts, all statuses",
               "oldest first please")[-1]
    first = _ask(bot, "priya.patel@retain.example", "up3", "the last 3 tickets on my accounts, all statuses")[-1]
    before = re.findall(r"opened at (\d{4}-\d{2}-\d{2})", first["text"])
    assert len(before) == 3 and re.findall(r"opened at (\d{4}-\d{2}-\d{2})", ans["text"]) == before[::-1], ans["text"]


def test_arr_lost_over_renewal_rows_said_with_a_shorthand_year_is_over_those_rows(rt):
    bot = Assistant(rt, use_memory=False)
    rows = _sql(rt, "select r.arr_before - r.arr_after from renewal_events r join accounts a on a.id = r.account_id "
                    "where a.owner_id = 5 and r.outcome = 'contracted' and r.renewal_date >= '2026-01-01'")
    older = _sql(rt, "select count(*) from renewal_events r join accounts a on a.id = r.account_id where "
                     "a.owner_id = 5 and r.outcome = 'contracted' and r.renewal_date < '2026-01-01'")[0][0]
    assert rows and older
    ans = _ask(bot, MARCUS, "yr", "which of my renewals shrank this yr?", "how much ARR did we lose on those?")[-1]
    assert "2026-01-01 to 2026-11-23" in ans["reading"], ans["reading"]
    assert f"ARR lost ${sum(x for (x,) in rows):,.0f} on {len(rows)} " in ans["text"], ans["text"][:300]
