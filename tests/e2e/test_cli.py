"""The command line as a user runs it: a real `retain` process."""

import json
import os
import subprocess
import sys


def retain(*args, env_extra=None):
    env = dict(os.environ, COLUMNS="200", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "retain", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_seed_then_read_commands():
    r = retain("demo", "seed", "--accounts", "40", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "telemetry_daily" in r.stdout
    r = retain("accounts", "--json", "--band", "red")
    data = json.loads(r.stdout)
    assert r.returncode == 0 and all(a["band"] == "red" for a in data["accounts"])
    r = retain("--as", "marcus.chen@retain.example", "account", "Wayne Media")
    assert r.returncode == 0, r.stderr
    assert "champion Jordan Blake left on" in r.stdout and "usage down" in r.stdout
    r = retain("model", "fit", "--json")
    assert r.returncode == 0 and "fitted" in json.loads(r.stdout)


def test_bad_input_is_one_clear_line_without_traceback():
    assert retain("demo", "seed", "--accounts", "20").returncode == 0
    cases = [
        (["account", "Nonexistent Widget Co"], "No account matches"),
        (["--as", "marcus.chen@retain.example", "account", "Acme Corp"], "not in your portfolio"),
        (["--as", "nobody@x.example", "accounts"], "No CSM called"),
        (["import", "csv", "--kind", "tickets", "/no/such.csv"], "does not exist"),
        (["accounts", "--band", "purple"], "purple"),
    ]
    for args, expected in cases:
        r = retain(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert expected in r.stderr + r.stdout, (args, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout


def test_bad_setting_fails_at_start_with_its_name():
    r = retain("accounts", env_extra={"RETAIN_LLM__N_CTX": "12"})
    assert r.returncode == 2
    assert "llm.n_ctx" in r.stderr and "Traceback" not in r.stderr
