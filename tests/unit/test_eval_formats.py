"""Facts read by an eval question's SQL are written the way answers write them; an unknown format is refused."""

import pytest

from agents.evaluate import _cell, load_questions
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
