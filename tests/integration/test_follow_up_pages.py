"""Paging a ranked list: "the next two", "3 more", "the ones after that" shows the ranks right after those shown,
same order and filters, and the reading line says which ranks (issue 36)."""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"


def _ranked(rt) -> list[str]:
    with rt.store.session() as s:
        return [r[0] for r in s.execute(text(
            "select a.name from accounts a join contracts c on c.account_id = a.id where a.owner_id = 4 and "
            "a.lifecycle_stage != 'churned' order by c.arr desc"))]


def _names(answer: str, names: list[str]) -> list[str]:
    return [n for n in names if f"{n}:" in answer]


def test_the_next_ranks_follow_the_ones_shown(rt):
    bot = Assistant(rt, use_memory=False)
    ranked = _ranked(rt)
    first = bot.ask("my top 3 accounts by arr", DANA, "page")["answer"]["text"]
    assert _names(first, ranked) == ranked[:3], first
    r = bot.ask("the next two", DANA, "page")["answer"]["text"]
    assert "ranks 4-5" in r and _names(r, ranked) == ranked[3:5], r
    r = bot.ask("ok 3 more", DANA, "page")["answer"]["text"]
    assert "ranks 6-8" in r and _names(r, ranked) == ranked[5:8], r
    bot.ask("my top 3 accounts by arr", DANA, "page-rest")
    r = bot.ask("and the ones after those?", DANA, "page-rest")["answer"]["text"]
    assert "ranks 4-6" in r and _names(r, ranked) == ranked[3:6] and "I did not apply" not in r, r
