"""A follow-up that names another agent's subject after an agent's card, and the latest survey response.

After a health or needs card about one account, "and their renewal?" asks for the renewal outlook of that
account (date, ARR, P(renew), risks), not the one renewal-date field; a field named as such ("their renewal
date?") stays a field, and after a query about fields the bare word is that field too. The latest survey
response of a kind reads as Retain writes a survey score ("NPS 4") with its comment, and its reading line
claims no status filter (a survey has no status); a ticket's still does.
"""

from sqlalchemy import text

from agents.assistant import Assistant

SAM = "sam.okafor@retain.example"
LENA = "lena.fischer@retain.example"
DIEGO = "diego.alvarez@retain.example"


def _one(rt, q: str):
    with rt.store.session() as s:
        return s.execute(text(q)).first()


def _renews(rt, name: str) -> str:
    return str(_one(rt, "select renewal_date from contracts where status = 'active' and account_id = "
                        f"(select id from accounts where name = '{name}')")[0])[:10]


def test_a_bare_renewal_after_an_agents_card_is_the_renewal_outlook_of_that_account(rt):
    bot = Assistant(rt, use_memory=False)
    for who, account, first, then in (
            (DIEGO, "Vertex Bank", "how are things at vertex bank?", "and their renewal?"),
            (LENA, "Nimbus Airlines", "what does nimbus airlines care about?", "how about its renewal"),
            (SAM, "Silverline Works", "how healthy is silverline works?", "what about the renewal outlook")):
        thread = f"outlook:{account}"
        card = bot.ask(first, who, thread)
        assert card["route"]["intents"] != ["query"] and not card["route"].get("plans"), card["route"]
        r = bot.ask(then, who, thread)
        ans = r["answer"]
        assert r["route"]["intents"] == ["renewal"] and [a["name"] for a in r["route"]["accounts"]] == [account]
        assert ans["reading"] == f"{account}'s renewal outlook:", ans["text"][:200]
        assert _renews(rt, account) in ans["text"] and "P(renew)" in ans["text"], ans["text"]


def test_a_field_named_as_such_or_after_a_field_query_stays_that_field(rt):
    bot = Assistant(rt, use_memory=False)
    for who, account, first, then in (
            (DIEGO, "Vertex Bank", "how are things at vertex bank?", "and their renewal date?"),
            (LENA, "Nimbus Airlines", "when is nimbus airlines up for renewal?", "and their renewal?"),
            (SAM, "Silverline Works", "who owns silverline works?", "their renewal?")):
        thread = f"field:{account}"
        bot.ask(first, who, thread)
        r = bot.ask(then, who, thread)
        assert r["route"]["intents"] == ["query"], (then, r["route"])
        assert "renewal date" in r["answer"]["reading"].lower() and _renews(rt, account) in r["answer"]["text"]
        assert "P(renew)" not in r["answer"]["text"]


def test_the_latest_survey_response_reads_as_a_score_of_its_kind_without_a_status(rt):
    bot = Assistant(rt, use_memory=False)
    for who, account, ask in ((DIEGO, "Vertex Bank", "what did vertex bank say in their latest nps?"),
                              (LENA, "Nimbus Airlines", "when did nimbus airlines last answer an NPS survey?"),
                              (SAM, "Silverline Works", "what was silverline works' most recent survey response?")):
        score, comment, day = _one(rt, "select score, comment, responded_on from survey_responses where account_id = "
                                       f"(select id from accounts where name = '{account}') and kind = 'nps' "
                                       "order by responded_on desc limit 1")
        ans = bot.ask(ask, who, f"survey:{account}")["answer"]
        assert f"NPS {score}" in ans["text"] and comment[:40] in ans["text"] and str(day)[:10] in ans["text"], \
            ans["text"]
        assert "any status" not in ans["reading"] and "\u201cnps\u201d" not in ans["text"], ans["text"]
    asked = bot.ask("what did vertex bank say in their latest nps?", DIEGO, "survey:kind")["answer"]["reading"]
    assert "NPS response" in asked, asked  # the kind asked is named
    ticket = bot.ask("when did vertex bank last open a ticket?", DIEGO, "survey:ticket")["answer"]
    assert "any status" in ticket["reading"], ticket["reading"]  # a ticket closed since still counts
