"""`retain eval` seeds the demo its questions were written against, on that demo's date: the same report any day."""

import json

from agents.assistant import Assistant
from agents.evaluate import DEFAULT_FILE, DEMO_TODAY, run_eval


def test_eval_reports_the_same_whatever_the_day_and_the_data(rt, run_cli, tmp_path):
    questions = DEFAULT_FILE / "questions.yaml"
    assert rt.settings.as_of() == DEMO_TODAY
    expected = run_eval(Assistant(rt, use_memory=False), questions)
    # A user's own folder: a demo seeded on another day (as `make demo` does on the real today).
    env = {"RETAIN_DATA_DIR": str(tmp_path / "mine"), "RETAIN_TODAY": "2027-03-01", "RETAIN_LLM__BACKEND": "none"}
    code, _, err = run_cli("demo", "seed", "--accounts", "12", env_extra=env)
    assert code == 0, err
    code, out, err = run_cli("eval", "--json", "--file", str(questions), env_extra=env)
    assert code == 0, err
    got = json.loads(out)
    assert got["questions"] == expected["questions"] > 40
    for key in ("fully_correct", "fact_recall", "unsupported_claims", "routing_accuracy"):
        assert got[key] == expected[key], key
    assert got["fully_correct"] == 1.0, [r["id"] for r in got["rows"] if not r["correct"]]  # as README says
    # A saved report is a baseline: the same run against it compares every question and finds none worse.
    saved = tmp_path / "det.json"
    saved.write_text(out)
    code, out, err = run_cli("eval", "--json", "--file", str(questions), "--against", str(saved), env_extra=env)
    assert code == 0, err
    against = json.loads(out)["against"]
    assert against["compared"] == expected["questions"] and against["worse"] == [], against
    # --here asks the folder as it is: the questions' dates are not that demo's, and the score says so.
    code, out, err = run_cli("eval", "--json", "--here", "--file", str(questions), env_extra=env)
    assert code == 0 and json.loads(out)["fully_correct"] < expected["fully_correct"], err
