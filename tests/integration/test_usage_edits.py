"""Usage figures edited by a follow-up (issue 36): another measure, the window compared, the listed accounts summed.

Each test holds a short conversation on the seeded demo through the real graph and checks the figures against
the database: "same for requests" after an account's average p95 keeps the account and window; "and compared
to september?" gives that measure for both windows; "order them by cost instead" after a top 3 by requests
re-ranks the per-account totals by spend; "total cost of those 3?" sums the listed accounts' spend.
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
OLIVIA = "olivia.grant@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _pct(x: float) -> str:  # a rate under 1% keeps two significant digits (0.53%), never rounded to 0.5% or 1%
    return f"{x * 100:.2g}%" if x * 100 < 0.995 else f"{round(x * 100, 1):g}%"


def test_another_measure_and_another_window_keep_the_account_and_the_aggregate(rt):
    bot = Assistant(rt, use_memory=False)
    acme = "select avg(error_rate) from telemetry_daily t join accounts a on a.id = t.account_id where a.name = " \
           "'Acme Corp' and t.day between '{}' and '{}'"
    nov = _sql(rt, acme.format("2026-11-01", "2026-11-23"))[0][0]
    sep = _sql(rt, acme.format("2026-09-01", "2026-09-30"))[0][0]
    for n, ask in enumerate(("same for error rate", "what about the error rate")):
        thread = f"err{n}"
        bot.ask("acme corp p95 latency since november 1", DANA, thread)
        out = bot.ask(ask, DANA, thread)["answer"]["text"]
        assert "error rate" in out and _pct(nov) in out and "2026-11-01" in out, out
        assert "day 2026-11" not in out, out  # one average, not a list of days
    out = bot.ask("vs september?", DANA, "err0")["answer"]["text"]
    assert "2026-09-01" in out and "2026-11-01" in out and _pct(sep) in out and _pct(nov) in out, out


def test_a_ranking_by_one_usage_measure_re_ranked_by_another_and_its_accounts_summed(rt):
    bot = Assistant(rt, use_memory=False)
    spend = _sql(rt, "select a.name, sum(t.spend) s from telemetry_daily t join accounts a on a.id = t.account_id "
                     "where a.owner_id in (4, 5, 6) and t.day between '2026-09-01' and '2026-09-30' "
                     "group by a.id order by s desc limit 4")
    bot.ask("top 3 east accounts by api requests in september", OLIVIA, "rank")
    out = bot.ask("order them by cost instead", OLIVIA, "rank")["answer"]["text"]
    assert all(name in out for name, _ in spend[:3]) and spend[3][0] not in out, out
    assert "day 2026-09" not in out and "2026-09-01" in out, out
    out = bot.ask("total cost of those 3?", OLIVIA, "rank")["answer"]["text"]
    total = round(sum(s for _, s in spend[:3]))
    assert f"${total:,}" in out and "not the ARR" in out, out
