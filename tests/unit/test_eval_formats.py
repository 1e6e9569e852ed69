"""Facts read by an eval question's SQL are written the way answers write them; an unknown format is refused."""

import pytest

from agents.assistant import Assistant
from agents.evaluate import _cell, load_questions, run_eval
from core.errors import ConfigError


@pytest.mark.parametrize(("value", "shown", "answer"), [
    (571500.0, "571,500", "ARR lost $571,500 on 4 that churned"),  # a float column holding whole dollars
    (9, "9", "9 survey responses since August"),
    (50.6, "50.6", "Initech: health 50.6 (red)"),
    (0.008, "0.008", "error rate 0.008 (0.8%)"),
])
def test_a_number_fact_is_written_as_answers_write_numbers(value, shown, answer):
    assert _cell(value, "number") == shown
    assert shown in answer


def test_an_unknown_fact_format_is_one_clear_error(tmp_path):
    f = tmp_path / "q.yaml"
    f.write_text("- id: q1\n  ask: how much arr\n  sql:\n    - [\"select 1\", dollars]\n")
    with pytest.raises(ConfigError) as err:
        load_questions(f)
    assert "q1" in str(err.value) and "'dollars'" in str(err.value) and "money" in str(err.value)


def test_a_refusal_expected_in_other_words_is_the_access_answer(rt):
    """Question files written outside the team say `expect: refuse`; Retain's refusal is its access answer."""
    f = rt.settings.data_dir / "q.yaml"
    f.write_text("- {id: r1, as: dana.reyes@retain.example, ask: \"how is Hooli doing?\", expect: refuse}\n"
                 "- {id: r2, as: dana.reyes@retain.example, ask: \"how is Hooli doing?\", expect: access}\n"
                 "- {id: r3, as: dana.reyes@retain.example, ask: \"how is Hooli doing?\"}\n")
    rows = {r["id"]: r for r in run_eval(Assistant(rt, use_memory=False), f)["rows"]}
    assert rows["r1"]["route_ok"] and rows["r2"]["route_ok"] and not rows["r3"]["route_ok"], rows
