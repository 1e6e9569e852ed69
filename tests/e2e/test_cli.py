"""The command line as a user runs it: the real entry point in-process; a real process where starting one matters."""

import json
import os
import subprocess
import sys


def retain(*args, env_extra=None):
    env = dict(os.environ, COLUMNS="200", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "retain", *args], capture_output=True, text=True,
                          env=env, timeout=300)


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


def test_bad_setting_fails_at_start_with_its_name():
    r = retain("accounts", env_extra={"RETAIN_LLM__N_CTX": "12"})
    assert r.returncode == 2
    assert "llm.n_ctx" in r.stderr and "Traceback" not in r.stderr
