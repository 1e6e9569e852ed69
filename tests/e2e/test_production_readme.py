"""The README's production section, the steps the fault tests do not cover, run as an operator runs them.

`bench/walkthrough.py` replays the whole section (servers, three workers, Slack, every fault) and
writes the transcript in docs/operations/walkthrough.md; these are its first and last steps, fast:
the first commands on an empty database (people first, three at once, then accounts from a
Salesforce report), and backup and restore with PostgreSQL's own tools.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PG
from pg_instance import _bin

PEOPLE = """name,email,role,team,manager_email,slack_user_id,timezone
Lead East,lead.east@retain.example,manager,East,,U0LEAD001,America/New_York
Ana Lima,ana.lima@retain.example,csm,East,lead.east@retain.example,U0ANA0001,America/Sao_Paulo
Bo Park,bo.park@retain.example,csm,East,lead.east@retain.example,U0BOP0001,Europe/Berlin
"""
# A Salesforce account report: its own headings, and a column Retain has no field for.
ACCOUNTS = """Account ID,Account Name,Website,Segment__c,ARR__c,Owner Email,CreatedDate,Billing Country
001A,Acme Corp,acme.example,enterprise,120000,ana.lima@retain.example,2025-03-04T10:00:00.000+0000,US
001B,Globex,globex.example,mid-market,45000,bo.park@retain.example,2024-11-20T08:30:00.000+0000,DE
"""


def _retain(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "retain", *args], env=env or dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _done(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=600)
    return p.returncode, out, err


def test_first_commands_on_an_empty_database_people_three_at_once_then_a_salesforce_report(tmp_path):
    (tmp_path / "people.csv").write_text(PEOPLE)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    runs = [_done(p) for p in [_retain("csms", "import", str(tmp_path / "people.csv")) for _ in range(3)]]
    for code, _out, err in runs:  # the schema made once under its lock; the people added once
        assert code == 0 and "Traceback" not in err, err
    assert sorted(int(out.split(": ")[1].split(" added")[0]) for _, out, _ in runs) == [0, 0, 3], runs

    code, out, err = _done(_retain("import", "file", "--kind", "accounts", str(tmp_path / "accounts.csv"),
                                   "--mapping", "salesforce"))
    assert code == 0 and "2 added" in out, err
    assert "columns not read: Billing Country" in " ".join(out.split()), out  # said, not silently dropped
    code, out, err = _done(_retain("accounts", "--json"))
    assert code == 0 and sorted(a["name"] for a in json.loads(out)["accounts"]) == ["Acme Corp", "Globex"], out
    code, out, err = _done(_retain("export", str(tmp_path / "back"), "--kind", "accounts"))
    assert code == 0, err
    created = {r.split(",")[1]: r.split(",")[-1] for r in
               (tmp_path / "back" / "accounts.csv").read_text().splitlines()[1:]}
    assert created == {"Acme Corp": "2025-03-04", "Globex": "2024-11-20"}, created  # CreatedDate was read


@pytest.mark.skipif(PG is None, reason="pg_dump and pg_restore back up a PostgreSQL database")
def test_backup_and_restore_as_the_readme_says(rt, tmp_path):
    bin_dir = _bin()
    assert bin_dir is not None
    src = rt.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    server, name = src.rsplit("/", 1)
    restored = f"{name}_restored"
    env = {**os.environ, "RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}

    def sh(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

    def accounts(url: str) -> str:
        return sh(str(bin_dir / "psql"), "-d", url.replace("postgresql+psycopg://", "postgresql://"), "-Atc",
                  "SELECT string_agg(name, ',' ORDER BY name) FROM accounts").stdout

    live = accounts(rt.settings.database_url)
    assert live.count(",") >= 100, live  # the demo's accounts
    held = _retain("scheduler", env={**env, "RETAIN_DATABASE_URL": rt.settings.database_url,
                                     "RETAIN_SCHEDULER__LEASE_S": "3600"})  # still live when the copy starts
    try:  # a scheduler runs while the dump is taken: the dump carries its lease
        _wait_for_lease(src, bin_dir)
        dump = tmp_path / "retain.dump"
        r = sh(str(bin_dir / "pg_dump"), "-Fc", "-f", str(dump), "-d", src)
        assert r.returncode == 0, r.stderr
    finally:
        held.terminate()
        held.communicate(timeout=120)
    r = sh(str(bin_dir / "pg_restore"), "-d", src, str(dump))  # the README's warning: not over the live one
    assert r.returncode != 0 and "already exists" in r.stderr
    r = sh(str(bin_dir / "pg_restore"), "--clean", "--if-exists", "-d", src, str(dump))  # workers stopped
    assert r.returncode == 0, r.stderr[-2000:]
    assert accounts(rt.settings.database_url) == live
    PG.extra.append(restored)
    r = sh(str(bin_dir / "createdb"), f"--maintenance-db={server}/postgres", restored)
    assert r.returncode == 0, r.stderr
    r = sh(str(bin_dir / "pg_restore"), "-d", f"{server}/{restored}", str(dump))
    assert r.returncode == 0, r.stderr[-2000:]
    url = PG.url(restored)
    assert accounts(url) == live
    lease_env = {**env, "RETAIN_DATABASE_URL": url}
    code, out, err = _done(_retain("scheduler", env=lease_env))  # the dump's lease keeps a new one out ...
    assert code != 0 and "Another scheduler" in err, (out, err)
    r = sh(str(bin_dir / "psql"), "-d", f"{server}/{restored}", "-c", "DELETE FROM scheduler_lease")
    assert r.returncode == 0, r.stderr
    started = _retain("scheduler", env=lease_env)  # ... until it is deleted, as the README says
    try:
        _wait_for_lease(f"{server}/{restored}", bin_dir)
        assert started.poll() is None
    finally:
        started.terminate()
        started.communicate(timeout=120)
    code, out, err = _done(_retain("scores", "--refresh", env=lease_env))
    assert code == 0 and "150" in out, err


def _wait_for_lease(url: str, bin_dir: Path, timeout: float = 300) -> None:
    """Until a scheduler holds the lease in the database at `url`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run([str(bin_dir / "psql"), "-d", url, "-Atc", "SELECT count(*) FROM scheduler_lease"],
                           capture_output=True, text=True, timeout=60)
        if r.stdout.strip() not in ("", "0"):
            return
        time.sleep(0.5)
    raise AssertionError("no scheduler took the lease")
