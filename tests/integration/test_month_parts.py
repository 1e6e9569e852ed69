"""Parts of a month ("second half of october", "mid-november", "the first week of november", "end of last month").

Each asks through the real graph on the seeded demo (no model; today is 2026-11-23) and checks that the reading
line says the exact days and the count matches SQL over them, not the year's half or the whole month.
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
MARCUS = "marcus.chen@retain.example"
TICKETS = "select count(*) from tickets t join accounts a on a.id = t.account_id where a.owner_id = {o} and " \
          "substr(cast(t.opened_at as text), 1, 10) between '{a}' and '{b}'"


def _count(rt, q: str) -> int:
    with rt.store.session() as s:
        return int(s.execute(text(q)).scalar() or 0)


def test_a_part_of_a_month_is_read_as_its_exact_days(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q, a, b in [
        (DANA, 4, "how many tickets were opened in the second half of october?", "2026-10-16", "2026-10-31"),
        (MARCUS, 5, "tickets opened mid-november", "2026-11-11", "2026-11-20"),
        (DANA, 4, "count of tickets filed the first week of november", "2026-11-01", "2026-11-07"),
        (MARCUS, 5, "how many tickets came in at the end of last month", "2026-10-21", "2026-10-31"),
    ]:
        n = _count(rt, TICKETS.format(o=owner, a=a, b=b))
        whole = _count(rt, TICKETS.format(o=owner, a=a[:8] + "01", b=b[:8] + "31"))
        r = bot.ask(q, who, f"part:{who}:{q}")["answer"]["text"]
        assert f"{a} to {b}" in r.splitlines()[0], r
        assert f"{n} ticket" in r, (r, n, whole)
