"""Counts per person or account, narrowing a ranking by owner, several fields per row (issue 36).

Short conversations on the seeded demo through the real Assistant, checked against the database:
"who has the most red accounts" ranks CSMs by how many such accounts each has (not by their ARR) and "list
his" then lists that CSM's accounts of that kind; "only Lena's" after a top 5 says it re-ran the ranking on her
accounts; "accounts with more than 1 open P1" / "anyone with at least two overdue milestones" bound each
account's count of those records; "who owns these and when do they renew" answers both fields on every row.
"""

from collections import Counter

from sqlalchemy import text

from agents.assistant import Assistant
from tests.conftest import TODAY
from tools.query import Filter, Query, Sort, run

OLIVIA, NOAH = "olivia.grant@retain.example", "noah.kim@retain.example"


def _sql(rt, q: str, **params) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q), params)]


def _first(out: str) -> str:
    return out.split("\n", 1)[0]


def test_most_accounts_of_a_kind_ranks_csms_by_that_count_and_his_lists_that_csms_rows(rt):
    bot = Assistant(rt, use_memory=False)
    for n, (who, band, ask, theirs) in enumerate([
            (OLIVIA, "red", "who on my team has the most red accounts", "list his"),
            (NOAH, "green", "which rep on my team owns the greatest number of green customers?", "show me hers")]):
        rows = run(rt.tool_context(who), Query(entity="accounts", fields=["account", "owner", "arr"],
                                               filters=[Filter(field="band", value=band)])).rows
        count = Counter(r["owner"] for r in rows)
        arr = Counter({o: sum(float(r["arr"] or 0) for r in rows if r["owner"] == o) for o in count})
        top, runner = [o for o, _ in count.most_common(2)]
        assert count[top] > count[runner] and arr.most_common(1)[0][0] != top  # the two rankings differ here
        out = bot.ask(ask, who, f"most{n}")["answer"]["text"]
        assert "number of accounts" in _first(out), out
        body = out.split("\n", 1)[1]
        assert f"{top}: {count[top]} accounts" in body and body.index(top) < body.index(runner), out
        out = bot.ask(theirs, who, f"most{n}")["answer"]["text"]
        mine = {r["account"] for r in rows if r["owner"] == top}
        others = {r["account"] for r in rows} - mine
        assert all(a in out for a in mine), out
        assert not any(f"{a}:" in out for a in others), out
        assert top in _first(out) and band in _first(out), out


def test_only_one_csms_after_a_top_n_reruns_that_ranking_on_their_accounts_and_says_so(rt):
    bot = Assistant(rt, use_memory=False)
    for n, (who, ask, then, csm) in enumerate([
            (NOAH, "top 5 west accounts by arr", "just the ones diego owns", "Diego Alvarez"),
            (OLIVIA, "my team's 4 biggest accounts", "ok only priya's", "Priya Patel")]):
        k = 5 if "5" in ask else 4
        before = run(rt.tool_context(who), Query(entity="accounts", fields=["account", "owner", "arr"],
                                                 sort=[Sort(field="arr", desc=True)], limit=k)).rows
        want = run(rt.tool_context(who), Query(entity="accounts", fields=["account", "owner", "arr"],
                                               filters=[Filter(field="owner", value=csm)],
                                               sort=[Sort(field="arr", desc=True)], limit=k)).rows
        bot.ask(ask, who, f"only{n}")
        out = bot.ask(then, who, f"only{n}")["answer"]["text"]
        head = _first(out)
        mine = sum(r["owner"] == csm for r in before)
        assert f"re-run on {csm}'s accounts ({mine} of the {k} in the last list" in head, out
        assert [r["account"] for r in want] == [line.split(":")[0].lstrip("• ") for line in out.split("\n")[2:2 + k]]


