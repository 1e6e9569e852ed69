"""Accounts with nothing logged in a window ("which of mine have had no activity since ...").

A negated existence over a window asked about accounts lists the accounts whose last activity is before the
window, the longest silent first with the date shown, never the activities that were logged. Asked through the
real graph on the seeded demo (no model; today is 2026-11-23), checked against SQL.
"""

import re

from sqlalchemy import text

from agents.assistant import Assistant

MARCUS = "marcus.chen@retain.example"
SAM = "sam.okafor@retain.example"
LAST = "select a.name, max(x.occurred_on) from accounts a join activities x on x.account_id = a.id " \
       "where a.owner_id = {o} and a.lifecycle_stage != 'churned' and x.occurred_on <= '2026-11-23' group by a.name"


def _last(rt, owner: int) -> dict[str, str]:
    with rt.store.session() as s:
        return {r[0]: str(r[1])[:10] for r in s.execute(text(LAST.format(o=owner)))}


def test_accounts_with_nothing_logged_since_a_day_are_the_silent_ones(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q, start in [
        (MARCUS, 5, "which of mine have had no activity logged since nov 1?", "2026-11-01"),
        (SAM, 7, "customers with nothing recorded since october 20", "2026-10-20"),
        (MARCUS, 5, "which accounts have had no touches in the last 4 weeks", "2026-10-26"),
    ]:
        last = _last(rt, owner)
        silent = sorted((d, n) for n, d in last.items() if d < start)
        logged = [n for n, d in last.items() if d >= start]
        assert silent and logged, "the demo needs both kinds of account for this test to tell the readings apart"
        r = bot.ask(q, who, f"none:{who}:{q}")["answer"]["text"]
        head = r.splitlines()[0] + r.splitlines()[1]
        assert f"since {start}" in head and "Accounts" in head, r
        names = [n for _, n in silent]
        assert all(n in r for n in names), (r, names)
        shown = re.findall(r"last touch (\d{4}-\d{2}-\d{2})", r)
        assert shown == sorted(shown) and len(shown) == len(names), r  # longest silent first, each date shown
        assert silent[0][0] in r, r  # the last date is shown
        assert not any(n in r for n in logged), (r, logged)


def test_who_left_at_my_accounts_in_a_window_is_the_contacts_with_a_left_date_in_it(rt):
    bot = Assistant(rt, use_memory=False)
    for who, owner, q, a, b in [
        (MARCUS, 5, "who's left at my accounts since august?", "2026-08-01", "2026-11-23"),
        (MARCUS, 5, "who has departed from my customers in october", "2026-10-01", "2026-10-31"),
        (SAM, 7, "anyone quit at my accounts since september 15", "2026-09-15", "2026-11-23"),
    ]:
        with rt.store.session() as s:
            left = {r[0] for r in s.execute(text(
                "select c.name from contacts c join accounts a on a.id = c.account_id where a.owner_id = :o and "
                "a.lifecycle_stage != 'churned' and c.left_on between :a and :b"), {"o": owner, "a": a, "b": b})}
            other = {r[0] for r in s.execute(text(
                "select c.name from contacts c join accounts a on a.id = c.account_id where a.owner_id = :o and "
                "c.left_on is not null and c.left_on not between :a and :b"), {"o": owner, "a": a, "b": b})} - left
        assert left, "the demo needs a leaver in the window"
        r = bot.ask(q, who, f"left:{who}:{q}")["answer"]["text"]
        assert r.startswith("Contacts, left on") and f"{a} to {b}" in r.splitlines()[0], r
        assert all(n in r for n in left) and not any(n in r for n in other), (r, left, other)
