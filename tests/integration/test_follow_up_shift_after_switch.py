"""A window shift applies to the thread's current query after earlier edits, whatever they changed (issue 36).

After a list with a window, a switch to the rows' owners (a query with no window of its own) and then "the year
before" moves the list's window back, for the same scope: it is not a question the assistant cannot read. After
a subject switch that keeps the window, the shift moves that window for the new subject.
"""

from sqlalchemy import text

from agents.assistant import Assistant

NOAH = "noah.kim@retain.example"
MARCUS = "marcus.chen@retain.example"
OLIVIA = "olivia.grant@retain.example"


def _names(rt, q: str) -> set[str]:
    with rt.store.session() as s:
        return {r[0] for r in s.execute(text(q))}


def test_a_shift_after_a_switch_to_owners_moves_the_listed_window(rt):
    bot = Assistant(rt, use_memory=False)
    west = "join accounts a on a.id = r.account_id join csms c on c.id = a.owner_id where c.team = 'West' and " \
           "r.outcome = 'churned' and r.renewal_date "
    before = _names(rt, f"select a.name from renewal_events r {west} between '2025-01-01' and '2025-12-31'")
    this = _names(rt, f"select a.name from renewal_events r {west} >= '2026-01-01'")
    assert before and this and not before & this
    bot.ask("which renewals churned this year", NOAH, "own")
    r = bot.ask("who owned those accounts", NOAH, "own")["answer"]["text"]
    assert "owner" in r and all(n in r for n in this), r
    r = bot.ask("and the year before that?", NOAH, "own")["answer"]["text"]
    assert "2025-01-01 to 2025-12-31" in r.splitlines()[0], r
    assert all(n in r for n in before) and not any(n in r for n in this), r


def test_a_shift_after_a_switch_from_tickets_to_their_accounts_moves_the_tickets_window(rt):
    bot = Assistant(rt, use_memory=False)
    sept = _names(rt, "select t.subject || '|' || substr(cast(t.opened_at as text), 1, 10) from tickets t join "
                      "accounts a on a.id = t.account_id where a.owner_id = 5 and t.opened_at >= '2026-09-01' and "
                      "t.opened_at < '2026-10-01'")
    assert sept
    bot.ask("tickets filed in october", MARCUS, "tix")
    bot.ask("which csm owns those accounts", MARCUS, "tix")
    r = bot.ask("what about the month prior", MARCUS, "tix")["answer"]["text"]
    assert r.splitlines()[0].startswith("Tickets") and "2026-09-01 to 2026-09-30" in r.splitlines()[0], r
    assert "2026-10-" not in r, r


def test_a_shift_after_an_owner_switch_keeps_the_new_owner(rt):
    bot = Assistant(rt, use_memory=False)
    bot.ask("nrr for dana's book in q3", OLIVIA, "nrr")
    bot.ask("now for priya", OLIVIA, "nrr")
    r = bot.ask("and the quarter before?", OLIVIA, "nrr")["answer"]["text"]
    assert "Priya Patel" in r.splitlines()[0] and "2026-04-01 to 2026-06-30" in r.splitlines()[0], r
    assert "Dana" not in r, r