def test_a_bound_on_each_accounts_count_of_open_p1s_or_overdue_milestones(rt):
    bot = Assistant(rt, use_memory=False)
    def p1(who: str) -> dict[str, int]:
        return {a: c for a, c in _sql(rt, "select a.name, count(*) from tickets t join accounts a on a.id = "
                                           "t.account_id join csms c on c.id = a.owner_id where c.email = :e and "
                                           "t.status = 'open' and t.priority in ('high', 'urgent') group by a.name",
                                      e=who + "@retain.example")}
    late = {a: c for a, c in _sql(rt, "select a.name, count(*) from milestones m join onboarding_plans p on "
                                       "p.id = m.plan_id join accounts a on a.id = p.account_id join csms c on "
                                       "c.id = a.owner_id where c.email = :e and m.status != 'done' and "
                                       "m.due_date < :d group by a.name", e="sam.okafor@retain.example", d=TODAY)}
    cases = [("dana.reyes", "which of my customers have more than 1 open P1", p1("dana.reyes"), lambda c: c > 1,
              "over 1"),
             ("sam.okafor", "any of my customers with over 1 sev1 still open?", p1("sam.okafor"), lambda c: c > 1,
              "over 1"),
             ("marcus.chen", "who has at least 2 P1 tickets open", p1("marcus.chen"), lambda c: c >= 2, "at least 2"),
             ("sam.okafor", "anyone with at least two overdue milestones", late, lambda c: c >= 2, "at least 2")]
    for n, (who, ask, counts, keep, said) in enumerate(cases):
        assert any(keep(c) for c in counts.values()) and any(not keep(c) for c in counts.values())
        out = bot.ask(ask, who + "@retain.example", f"bound{n}")["answer"]["text"]
        assert said in _first(out), out
        for name, c in counts.items():
            assert (f"{name}: " in out) == keep(c), (name, c, out)
    assert "high or urgent priority" in _first(bot.ask("accounts w/ two or more open p1s", "marcus.chen@retain.example",
                                                       "p1")["answer"]["text"])


def test_owner_and_renewal_date_asked_together_are_both_on_every_row(rt):
    bot = Assistant(rt, use_memory=False)
    dates = {a: str(d)[:10] for a, d in _sql(rt, "select a.name, c.renewal_date from contracts c join accounts a on "
                                                  "a.id = c.account_id where c.status = 'active'")}
    for n, (who, ask, then) in enumerate([
            ("priya.patel", "my red and yellow accounts", "who owns these and when are they up for renewal"),
            ("noah.kim", "top 5 west accounts by arr", "owner + renewal date for those?")]):
        first = bot.ask(ask, who + "@retain.example", f"both{n}")["answer"]["text"]
        listed = [line.split(":")[0].lstrip("• ") for line in first.split("\n")[2:] if line.startswith("• ")]
        out = bot.ask(then, who + "@retain.example", f"both{n}")["answer"]["text"]
        lines = {line.split(":")[0].lstrip("• "): line for line in out.split("\n") if line.startswith("• ")}
        assert listed and [a for a in lines if a in listed] == listed, out  # every row, in the list's order
        for a in listed:
            assert "owner " in lines[a] and f"renews {dates[a]}" in lines[a], lines[a]


def test_only_one_csms_after_a_usage_ranking_reruns_it_on_their_accounts(rt):
    bot = Assistant(rt, use_memory=False)
    top = ("select a.name, c.name from telemetry_daily t join accounts a on a.id = t.account_id join csms c on "
           "c.id = a.owner_id where c.team = 'West' and t.day between '2026-09-01' and '2026-09-30' {} "
           "group by a.name, c.name order by sum(t.spend) desc limit 4")
    before = _sql(rt, top.format(""))
    want = [a for a, _ in _sql(rt, top.format("and c.name = 'Lena Fischer'"))]
    n = sum(o == "Lena Fischer" for _, o in before)
    bot.ask("which 4 west accounts spent the most in september", NOAH, "spend")
    out = bot.ask("ok now only lena's", NOAH, "spend")["answer"]["text"]
    assert f"re-run on Lena Fischer's accounts ({n} of the 4 in the last list" in _first(out), out
    assert "2026-09-01 to 2026-09-30" in _first(out), out
    assert want == [line.split(":")[0].lstrip("• ") for line in out.split("\n")[2:6]], out
