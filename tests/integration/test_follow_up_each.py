"""Follow-ups asked of every row of a list, and plural pointers back at a list after one row was picked (issue 36).

After a list of accounts, "who is the champion at each" or "how many open tickets does each have?" keeps
that row set and answers one line per account, and the reading line says so ("Of the 6 accounts of the last
answer, their champions:"). After one row was picked from a list, "both of them" / "all of those" / "each of
these" go back to the whole list; a singular pointer ("its", "that one") keeps the picked row.
"""

from sqlalchemy import text

from agents.assistant import Assistant
from tools.health import score_portfolio

MARCUS = "marcus.chen@retain.example"
LENA = "lena.fischer@retain.example"
DIEGO = "diego.alvarez@retain.example"
NOAH = "noah.kim@retain.example"
SAM = "sam.okafor@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _banded(rt, owner: int, band: str) -> list[tuple[str, int]]:
    """The owner's live accounts in a health band today, lowest score first (scored as the assistant scores)."""
    table = score_portfolio(rt.store, rt.card, rt.tool_context(LENA).as_of).table
    mine = _sql(rt, f"select name, id from accounts where owner_id = {owner} and lifecycle_stage != 'churned'")
    return sorted([(n, i) for n, i in mine if i in table.band.index and str(table.band[i]) == band],
                  key=lambda x: float(table.score[x[1]]))


def _ask(bot: Assistant, who: str, thread: str, *asks: str) -> str:
    return [bot.ask(a, who, thread) for a in asks][-1]["answer"]["text"]


def _first_line(answer: str) -> str:
    return answer.strip().splitlines()[0]


def test_the_champion_at_each_listed_account_keeps_the_list(rt):
    bot = Assistant(rt, use_memory=False)
    listed = _sql(rt, "select a.id from accounts a join contracts k on k.account_id = a.id where a.owner_id = 5 and "
                      "k.status = 'active' and a.lifecycle_stage != 'churned' and k.renewal_date >= '2027-01-01' and "
                      "k.renewal_date <= '2027-03-31'")
    assert len(listed) >= 4
    ids = ",".join(str(i) for (i,) in listed)
    champs = _sql(rt, f"select c.name from contacts c where c.account_id in ({ids}) and c.is_champion and "
                      "c.left_on is null")
    others = _sql(rt, f"select c.name from contacts c join accounts a on a.id = c.account_id where a.owner_id = 5 and "
                      f"c.account_id not in ({ids}) and c.is_champion and c.left_on is null")
    outside = [n for (n,) in others if n not in {c for (c,) in champs}]
    assert champs and outside
    for k, ask in enumerate(("who is the champion at each", "for all of those, who's their champion?")):
        r = _ask(bot, MARCUS, f"champ{k}", "which of my accounts renew in q1 next year?", ask)
        assert _first_line(r) == f"Of the {len(listed)} accounts of the last answer, their champions:", r
        assert all(n in r for (n,) in champs), r
        assert not any(n in r for n in outside), r


def test_a_count_or_a_contact_per_listed_account(rt):
    bot = Assistant(rt, use_memory=False)
    yellow = _banded(rt, 9, "yellow")
    assert len(yellow) >= 3
    for k, ask in enumerate(("how many open tickets does each have?", "open ticket count for each of them")):
        r = _ask(bot, DIEGO, f"count{k}", "which of my accounts are yellow", ask)
        for name, aid in yellow:  # every listed account, a zero said too
            n = _sql(rt, f"select count(*) from tickets where account_id = {aid} and status != 'closed'")[0][0]
            line = next(x for x in r.splitlines() if x.lstrip("• ").startswith(f"{name}:"))
            assert f"open tickets {n}" in line, (name, n, r)

    r = _ask(bot, DIEGO, "nps", "which of my accounts are yellow", "latest nps for each")
    assert "I did not apply" not in r, r
    for name, aid in yellow:  # each account's own latest NPS, not one row picked as "the latest"
        last = _sql(rt, f"select score from survey_responses where account_id = {aid} and kind = 'nps' "
                        "order by responded_on desc limit 1")
        line = next(x for x in r.splitlines() if x.lstrip("• ").startswith(f"{name}:"))
        assert (f"latest NPS {last[0][0]}" if last else "latest NPS") in line or not last, (name, last, r)

    r = _ask(bot, DIEGO, "when", "which of my accounts are yellow", "when is each one up for renewal?")
    for name, aid in yellow:  # each account's next renewal date, never its past renewals
        due = _sql(rt, f"select renewal_date from contracts where account_id = {aid} and status = 'active'")
        line = next(x for x in r.splitlines() if x.lstrip("• ").startswith(f"{name}:"))
        assert f"renews {str(due[0][0])[:10]}" in line, (name, due, r)
    assert "outcome" not in r, r

    r = _ask(bot, DIEGO, "sponsor", "which of my accounts are yellow", "and the exec sponsor at every one of them?")
    assert _first_line(r).startswith(f"Of the {len(yellow)} accounts of the last answer, their most senior"), r
    rows = [x for x in r.splitlines() if "role " in x]
    assert sorted(x.lstrip("• ").split(":")[0] for x in rows) == sorted(n for n, _ in yellow), r


