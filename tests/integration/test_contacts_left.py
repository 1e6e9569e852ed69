"""A contact the CRM records as having left is never presented as current: not as the champion, not in a
contact list, not as a draft's recipient. Where history is asked it is named with the day they left.

Runs through `Assistant.ask` on the seeded demo; the people are read from the database, never typed in.
"""

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account, Contact

DANA = "dana.reyes@retain.example"


def _left_champions(rt, owner=DANA):
    """(account, departed champion) pairs of the owner's accounts that have no current champion."""
    with rt.store.session() as s:
        rows = s.execute(select(Account.name, Account.id, Contact).join(Contact, Contact.account_id == Account.id)
                         .join(CSM, CSM.id == Account.owner_id)
                         .where(CSM.email == owner, Contact.is_champion.is_(True), Contact.left_on.is_not(None),
                                Account.lifecycle_stage != "churned")).all()
        here = set(s.scalars(select(Contact.account_id).where(Contact.is_champion.is_(True),
                                                               Contact.left_on.is_(None))))
        return [(name, c) for name, aid, c in rows if aid not in here]


def _current(rt, account):
    with rt.store.session() as s:
        return list(s.scalars(select(Contact).join(Account, Account.id == Contact.account_id)
                              .where(Account.name == account, Contact.left_on.is_(None))))


def test_a_champion_who_left_is_named_as_gone_and_no_current_champion_is_invented(rt):
    bot = Assistant(rt, use_memory=False)
    pairs = _left_champions(rt)
    assert len(pairs) >= 2
    for k, (account, gone) in enumerate(pairs[:2]):
        for q in (f"who is the champion at {account}?", f"what's the champion's email at {account}?"):
            text = bot.ask(q, DANA, f"c{k}{q[:4]}")["answer"]["text"]
            assert gone.name in text and gone.left_on.isoformat() in text, text
            assert "no current champion" in text and f"{account}'s champion: {gone.name}" not in text, text


def test_a_list_of_champions_leaves_out_those_who_left_or_says_they_left(rt):
    bot = Assistant(rt, use_memory=False)
    text = bot.ask("who are the champions on my accounts?", DANA, "l1")["answer"]["text"]
    for _account, gone in _left_champions(rt):
        line = next(ln for ln in text.splitlines() if gone.name in ln)  # named once, as gone
        assert f"left on {gone.left_on.isoformat()}" in line, line


def test_a_contact_list_puts_the_people_who_left_apart_with_their_day(rt):
    bot = Assistant(rt, use_memory=False)
    account, gone = _left_champions(rt)[0]
    text = bot.ask(f"who should I talk to at {account}?", DANA, "p1")["answer"]["text"]
    assert all(c.name in text for c in _current(rt, account)), text
    [line] = [ln for ln in text.splitlines() if gone.name in ln]
    assert f"left on {gone.left_on.isoformat()}" in line and "is champion yes" not in line, line


def test_a_person_asked_for_by_name_who_left_is_said_to_have_left(rt):
    bot = Assistant(rt, use_memory=False)
    account, gone = _left_champions(rt)[0]
    text = bot.ask(f"what's {gone.name}'s title?", DANA, "n1")["answer"]["text"]
    assert f"{gone.name} (left on {gone.left_on.isoformat()})" in text, text


def test_a_draft_to_a_champion_or_a_person_who_left_asks_whom_instead_and_says_why(rt):
    bot = Assistant(rt, use_memory=False)
    account, gone = _left_champions(rt)[0]
    for k, q in enumerate((f"draft an email to {account}'s champion about the renewal",
                           f"email {gone.name} about the renewal",
                           f"slack {account}'s {gone.role} about the onboarding plan")):
        ans = bot.ask(q, DANA, f"d{k}")["answer"]
        assert ans["mode"] == "clarify" and not ans["drafts"], (q, ans["text"])
        assert f"{gone.name}" in ans["text"] and f"left {account} on {gone.left_on.isoformat()}" in ans["text"], q
        assert all(c.name in ans["text"] for c in _current(rt, account)), ans["text"]


def test_a_meeting_without_a_current_champion_goes_to_a_current_contact_and_says_the_champion_left(rt):
    bot = Assistant(rt, use_memory=False)
    account, gone = _left_champions(rt)[0]
    ans = bot.ask(f"set up a QBR with {account} for early January", DANA, "m1")["answer"]
    [d] = ans["drafts"]
    assert d["to"] in {c.name for c in _current(rt, account)} and d["to"] != gone.name
    assert f"No current champion: {gone.name}" in ans["text"] and gone.left_on.isoformat() in ans["text"]
