"""Follow-ups over the last list's own rows: "all of them" lifts its length, picks by the rows' own measure.

Each is checked against the database: the whole list after a top N (in the order newly asked for).
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"

_MINE = "select a.name from accounts a where a.owner_id = 4 and a.lifecycle_stage != 'churned' order by a.arr {}"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _last(bot: Assistant, who: str, thread: str, *asks: str) -> dict:
    return [bot.ask(a, who, thread) for a in asks][-1]


def test_all_of_them_after_a_top_n_is_the_whole_list(rt):
    bot = Assistant(rt, use_memory=False)
    names = [n for (n,) in _sql(rt, _MINE.format("desc"))]
    assert len(names) > 5
    r = _last(bot, DANA, "all", "top 5 accounts by arr", "ok show me all of them")
    assert all(n in r["answer"]["text"] for n in names), r["answer"]["text"]
    assert "top 5" not in r["answer"]["reading"], r["answer"]["reading"]


def test_all_of_em_in_a_new_order_is_the_whole_list_in_that_order(rt):
    bot = Assistant(rt, use_memory=False)
    names = [n for (n,) in _sql(rt, _MINE.format("asc"))]
    r = _last(bot, DANA, "allsmall", "show me my 3 biggest accounts", "all of em, smallest first")
    t = r["answer"]["text"]
    assert all(n in t for n in names), t
    assert t.index(names[0]) < t.index(names[1]) < t.index(names[-1]), t


def test_a_record_picked_by_its_day_of_the_month_is_the_one_dated_that_day(rt):
    bot = Assistant(rt, use_memory=False)
    days = _sql(rt, "select t.opened_at, a.name, t.subject from tickets t join accounts a on a.id = t.account_id "
                    "where a.owner_id = 4 and a.lifecycle_stage != 'churned' and t.status = 'open'")
    counts: dict[int, int] = {}
    for when, _, _ in days:
        counts[int(str(when)[8:10])] = counts.get(int(str(when)[8:10]), 0) + 1
    only = [(int(str(w)[8:10]), n, s) for w, n, s in days if counts[int(str(w)[8:10])] == 1]
    assert only
    day, name, subject = only[0]
    nth = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(day, "th")
    r = _last(bot, DANA, "day", "my open tickets", f"the one filed on the {day}{nth}")
    assert r["answer"]["text"].startswith("Picked from the last answer: " + name), r["answer"]["text"][:300]
    assert subject in r["answer"]["text"]


def test_a_record_picked_by_a_word_of_its_row_is_that_row(rt):
    bot = Assistant(rt, use_memory=False)
    hits = _sql(rt, "select a.name, t.subject from tickets t join accounts a on a.id = t.account_id where "
                    "a.owner_id = 4 and a.lifecycle_stage != 'churned' and t.status = 'open' and "
                    "t.subject like '%503%'")
    assert len(hits) == 1
    r = _last(bot, DANA, "word", "my open tickets", "the 503 one")
    assert r["answer"]["text"].startswith("Picked from the last answer: " + hits[0][0]), r["answer"]["text"][:300]
    assert hits[0][1] in r["answer"]["text"]


def test_the_worst_of_a_ticket_list_is_picked_among_its_own_rows_by_priority(rt):
    bot = Assistant(rt, use_memory=False)
    rows = _sql(rt, "select a.name, t.subject, t.priority from tickets t join accounts a on a.id = t.account_id "
                    "where a.owner_id = 4 and a.lifecycle_stage != 'churned' and t.status = 'open'")
    high = [f"{n}: {s}" for n, s, p in rows if p == "high"]
    others = [f"{n}: {s}" for n, s, p in rows if p != "high"]
    assert len(high) > 1 and others and not any(p in ("urgent", "critical") for _, _, p in rows)
    r = _last(bot, DANA, "worst", "my open tickets", "which was the worst")
    t = r["answer"]["text"]
    assert not t.startswith("Accounts"), t[:300]  # never the accounts by health: the tickets' own measure
    assert all(s in t for s in high) and not any(s in t for s in others), t


def test_the_lowest_of_a_survey_list_is_its_lowest_score(rt):
    bot = Assistant(rt, use_memory=False)
    low = _sql(rt, "select a.name, s.score from survey_responses s join accounts a on a.id = s.account_id where "
                   "a.owner_id = 4 and s.responded_on >= '2026-08-25' order by s.score limit 2")
    assert low[0][1] < low[1][1]
    r = _last(bot, DANA, "lowest", "survey responses in the last 90 days", "which was the worst")
    assert r["answer"]["text"].startswith("Picked from the last answer: " + low[0][0]), r["answer"]["text"][:300]


def test_another_team_asked_by_a_team_manager_is_outside_their_scope_not_zero(rt):
    bot = Assistant(rt, use_memory=False)
    west = _sql(rt, "select count(*) from accounts a join csms c on c.id = a.owner_id where c.team = 'West'")[0][0]
    assert west > 0
    r = _last(bot, "olivia.grant@retain.example", "team", "how many accounts does the East team have",
              "what about west")
    t = r["answer"]["text"]
    assert "outside your scope" in t and "0 accounts" not in t, t
