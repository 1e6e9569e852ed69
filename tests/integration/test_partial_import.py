"""Issue 29 item 3: re-importing a file with fewer columns changes only those columns, for every kind.

Each kind's rows are read back in import shape (`tools.data_export.rows`) before and after importing
a file that holds a record's key and one other column: exactly that cell changes, nothing else in the
whole kind does. A blank cell in a present column clears the value and the summary says so.
Real demo CRM in SQLite (PostgreSQL in that run), real files, the real `retain` commands.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tools.data_export import rows
from tools.data_import import import_file

KEYS = {"telemetry": ("account_external_id", "day"), "renewals": ("account_external_id", "renewal_date"),
        "csms": ("email",)}
# kind -> (the column the file carries besides the key, a new value for it)
CHANGE: dict[str, tuple[str, Any]] = {
    "accounts": ("name", "Renamed Holdings"),
    "contacts": ("role", "VP of Data"),
    "contracts": ("seats", 999),
    "tickets": ("subject", "Renamed ticket subject"),
    "notes": ("subject", "Renamed note subject"),
    "nps": ("comment", "A new comment"),
    "telemetry": ("spend", 12.34),
    "fine_tunes": ("eval_score", 0.42),
    "plans": ("name", "Renamed onboarding plan"),
    "milestones": ("owner", "Customer"),
    "renewals": ("arr_before", 12345.0),
    "csms": ("team", "Team Zeta"),
}


def _key(kind: str, row: dict[str, Any]) -> tuple:
    return tuple(str(row[k]) for k in KEYS.get(kind, ("external_id",)))


def _by_key(rt, kind: str) -> dict[tuple, dict[str, Any]]:
    """The kind's rows by key; NaN (a diverged fine-tune's loss, kept as NaN by PostgreSQL) as "nan" to compare."""
    return {_key(kind, r): {c: "nan" if isinstance(v, float) and math.isnan(v) else v for c, v in r.items()}
            for r in rows(rt.store, kind)}


def _csv(path: Path, header: list[str], values: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(values)
    return path


def _give_external_ids(rt) -> None:
    """Demo fine-tunes, plans and milestones have no CRM id: give them one, as a real import would have."""
    with rt.store.session() as s:
        for table in ("fine_tune_jobs", "onboarding_plans", "milestones"):
            s.execute(text(f"UPDATE {table} SET external_id = 'x-{table}-' || id WHERE external_id IS NULL"))


@pytest.mark.parametrize("kind", list(CHANGE))
def test_a_file_with_a_subset_of_columns_changes_only_those_columns(rt, tmp_path, kind):
    _give_external_ids(rt)
    before = _by_key(rt, kind)
    key = next(iter(before))
    col, value = CHANGE[kind]
    assert before[key][col] != value
    header = [*KEYS.get(kind, ("external_id",)), col]
    import_file(rt.store, kind, _csv(tmp_path / f"{kind}.csv", header, [[*key, value]]))
    after = _by_key(rt, kind)
    assert after[key][col] == value
    expected = {k: ({**r, col: value} if k == key else r) for k, r in before.items()}
    assert after == expected


def test_a_blank_cell_clears_and_is_reported(rt, tmp_path, run_cli):
    before = _by_key(rt, "accounts")
    key = next(k for k, r in before.items() if r["owner_email"] and r["domain"])
    path = _csv(tmp_path / "accounts.csv", ["external_id", "owner_email", "domain"], [[key[0], "", ""]])
    code, out, err = run_cli("import", "file", str(path), "--kind", "accounts",
                             env_extra={"RETAIN_DATA_DIR": str(rt.settings.data_dir)})
    assert code == 0, err
    assert "cleared by blank cells" in out and "owner_email (1)" in out and "domain (1)" in out
    after = _by_key(rt, "accounts")
    assert after[key] == {**before[key], "owner_email": None, "domain": None}
    assert {k: r for k, r in after.items() if k != key} == {k: r for k, r in before.items() if k != key}


def test_the_issues_two_column_accounts_file_keeps_arr_owner_segment_and_domain(rt, tmp_path):
    before = _by_key(rt, "accounts")
    path = _csv(tmp_path / "accounts.csv", ["external_id", "name"], [[k[0], r["name"]] for k, r in before.items()])
    result = import_file(rt.store, "accounts", path)
    assert result["updated"] == 0 and result["cleared"] == {}
    assert _by_key(rt, "accounts") == before


def test_csms_add_on_someone_known_changes_only_the_options_given(rt, run_cli):
    people = _by_key(rt, "csms")
    email = next(e for (e,), p in people.items() if p["team"] and p["manager_email"] and p["slack_user_id"])
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir)}
    code, out, err = run_cli("csms", "add", email, "--name", "Renamed Person", env_extra=env)
    assert code == 0 and "updated" in out, err
    assert _by_key(rt, "csms")[(email,)] == {**people[(email,)], "name": "Renamed Person"}
    code, out, err = run_cli("csms", "add", email, "--timezone", "Europe/Berlin", env_extra=env)
    assert code == 0, err
    assert _by_key(rt, "csms")[(email,)] == {**people[(email,)], "name": "Renamed Person",
                                             "timezone": "Europe/Berlin"}
    code, out, err = run_cli("csms", "add", "new.person@retain.example", "--team", "x", env_extra=env)
    assert code != 0 and "give their name" in err and "Traceback" not in err
