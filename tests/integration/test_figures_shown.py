"""Health scores and rates are shown as stored, the same on a card, a list and a lookup (seeded demo, no model).

A score of 50.6 is "50.6", never "51" (a list sorted by health must not show two equal scores in an order that
looks arbitrary); an error rate of 0.0085 is "0.85%", never "1%" or "0.8%".
"""

from sqlalchemy import text

from agents.assistant import Assistant
from core.figures import percent, score
from tools.health import score_portfolio

DANA = "dana.reyes@retain.example"


def test_a_health_score_reads_with_its_decimal_on_the_card_the_list_and_the_outlook(rt):
    health = score_portfolio(rt.store, rt.card, rt.tool_context(DANA).as_of)
    with rt.store.session() as s:
        mine = dict(s.execute(text("select id, name from accounts where owner_id = 4")).all())
    red = sorted((float(health.table.score[a]), mine[a]) for a in mine
                 if a in health.table.score.index and str(health.table.band[a]) == "red")
    value, name = next((v, n) for v, n in red if round(v, 1) != round(v))  # a score a whole number would misstate
    said = f"{value:.1f}"
    bot = Assistant(rt, use_memory=False)
    card = bot.ask(f"how is {name} doing?", DANA, "c")["answer"]["text"]
    assert f"Health {said} (red)" in card, card
    listed = bot.ask("which of my accounts are red?", DANA, "l")["answer"]["text"]
    assert f"{name}: health {said} (red)" in listed, listed
    outlook = bot.ask(f"what's the renewal outlook for {name}?", DANA, "o")["answer"]["text"]
    assert f"Health {said} (red)" in outlook, outlook
    assert f"Health {round(value):.0f} " not in card + outlook


def test_a_small_rate_keeps_enough_digits_in_every_answer(rt):
    with rt.store.session() as s:
        rates = s.execute(text("select a.name, avg(t.error_rate) from telemetry_daily t join accounts a on "
                               "a.id = t.account_id where a.owner_id = 4 and t.day between '2026-10-01' and "
                               "'2026-10-31' group by a.name having avg(t.error_rate) between 0.002 and 0.0095 "
                               "order by a.name")).all()
    # one whose second digit a one-decimal percent would drop (0.85%, not 0.8% or 0.9%)
    name, rate = next((n, r) for n, r in rates if f"{r * 100:.2g}" != f"{r * 100:.1f}")
    said = f"{rate * 100:.2g}%"
    bot = Assistant(rt, use_memory=False)
    ans = bot.ask(f"{name}'s average daily error rate in october", DANA, "r")["answer"]["text"]
    assert f"avg error rate {said}" in ans and "avg error rate 1%" not in ans, (said, ans)
    assert [percent(x) for x in (0.0085, 0.008, 0.0131, 0.44, 0.0, -0.16)] == \
        ["0.85%", "0.8%", "1.3%", "44%", "0%", "-16%"]
    assert (score(50.6), score(98.25 - 0.05)) == ("50.6", "98.2")
