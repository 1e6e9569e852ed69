"""Windows said loosely: an open start ("since X") in a follow-up and "through the end of <month>".

Each test asks through the real graph on the seeded demo (no model; today is 2026-11-23) and checks the
window read and the rows shown against SQL.
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
MARCUS = "marcus.chen@retain.example"
TICKETS = "from tickets t join accounts a on a.id = t.account_id where a.owner_id = {o} and " \
          "substr(cast(t.opened_at as text), 1, 10) between '{a}' and '{b}'"
RENEWING = "select a.name from contracts k join accounts a on a.id = k.account_id where a.owner_id = {o} and " \
           "a.lifecycle_stage != 'churned' and k.status = 'active' and k.renewal_date between '{a}' and '{b}'"


def _sql(rt, q: str) -> list:
    with rt.store.session() as s:
        return [r[0] for r in s.execute(text(q))]


def test_since_a_day_in_a_follow_up_runs_from_that_day_to_today(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, first, then, start in [
        (DANA, 4, "tickets opened in the last 2 weeks", "and since oct 1?", "2026-10-01"),
        (MARCUS, 5, "which tickets were filed last week", "what about since november 2nd", "2026-11-02"),
    ]:
        n = _sql(rt, "select count(*) " + TICKETS.format(o=owner, a=start, b="2026-11-23"))[0]
        assert n > 0
        r = [bot.ask(q, who, f"since:{who}") for q in (first, then)][-1]["answer"]
        head = r["text"].splitlines()[0]
        assert f"{start} to 2026-11-23" in head, r["text"]
        assert f"{n} tickets" in r["text"], r["text"]


def test_through_the_end_of_a_month_runs_from_today_to_that_months_end(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q, end in [
        (DANA, 4, "my renewals thru end of january", "2027-01-31"),
        (MARCUS, 5, "which of my accounts renew through the end of february?", "2027-02-28"),
    ]:
        want = _sql(rt, RENEWING.format(o=owner, a="2026-11-23", b=end))
        month_only = _sql(rt, RENEWING.format(o=owner, a=end[:8] + "01", b=end))
        sooner = set(want) - set(month_only)
        assert sooner, "the demo needs a renewal before that month for this test to tell the readings apart"
        a = bot.ask(q, who, f"thru:{who}:{q}")["answer"]["text"]
        assert f"2026-11-23 to {end}" in a.splitlines()[0], a
        assert all(n in a for n in want), a


def test_a_bare_day_of_the_month_is_that_day_on_the_verbs_own_date(rt):
    bot = Assistant(rt, use_memory=False)
    for q, day, field in [
        ("tickets filed on the 20th", "2026-11-20", "opened_at"),
        ("which of my tickets were closed on the 3rd?", "2026-11-03", "closed_at"),
        ("tickets opened on the 30th", "2026-10-30", "opened_at"),  # the 30th is still ahead: last month's
    ]:
        n = _sql(rt, f"select count(*) from tickets t join accounts a on a.id = t.account_id where a.owner_id = 4 "
                     f"and substr(cast(t.{field} as text), 1, 10) = '{day}'")[0]
        a = bot.ask(q, DANA, f"day:{q}")["answer"]["text"]
        assert f"{day} to {day}" in a.splitlines()[0] and f"{n} tickets" in a, a
    r = [bot.ask(q, DANA, "day:after") for q in ("show my open tickets", "any opened on the 12th?")][-1]["answer"]
    assert "Picked from the last answer" not in r["text"] and "2026-11-12 to 2026-11-12" in r["text"], r["text"]


def test_a_bound_written_with_a_leading_dot_is_applied(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q, cond, said in [
        (MARCUS, 5, "which of my fine-tunes have an eval score under .65?", "< 0.65", "under 0.65"),
        (DANA, 4, "fine tunes with eval score above .75", "> 0.75", "over 0.75"),
    ]:
        mine = f"from fine_tune_jobs f join accounts a on a.id = f.account_id where a.owner_id = {owner}"
        n = _sql(rt, f"select count(*) {mine} and f.eval_score {cond}")[0]
        every = _sql(rt, f"select count(*) {mine}")[0]
        assert 0 < n < every
        a = bot.ask(q, who, f"dot:{q}")["answer"]
        assert said in a["text"].splitlines()[0] and f"{n} fine-tunes" in a["text"], a["text"]
        assert not a.get("not_applied"), a["text"]


def test_a_count_written_n_plus_is_a_lower_bound_on_related_records(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q in [(DANA, 4, "accounts with 2+ open tickets"), (MARCUS, 5, "which of my accounts have 2+ open "
                                                                                   "tickets?")]:
        want = _sql(rt, f"select a.name from tickets t join accounts a on a.id = t.account_id where a.owner_id = "
                        f"{owner} and t.status != 'closed' and a.lifecycle_stage != 'churned' group by a.name "
                        f"having count(*) >= 2")
        assert want
        a = bot.ask(q, who, f"plus:{q}")["answer"]["text"]
        assert "open tickets at least 2" in a.splitlines()[0] and "open tickets 1," not in a, a
        assert all(n in a for n in want), a
