"""A person asked about by name is looked up as a person (issue 36).

At the thread's account ("is <name> in the CRM for them?"): that account's contact, or one line saying there is none
there, who is there, and where else in the asker's scope that name is. With no account in the thread ("who's
<first name>?"): every contact the asker may see and every CSM by that name; one is answered, several are listed in
one clarifying question, none is said. Never a record of the last answer, never the help card, never a person of an
account the asker may not see.
"""

from sqlalchemy import text

from agents.assistant import Assistant

SAM = "sam.okafor@retain.example"
DANA = "dana.reyes@retain.example"
NOAH = "noah.kim@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _named(rt, first: str, owner: int, mine: bool) -> list[tuple]:
    return _sql(rt, f"select c.name, a.name, c.role from contacts c join accounts a on a.id = c.account_id where "
                    f"c.name like '{first} %' and a.owner_id {'=' if mine else '!='} {owner}")


def test_a_name_not_at_the_threads_account_is_said_with_who_is_there_and_where_else(rt):
    bot = Assistant(rt, use_memory=False)
    there = _sql(rt, "select c.name from contacts c join accounts a on a.id = c.account_id where a.name = "
                     "'Umbrella Corp'")
    mine, others = _named(rt, "Kofi", 7, True), _named(rt, "Kofi", 7, False)
    assert there and mine and not any(n.startswith("Kofi ") for (n,) in there)
    bot.ask("what's logged on umbrella corp this month", SAM, "kofi")
    r = bot.ask("do we have a kofi in the crm there? what does he do", SAM, "kofi")["answer"]["text"]
    assert "No contact named Kofi is recorded at Umbrella Corp" in r, r
    assert all(n in r for (n,) in there), r
    assert all(f"{n} ({a}" in r for n, a, _ in mine), r
    assert not any(f"{n} ({a}" in r for n, a, _ in others), r

    bot.ask("how's hooli doing", SAM, "alex")
    r = bot.ask("is alex cohen a contact for them? whats her title", SAM, "alex")["answer"]["text"]
    assert "No contact named Alex Cohen is recorded at Hooli" in r, r
    assert "Alex Cohen (Umbrella Corp, Head of AI Platform)" in r, r


def test_a_name_at_the_threads_account_is_that_contact(rt):
    bot = Assistant(rt, use_memory=False)
    (role,) = _sql(rt, "select c.role from contacts c join accounts a on a.id = c.account_id where a.name = 'Hooli' "
                       "and c.name = 'Sofia Rossi'")[0]
    bot.ask("how's hooli doing", SAM, "sofia")
    r = bot.ask("is sofia on file for them?", SAM, "sofia")["answer"]["text"]
    first = r.splitlines()[0]
    assert first.startswith("Contacts") and "Hooli" in first, r
    assert "Sofia Rossi" in r and role in r, r
    bot.ask("what's logged on umbrella corp this month", SAM, "nik")
    r = bot.ask("who's nikhil?", SAM, "nik")["answer"]["text"]
    assert "Nikhil Cohen" in r and "Umbrella Corp" in r.splitlines()[0], r


def test_a_first_name_with_no_account_is_looked_up_across_the_askers_scope(rt):
    bot = Assistant(rt, use_memory=False)
    (liam,) = _named(rt, "Liam", 4, True)
    r = bot.ask("who's liam?", DANA, "liam")["answer"]["text"]
    assert r.splitlines()[0].startswith("Contacts") and liam[0] in r and liam[1] in r, r

    mine, others = _named(rt, "Tomás", 4, True), _named(rt, "Tomás", 4, False)
    assert len(mine) > 1 and others
    r = bot.ask("who is tomás?", DANA, "tomas")["answer"]["text"]
    assert r.startswith(f"{len(mine)} people named Tomás in your accounts") and "Which one do you mean?" in r and \
        len(r.splitlines()) == 1, r
    assert all(f"{n} ({a}" in r for n, a, _ in mine), r
    assert not any(f"{n} ({a}" in r for n, a, _ in others), r

    r = bot.ask("who's zebulon", DANA, "none")["answer"]["text"]
    assert "No one named Zebulon" in r and "_help_" not in r, r
    r = bot.ask("who's lena", NOAH, "csm")["answer"]["text"]
    assert "Lena Fischer" in r and "West" in r and "Accounts" not in r, r
