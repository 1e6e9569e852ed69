"""The command line as a user runs it: the real entry point in-process; a real process where starting one matters."""

import json
import os
import subprocess
import sys


def retain(*args, env_extra=None):
    env = dict(os.environ, COLUMNS="200", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "retain", *args], capture_output=True, text=True,
                          env=env, timeout=1200)  # a hang, never a busy machine


def test_seed_then_read_commands(run_cli):
    code, out, err = run_cli("demo", "seed", "--accounts", "40", "--seed", "3")
    assert code == 0, err
    assert "telemetry_daily" in out
    code, out, err = run_cli("accounts", "--json", "--band", "red")
    data = json.loads(out)
    assert code == 0 and all(a["band"] == "red" for a in data["accounts"])
    code, out, err = run_cli("--as", "marcus.chen@retain.example", "account", "Wayne Media")
    assert code == 0, err
    assert "champion Jordan Blake left on" in out and "usage down" in out
    code, out, err = run_cli("model", "fit", "--json")
    assert code == 0 and "fitted" in json.loads(out)


def test_bad_input_is_one_clear_line_without_traceback(run_cli):
    assert run_cli("demo", "seed", "--accounts", "20")[0] == 0
    cases = [
        (["account", "Nonexistent Widget Co"], "No account matches"),
        (["--as", "marcus.chen@retain.example", "account", "Acme Corp"], "not in your portfolio"),
        (["--as", "nobody@x.example", "accounts"], "No CSM called"),
        (["import", "csv", "--kind", "tickets", "/no/such.csv"], "does not exist"),
        (["accounts", "--band", "purple"], "purple"),
    ]
    for args, expected in cases:
        code, out, err = run_cli(*args)
        assert code == 2, (args, out, err)
        assert expected in err + out, (args, err)
        assert "Traceback" not in err + out


def test_eval_against_a_report_whose_rows_lack_what_it_compares_is_refused_before_the_eval(run_cli, tmp_path):
    """A baseline row without id, correct or facts_found: one clear line at once.

    Before, the whole eval ran first and then compared nothing ("0 questions compared", exit 0), or raised
    a KeyError when such a row's id matched a question.
    """
    bad = tmp_path / "baseline.json"
    bad.write_text(json.dumps({"rows": [{"id": "q1", "correct": True, "facts_found": 2}, {"id": "q2"}]}))
    code, out, err = run_cli("eval", "--against", str(bad))
    assert code == 2, (out, err)
    assert "row 2 has no correct, facts_found" in err + out
    assert "Traceback" not in err + out


def test_bad_setting_fails_at_start_with_its_name():
    r = retain("accounts", env_extra={"RETAIN_LLM__N_CTX": "12"})
    assert r.returncode == 2
    assert "llm.n_ctx" in r.stderr and "Traceback" not in r.stderr


def test_people_before_accounts_then_accounts_without_contacts(run_cli, tmp_path):
    """The README's order (people first, then accounts, then the rest): every step reads without a crash."""
    people = tmp_path / "people.csv"
    people.write_text("name,email,role,team,manager_email,slack_user_id,timezone\n"
                      "Ann Admin,ann@x.example,admin,,,,UTC\nDana Reyes,dana@x.example,csm,East,,U0DANA0001,UTC\n")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("external_id,name,owner_email,arr,segment\nA1,Acme Corp,dana@x.example,120000,mid-market\n")
    env = {"RETAIN_LLM__BACKEND": "none"}
    assert run_cli("csms", "import", str(people), env_extra=env)[0] == 0

    def reads(*expect):
        for args, want in [(("accounts",), expect[0]),
                           (("--as", "dana@x.example", "ask", "which of my accounts are at risk?"), expect[1]),
                           (("--as", "dana@x.example", "brief"), "Briefing for Dana Reyes")]:
            code, out, err = run_cli(*args, env_extra=env)
            assert code == 0 and "Traceback" not in out + err and "unexpected" not in err, (args, out, err)
            assert want in out, (args, out)

    reads("No accounts to show", "0 at-risk accounts")  # people, no accounts yet
    code, out, err = run_cli("import", "file", "--kind", "accounts", str(accounts), env_extra=env)
    assert code == 0, err
    reads("Acme Corp", "0 at-risk accounts")  # accounts, but no contacts, contracts or telemetry yet
    code, out, err = run_cli("--as", "dana@x.example", "account", "Acme Corp", env_extra=env)
    assert code == 0 and "Acme Corp" in out, out + err
    code, out, err = run_cli("accounts", "--json", env_extra=env)
    assert code == 0 and [a["name"] for a in json.loads(out)["accounts"]] == ["Acme Corp"]


def test_models_list_says_missing_in_words_not_markup(run_cli, tmp_path):
    code, out, err = run_cli("models", "list", env_extra={"RETAIN_MODELS_DIR": str(tmp_path / "empty")})
    assert code == 0, err
    assert "missing" in out and "[red]" not in out and "[/]" not in out
