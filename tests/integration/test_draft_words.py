"""A draft turns the request into a message: no request words copied ("about let you know", "Msg to"), pronouns
turned for the reader ("their" is "your" to the customer, "my" is "your" in a reminder to the CSM), the CSM's
own words kept (not typo-mended into other words), and a possessive account named as typed in a refusal.

Through `Assistant.ask` on the seeded demo; people and accounts are read from the database.
"""

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account

DANA, SAM = "dana.reyes@retain.example", "sam.okafor@retain.example"


def _draft(bot, ask, who=DANA, thread="w"):
    ans = bot.ask(ask, who, thread)["answer"]
    assert ans["mode"] == "draft", (ask, ans["text"][:300])
    [d] = ans["drafts"]
    return d["subject"], d["body"]


def test_news_to_pass_on_reads_as_news_not_as_the_request(rt):
    bot = Assistant(rt, use_memory=False)
    subject, body = _draft(bot, "reach out to Acme Corp's champion about let you know the SSO fix shipped", thread="n1")
    assert subject == "Acme Corp: The SSO fix shipped" and "let you know" not in subject.lower()
    assert "I wanted to let you know that the SSO fix shipped." in body and "about let" not in body
    assert "Would that work for you?" not in body  # nothing was proposed
    subject, body = _draft(bot, "send Initech's champion a note to let them know my team is reviewing their "
                                "pricing ask", thread="n2")
    assert "my team is reviewing your pricing ask" in body and "renewing" not in body + subject
    assert "let them know" not in (subject + body).lower()


def test_pronouns_and_verbs_turn_for_the_reader(rt):
    bot = Assistant(rt, use_memory=False)
    subject, body = _draft(bot, "remind me to follow up with Acme Corp about my proposal on Friday", thread="p1")
    assert "your proposal" in subject and "my proposal" not in subject + body
    subject, body = _draft(bot, "set up a meeting with Globex's champion next Tuesday to go over your renewal "
                                "options", thread="p2")
    assert "to go over your renewal options" in body and "about go over" not in body
    subject, body = _draft(bot, "msg to Globex's admin about the escalated latency ticket", thread="p3")
    assert subject == "Globex: Escalated latency ticket" and "msg" not in (subject + body).lower()
    subject, body = _draft(bot, "email Umbrella Corp's champion about the procurement review", SAM, "p4")
    assert subject == "Umbrella Corp: Procurement review", subject


def test_a_refusal_names_a_possessive_account_as_typed(rt):
    with rt.store.session() as s:
        names = list(s.scalars(select(Account.name).join(CSM, CSM.id == Account.owner_id)
                               .where(CSM.email != SAM, Account.lifecycle_stage != "churned", Account.name.like("% %"))
                               .order_by(Account.id).limit(3)))
    bot = Assistant(rt, use_memory=False)
    asks = ["email {}'s champion about the renewal", "is {}'s renewal at risk?", "what's {}' renewal date?",
            "what did {}'s champion say in the last meeting?"]
    for k, (name, ask) in enumerate(zip(names * 2, asks, strict=False)):
        text = bot.ask(ask.format(name), SAM, f"r{k}")["answer"]["text"]
        assert text.startswith(f"{name} is not in your portfolio"), text
