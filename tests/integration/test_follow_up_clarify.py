"""A bare reply to Retain's own clarifying question picks one of the offered candidates (issue 36).

"“foxglove” matches several accounts: ... Which one do you mean?" then "security", "the second" or "the
realty one" answers the first question about that account, the reading line says which, and the thread's
subject becomes it ("who owns it?" next). A reply that picks none is read afresh, never guessed.
"""

import re

from sqlalchemy import text

from agents.assistant import Assistant

AVERY = "avery.stone@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _offered(answer: str) -> list[str]:
    m = re.search(r"matches several accounts: (.*)\. Which one", answer)
    assert m, answer
    return m.group(1).split(", ")


def test_a_bare_reply_picks_a_candidate_and_answers_the_first_question_about_it(rt):
    bot = Assistant(rt, use_memory=False)
    first = bot.ask("how is foxglove doing?", AVERY, "pick-word")["answer"]
    assert first["mode"] == "ambiguous"
    assert "Foxglove Security" in _offered(first["text"])
    r = bot.ask("security", AVERY, "pick-word")["answer"]["text"]
    assert r.startswith("Taking Foxglove Security"), r
    assert "Health" in r and "Foxglove Realty" not in r and "Foxglove Analytics" not in r
    owner = _sql(rt, "select c.name from accounts a join csms c on c.id = a.owner_id "
                     "where a.name = 'Foxglove Security'")
    r = bot.ask("who owns it?", AVERY, "pick-word")["answer"]["text"]
    assert owner[0][0] in r and "Portfolio" not in r, r


def test_an_ordinal_or_a_word_with_one_picks_that_candidate(rt):
    bot = Assistant(rt, use_memory=False)
    offered = _offered(bot.ask("latest nps at pinnacle?", AVERY, "pick-nth")["answer"]["text"])
    r = bot.ask("the second", AVERY, "pick-nth")["answer"]["text"]
    assert r.startswith(f"Taking {offered[1]}") and "NPS" in r, r
    assert not any(o in r for o in offered if o != offered[1])
    bot.ask("how is foxglove doing?", AVERY, "pick-one")
    r = bot.ask("the realty one", AVERY, "pick-one")["answer"]["text"]
    assert r.startswith("Taking Foxglove Realty") and "Foxglove Security" not in r, r


def test_a_reply_that_picks_no_candidate_is_not_guessed(rt):
    bot = Assistant(rt, use_memory=False)
    bot.ask("how is foxglove doing?", AVERY, "pick-none")
    r = bot.ask("hmm", AVERY, "pick-none")["answer"]["text"]
    assert not r.startswith("Taking") and "Foxglove Realty: health" not in r, r


def test_the_question_quotes_the_name_typed_not_a_contractions_leftover(rt):
    bot = Assistant(rt, use_memory=False)
    for ask in ("how's foxglove looking?", "what's pinnacle's renewal date?"):
        r = bot.ask(ask, AVERY, f"quote-{ask[:6]}")["answer"]
        assert r["mode"] == "ambiguous", r["text"]
        quoted = re.search(r"\u201c(.*?)\u201d matches several", r["text"])
        assert quoted and quoted.group(1).split()[0].lower() in ("foxglove", "pinnacle"), r["text"]
