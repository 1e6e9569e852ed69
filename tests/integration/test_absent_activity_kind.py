""""No calls since <date>": the activity kind named restricts the "nothing since" check (issue 36).

Accounts asked about by a kind of activity they have not had since a date are those whose last activity of that
kind (call, meeting, email, note) is before the date, or who never had one; other activity does not count. The
reading line names the kind. Without a kind, any logged activity is a touch, as before.
"""

import re

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
SAM = "sam.okafor@retain.example"


def _quiet(rt, owner: int, kind: str | None, since: str) -> set[str]:
    of = f"and x.kind = '{kind}'" if kind else ""
    with rt.store.session() as s:
        return {r[0] for r in s.execute(text(
            f"select a.name from accounts a where a.owner_id = {owner} and a.lifecycle_stage != 'churned' and "
            f"not exists (select 1 from activities x where x.account_id = a.id {of} and "
            f"x.occurred_on >= '{since}' and x.occurred_on <= '2026-11-23')"))}


def _listed(answer: str) -> list[str]:
    return re.findall(r"^• ([^:\n]+): health", answer, flags=re.M)


def _check(bot: Assistant, who: str, ask: str, owner: int, kind: str, since: str) -> None:
    want, touched = _quiet(bot.services, owner, kind, since), _quiet(bot.services, owner, None, since)
    assert want - touched, "the kind must matter here: some account had other activity but not this kind"
    r = bot.ask(ask, who, ask)["answer"]["text"]
    first = r.splitlines()[0]
    assert f"no {kind}" in first, r
    assert f"• {len(want)} accounts" in r and since in r, r
    shown = _listed(r)
    assert shown and set(shown) <= want, r


def test_a_kind_of_activity_restricts_the_nothing_since_check(rt):
    bot = Assistant(rt, use_memory=False)
    _check(bot, DANA, "which of my accounts haven't had a meeting since october", 4, "meeting", "2026-10-01")
    _check(bot, DANA, "any customers with no calls since oct 15?", 4, "call", "2026-10-15")
    _check(bot, SAM, "accounts we haven't emailed since nov 1", 7, "email", "2026-11-01")


def test_without_a_kind_any_activity_is_a_touch(rt):
    bot = Assistant(rt, use_memory=False)
    want = _quiet(rt, 4, None, "2026-10-21")
    r = bot.ask("which of mine have had nothing logged since oct 21", DANA, "any")["answer"]["text"]
    assert set(_listed(r)) == want and "call" not in r.splitlines()[0], r
