"""A green score never hides what the notes say: a project on hold, an unhappy customer, a champion who left (issue 36).

Asked through the real Assistant on the seeded demo (today 2026-11-23); each signal is checked against the
activity that carries it, and a reassuring verdict never stands beside it.
"""

from sqlalchemy import text

from agents.assistant import Assistant
from tools import risk_signals
from tools.health import score_portfolio

SAM = "sam.okafor@retain.example"
DANA = "dana.reyes@retain.example"
DIEGO = "diego.alvarez@retain.example"
PRIYA = "priya.patel@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _band(rt, name: str) -> str:
    aid = _sql(rt, f"select id from accounts where name = '{name}'")[0][0]
    return str(score_portfolio(rt.store, rt.card, rt.tool_context(DANA).as_of).table.band[aid])


def _carrying(rt, name: str, words: str) -> tuple[str, str]:
    day, subject = _sql(rt, "select x.occurred_on, x.subject from activities x join accounts a on a.id = x.account_id "
                            f"where a.name = '{name}' and x.body like '%{words}%' and x.occurred_on >= '2026-09-24' "
                            "order by x.occurred_on desc limit 1")[0]
    return str(day)[:10], subject


def test_a_green_account_whose_notes_say_the_project_is_on_hold_is_flagged_with_the_note(rt):
    bot = Assistant(rt, use_memory=False)
    assert _band(rt, "Horizon Markets") == "green"
    day, subject = _carrying(rt, "Horizon Markets", "on hold")
    a = bot.ask("should I be concerned about horizon markets? the score looks good", SAM, "hz")["answer"]["text"]
    assert "(green)" in a and "project on hold" in a and "'on hold'" in a, a
    assert f"({subject}, {day})" in a and "unhappy customer" in a, a  # the signal, its record and its day
    assert risk_signals.reassuring(a) is None, a
    assert _band(rt, "Inlet Cloud") == "green"
    day, subject = _carrying(rt, "Inlet Cloud", "on hold")
    b = bot.ask("is inlet cloud at risk?", DANA, "inlet")["answer"]["text"]
    assert "(green)" in b and "At risk" in b and f"a project on hold or stalled on {day}" in b, b
    assert f"({subject}, {day})" in b and "On track" not in b and risk_signals.reassuring(b) is None, b


def test_a_note_saying_the_champion_left_is_an_unanswered_signal_beside_a_green_score(rt):
    assert _band(rt, "Harbor Cloud") == "green"
    day, subject = _carrying(rt, "Harbor Cloud", "has left")
    a = Assistant(rt, use_memory=False).ask("how worried should I be about harbor cloud?", DIEGO, "harbor")
    t = a["answer"]["text"]
    assert f"At risk: 1 signal from the last 60 days stands unanswered (a champion or sponsor who left on {day})" \
        in t, t
    assert "has left Harbor Cloud" in t and f"({subject}, {day})" in t, t


def test_an_account_whose_recent_notes_are_positive_is_not_flagged(rt):
    rows = _sql(rt, "select x.body from activities x join accounts a on a.id = x.account_id where "
                    "a.name = 'Northstar Media' and x.occurred_on >= '2026-09-24'")
    assert rows and any("no issues" in b for (b,) in rows)
    t = Assistant(rt, use_memory=False).ask("northstar media - anything to be nervous about?", PRIYA,
                                            "ns")["answer"]["text"]
    assert "Risk signal" not in t and "At risk" not in t and "(green)" in t, t


def test_will_they_walk_and_how_worried_should_i_be_answer_with_the_renewal_beside_the_signals(rt):
    bot = Assistant(rt, use_memory=False)
    for who, name, ask in ((DANA, "Inlet Cloud", "is inlet cloud going to walk?"),
                           (DIEGO, "Harbor Cloud", "any red flags at harbor cloud?")):
        renews = _sql(rt, "select k.renewal_date from contracts k join accounts a on a.id = k.account_id where "
                          f"a.name = '{name}' and k.status = 'active'")[0][0]
        t = bot.ask(ask, who, name)["answer"]["text"]
        assert f"Renews on {str(renews)[:10]}" in t and "Risk signal" in t, t
        assert "On track" not in t and risk_signals.reassuring(t) is None, t
