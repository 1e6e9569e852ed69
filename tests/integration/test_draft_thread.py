"""Drafts asked in the middle of a conversation (issue 36): the recipient and the topic come from the thread.

Through the real Assistant on the seeded demo: a first name in lower case is the one contact of that name at the
thread's account (several: one question listing them, no draft); "her" / "him" right after a turn about one
contact is that contact; "about that ticket" / "about rerunning it" after one record carries that record into the
draft's topic, cited. Every draft stays pending and nothing is sent or logged.
"""

from sqlalchemy import func, select

from agents.assistant import Assistant
from integrations.crm.models import Account, ActionLog, Contact, Outbox, Ticket

DANA, LENA, DIEGO = "dana.reyes@retain.example", "lena.fischer@retain.example", "diego.alvarez@retain.example"
MARCUS = "marcus.chen@retain.example"


def _people(rt, account: str, first: str) -> list[Contact]:
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == account))
        return [c for c in s.scalars(select(Contact).where(Contact.account_id == aid, Contact.left_on.is_(None)))
                if c.name.split()[0].lower() == first.lower()]


def _nothing_sent(rt) -> tuple[int, int]:
    with rt.store.session() as s:
        return s.scalar(select(func.count()).select_from(ActionLog)), s.scalar(select(func.count()).select_from(Outbox))


def _pending_to(r, who: Contact) -> dict:
    drafts = r["answer"]["drafts"]
    assert r["answer"]["mode"] == "draft" and len(drafts) == 1, r["answer"]["text"]
    d = drafts[0]
    assert d["status"] == "pending" and d["to"] == who.name and d["to_email"] == who.email, d
    assert "nothing is sent until" in r["answer"]["text"], r["answer"]["text"]
    return d


def test_a_first_name_in_lower_case_is_that_contact_at_the_threads_account(rt):
    bot = Assistant(rt, use_memory=False)
    before = _nothing_sent(rt)
    for n, (who, account, opener, ask, first) in enumerate([
            (DANA, "Globex", "how's globex doing", "draft tomás a note about the eval results", "tomás"),
            (LENA, "Vandelay Industries", "any open tickets at vandelay industries?",
             "write a short email to rowan about the ops review", "rowan"),
            (LENA, "Vandelay Industries", "how healthy is vandelay industries", "ping nikhil about the rate limits",
             "nikhil")]):
        (person,) = _people(rt, account, first)
        assert not person.is_champion  # not the champion a draft with no recipient would fall back to
        bot.ask(opener, who, f"first{n}")
        r = bot.ask(ask, who, f"first{n}")
        d = _pending_to(r, person)
        assert "No recipient was named" not in r["answer"]["text"], r["answer"]["text"]
        assert d["account"] == account
    assert _nothing_sent(rt) == before


def test_a_first_name_two_contacts_share_is_asked_listing_both(rt):
    bot = Assistant(rt, use_memory=False)
    both = _people(rt, "Beacon Software", "morgan")
    assert len(both) == 2
    bot.ask("how is beacon software doing", DANA, "two")
    r = bot.ask("draft morgan a note about the sandbox keys", DANA, "two")
    assert r["answer"]["mode"] == "clarify" and not r["answer"]["drafts"], r["answer"]["text"]
    assert all(p.name in r["answer"]["text"] for p in both), r["answer"]["text"]
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == "Beacon Software"))
        others = [c.name for c in s.scalars(select(Contact).where(Contact.account_id == aid, Contact.left_on.is_(None)))
                  if not c.name.lower().startswith("morgan")]
    assert others and not any(n in r["answer"]["text"] for n in others), r["answer"]["text"]  # only the Morgans


def test_her_or_him_after_a_turn_about_one_contact_is_that_contact(rt):
    bot = Assistant(rt, use_memory=False)
    for n, (who, account, first, opener, ask) in enumerate([
            (LENA, "Vandelay Industries", "casey", "what's casey silva's title?",
             "send him a quick note about the console access"),
            (DIEGO, "Crescent Bank", "sofia", "what's sofia murphy's email", "draft her a note about the api quota")]):
        (person,) = _people(rt, account, first)
        assert not person.is_champion
        bot.ask(opener, who, f"pron{n}")
        r = bot.ask(ask, who, f"pron{n}")
        _pending_to(r, person)

    bot.ask("list the contacts at cyberdyne", MARCUS, "pron-many")  # several people: "her" is asked, not guessed
    r = bot.ask("draft her a note about the login issue", MARCUS, "pron-many")
    assert r["answer"]["mode"] == "clarify" and not r["answer"]["drafts"], r["answer"]["text"]


def test_a_draft_about_the_threads_record_carries_it_into_its_topic(rt):
    bot = Assistant(rt, use_memory=False)
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == "Cyberdyne Systems"))
        oldest = s.scalars(select(Ticket).where(Ticket.account_id == aid, Ticket.status != "closed")
                           .order_by(Ticket.opened_at)).first()
    (admin,) = [c for c in _people(rt, "Cyberdyne Systems", "sofia") if c.role == "IT Admin"]
    bot.ask("open tickets at cyberdyne", MARCUS, "rec")
    bot.ask("the oldest one", MARCUS, "rec")
    r = bot.ask("send their admin a heads-up about that ticket", MARCUS, "rec")
    d = _pending_to(r, admin)
    assert oldest.subject in d["subject"] + d["body"], d
    assert any(oldest.subject in f for f in d["facts"]), d["facts"]  # cited, from the conversation

    (jordan,) = _people(rt, "Bluebird Airlines", "jordan")
    bot.ask("fine tunes at bluebird airlines", MARCUS, "ft")
    bot.ask("the october one", MARCUS, "ft")
    r = bot.ask("draft jordan a note about rerunning it on the new base model", MARCUS, "ft")
    d = _pending_to(r, jordan)
    assert "2026-10-08" in d["subject"] + d["body"] and "fine-tune" in d["body"], d
    assert "rerunning it" in d["body"].lower(), d