def test_both_of_them_after_a_pick_is_the_whole_list_and_its_keeps_the_pick(rt):
    bot = Assistant(rt, use_memory=False)
    red = _banded(rt, 8, "red")
    assert len(red) == 2
    open_at = {n: [s for (s,) in _sql(rt, f"select subject from tickets where account_id = {i} and status != 'closed'")]
               for n, i in red}
    with_tickets = [n for n, subjects in open_at.items() if subjects]
    assert with_tickets
    for k, plural in enumerate(("any open tickets at both of them?", "open tickets for all of those?",
                                "and open tickets at each of these?")):
        thread = f"both{k}"
        _ask(bot, LENA, thread, "which of my accounts are red", "the second one")
        r = bot.ask(plural, LENA, thread)["answer"]["text"]
        assert "2 accounts of the last answer" in _first_line(r), r
        assert all(s in r for n in with_tickets for s in open_at[n]), r

    _ask(bot, LENA, "its", "which of my accounts are red", "the first one")
    first = red[0][0]  # the list is lowest health first
    r = bot.ask("and its open tickets?", LENA, "its")["answer"]["text"]
    assert first in r and not any(n in r for n, _ in red if n != first), r


def _spend(rt, owner: int) -> list[tuple[str, float]]:
    """The owner's accounts by October spend, lowest first."""
    return [(n, float(v)) for n, v in _sql(
        rt, "select a.name, sum(t.spend) from telemetry_daily t join accounts a on a.id = t.account_id where "
            f"a.owner_id = {owner} and t.day >= '2026-10-01' and t.day <= '2026-10-31' group by a.name "
            "order by sum(t.spend)")]


def _names(answer: str) -> list[str]:
    return [x.lstrip("• ").split(":")[0] for x in answer.splitlines() if x.startswith("• ") and ":" in x]


def test_flip_reverse_or_lowest_first_turns_a_ranked_list_round(rt):
    bot = Assistant(rt, use_memory=False)
    spend = _spend(rt, 9)
    assert len(spend) > 8 and spend[2][1] < spend[3][1] and spend[-3][1] > spend[-4][1]  # no tie at either cut
    lowest, highest = [n for n, _ in spend[:3]], [n for n, _ in spend[-3:]]
    for k, turn in enumerate(("flip that", "other way round please", "lowest first instead")):
        first = bot.ask("my top 3 accounts by spend last month", DIEGO, f"flip{k}")["answer"]["text"]
        assert all(n in first for n in highest), first
        r = bot.ask(turn, DIEGO, f"flip{k}")["answer"]["text"]
        assert "lowest first" in _first_line(r) and "spend" in _first_line(r), r
        assert sorted(n for n in _names(r) if n in dict(spend)) == sorted(lowest), r
        assert not any(n in r for n in highest), r

    arr = _sql(rt, "select a.name from accounts a join contracts k on k.account_id = a.id where a.owner_id = 9 and "
                   "k.status = 'active' and a.lifecycle_stage != 'churned' order by k.arr")
    r = _ask(bot, DIEGO, "rev", "my 4 biggest accounts by arr", "reverse it")
    assert [n for n in _names(r) if n in {x for (x,) in arr}] == [n for (n,) in arr[:4]], r

    opened = _sql(rt, "select substr(cast(t.opened_at as text), 1, 10) from tickets t join accounts a on "
                      "a.id = t.account_id where a.owner_id = 7 and t.status != 'closed' and "
                      "a.lifecycle_stage != 'churned' order by t.opened_at")
    r = _ask(bot, SAM, "revtix", "my open tickets", "reverse that")  # a list in its default order, newest first
    assert "oldest first" in _first_line(r), r
    shown = [d for d in (x.rsplit("opened at ", 1)[-1][:10] for x in r.splitlines() if "opened at " in x)]
    assert shown == sorted(shown) and shown[0] == opened[0][0], r


def test_a_superlative_and_a_number_sorts_and_cuts_the_rows(rt):
    bot = Assistant(rt, use_memory=False)
    q1 = _sql(rt, "select a.name, k.renewal_date, k.arr from accounts a join contracts k on k.account_id = a.id "
                  "where a.owner_id in (7, 8, 9) and k.status = 'active' and a.lifecycle_stage != 'churned' and "
                  "k.renewal_date >= '2027-01-01' and k.renewal_date <= '2027-03-31'")
    assert len(q1) > 6
    by_date = sorted(q1, key=lambda x: str(x[1]))
    assert str(by_date[2][1]) < str(by_date[3][1])
    for k, ask in enumerate(("soonest 3", "earliest three")):
        r = _ask(bot, NOAH, f"soon{k}", "accounts on my team renewing in q1 next year", ask)
        assert not r.startswith("Picked"), r  # the rows sorted and cut, never one row picked
        assert _names(r)[-3:] == [n for n, _, _ in by_date[:3]], r
        assert "top 3" in _first_line(r) and "oldest first" in _first_line(r), r
    by_arr = sorted(q1, key=lambda x: -float(x[2]))
    r = _ask(bot, NOAH, "big", "accounts on my team renewing in q1 next year", "biggest five")
    assert _names(r)[-5:] == [n for n, _, _ in by_arr[:5]], r
    assert "sorted by arr, highest first, top 5" in _first_line(r).lower(), r

    tickets = _sql(rt, "select t.subject, t.opened_at from tickets t join accounts a on a.id = t.account_id where "
                       "a.owner_id = 7 and t.status != 'closed' and a.lifecycle_stage != 'churned' "
                       "order by t.opened_at")
    assert len(tickets) > 3 and str(tickets[1][1])[:10] < str(tickets[2][1])[:10]
    r = _ask(bot, SAM, "old", "my open tickets", "oldest two")
    assert "oldest first, top 2" in _first_line(r), r
    assert str(tickets[0][1])[:10] in r and str(tickets[1][1])[:10] in r and str(tickets[2][1])[:10] not in r, r
