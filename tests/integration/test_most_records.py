"""Which account had the most records of a kind in a window (issue 36): counted per account, the top one(s) named.

Each test asks through the real Assistant on the seeded demo and checks the answer against SQL: the records are
counted with the date field the verb names (closed -> closed_at, raised/opened -> opened_at, held/logged ->
occurred_on), in the window and the asker's scope; the account with the most is named with its count, and
accounts that tie are all named. Asked alone or as a follow-up of a list or count of those records.
"""

from sqlalchemy import text

from agents.assistant import Assistant


def _top(rt, email: str, sql_from: str) -> tuple[list[str], int, list[str]]:
    """The tied top accounts, their count, and the other accounts with records (by SQL)."""
    q = (f"select a.name, count(*) from {sql_from} and a.owner_id = (select id from csms where email = '{email}') "
         "group by a.id order by 2 desc")
    with rt.store.session() as s:
        rows = [(r[0], int(r[1])) for r in s.execute(text(q))]
    assert rows, q
    most = rows[0][1]
    return [n for n, c in rows if c == most], most, [n for n, c in rows if c < most]


def _head(out: str) -> str:
    return "\n".join(out.split("\n")[:2])


def test_the_account_with_the_most_records_of_a_window_is_named_with_its_count(rt):
    bot = Assistant(rt, use_memory=False)
    cases = [  # (asker, question, records joined to accounts, the reading's verb and window)
        ("dana.reyes@retain.example", "which customer raised the most tickets in september?",
         "tickets t join accounts a on a.id = t.account_id where t.opened_at between '2026-09-01' and "
         "'2026-09-30 23:59:59'", "opened 2026-09-01 to 2026-09-30"),
        ("sam.okafor@retain.example", "which of my accounts closed the most tickets between april and june",
         "tickets t join accounts a on a.id = t.account_id where t.closed_at between '2026-04-01' and "
         "'2026-06-30 23:59:59'", "closed 2026-04-01 to 2026-06-30"),
        ("diego.alvarez@retain.example", "which client logged the most meetings since august 1",
         "activities t join accounts a on a.id = t.account_id where t.kind = 'meeting' and t.occurred_on between "
         "'2026-08-01' and '2026-11-23'", "logged 2026-08-01 to 2026-11-23"),
    ]
    for n, (who, ask, sql_from, window) in enumerate(cases):
        top, most, rest = _top(rt, who, sql_from)
        out = bot.ask(ask, who, f"most{n}")["answer"]["text"]
        head = _head(out)
        assert window in out.split("\n")[0], out  # the reading line: the verb's date field and the window
        assert "most" in out.split("\n")[0], out
        assert all(name in head for name in top), (top, out)
        assert f"{most} each" in head if len(top) > 1 else f": {most} (of " in head, (most, out)
        assert not any(name in head for name in rest), (rest, out)
        assert "accounts in your portfolio" not in out, out  # not a portfolio overview


def test_which_account_had_the_most_of_the_last_answers_records(rt):
    bot = Assistant(rt, use_memory=False)
    lena = "lena.fischer@retain.example"
    top, most, rest = _top(rt, lena, "tickets t join accounts a on a.id = t.account_id where t.opened_at between "
                                     "'2026-09-01' and '2026-09-30 23:59:59'")
    bot.ask("tickets opened on my accounts in september", lena, "of-those")
    out = bot.ask("and which acct had the most of those?", lena, "of-those")["answer"]["text"]
    assert "opened 2026-09-01 to 2026-09-30" in out.split("\n")[0], out
    assert all(name in _head(out) for name in top) and str(most) in _head(out), (top, out)
    assert not any(name in _head(out) for name in rest), out

    marcus = "marcus.chen@retain.example"
    top, most, rest = _top(rt, marcus, "tickets t join accounts a on a.id = t.account_id where t.closed_at between "
                                       "'2026-04-01' and '2026-06-30 23:59:59'")
    bot.ask("how many tickets did we close in q2", marcus, "count-then-most")
    out = bot.ask("which client had the most?", marcus, "count-then-most")["answer"]["text"]
    assert "closed 2026-04-01 to 2026-06-30" in out.split("\n")[0], out
    assert all(name in _head(out) for name in top) and str(most) in _head(out), (top, out)
    assert not any(name in _head(out) for name in rest), out
