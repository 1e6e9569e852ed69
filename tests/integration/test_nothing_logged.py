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
