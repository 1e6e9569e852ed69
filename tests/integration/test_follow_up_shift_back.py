"""A window moved back by one whole period ("the previous quarter") re-runs the same query (issue 36)."""

from agents.assistant import Assistant

MARCUS = "marcus.chen@retain.example"


def test_the_previous_period_moves_the_window_back_one_unit(rt):
    bot = Assistant(rt, use_memory=False)
    bot.ask("tickets opened in Q3", MARCUS, "prev-q")
    r = bot.ask("same thing the previous quarter", MARCUS, "prev-q")["answer"]["text"]
    assert "2026-04-01 to 2026-06-30" in r and "I couldn't tell" not in r, r
    bot.ask("notes logged in 2025", MARCUS, "prev-y")
    r = bot.ask("and the previous year?", MARCUS, "prev-y")["answer"]["text"]
    assert "2024-01-01 to 2024-12-31" in r, r
