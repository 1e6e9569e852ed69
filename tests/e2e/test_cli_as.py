"""`retain --as PERSON`: operator commands need an admin; feedback and export show only the asker's scope."""

import csv
import json

import pytest
from sqlalchemy import func, select

from integrations.crm.models import CSM, Account
from tools import feedback

DANA, MARCUS, ADMIN = "dana.reyes@retain.example", "marcus.chen@retain.example", "avery.stone@retain.example"


@pytest.fixture
def env(rt):
    out = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        out["RETAIN_DATABASE_URL"] = rt.settings.database_url
    return out


def _owned(rt, email):
    with rt.store.session() as s:
        cid = s.scalar(select(CSM.id).where(CSM.email == email))
        return cid, s.scalar(select(func.count()).select_from(Account).where(Account.owner_id == cid))


@pytest.mark.parametrize("args", [
    ("csms", "add", "eve@retain.example", "--name", "Eve", "--role", "admin"),
    ("csms", "deactivate", MARCUS, "--reassign-to", DANA),
    ("csms", "import", "people.csv"),
    ("csms", "--json"),
    ("scores", "--json"),
    ("sync", "status", "--json"),
    ("jobs", "--json"),
    ("jobs", "run", "onboarding:sweep"),
    ("model", "fit", "--json"),
    ("import", "file", "--kind", "accounts", "accounts.csv"),
    ("memory", "stats", "--json"),
    ("eval", "--json"),
])
def test_an_operator_command_run_as_a_csm_is_refused_and_changes_nothing(rt, run_cli, env, args):
    dana_id, dana_owns = _owned(rt, DANA)
    marcus_id, marcus_owns = _owned(rt, MARCUS)
    code, out, err = run_cli("--as", DANA, *args, env_extra=env)
    assert code == 2 and "needs an admin" in err and "Traceback" not in err, (code, out, err)
    assert not out.strip()
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(CSM).where(CSM.email == "eve@retain.example")) == 0
        assert s.scalar(select(CSM.active).where(CSM.id == marcus_id))
    assert _owned(rt, DANA) == (dana_id, dana_owns) and _owned(rt, MARCUS) == (marcus_id, marcus_owns)


def test_operator_commands_run_for_an_admin_or_the_operator(rt, run_cli, env):
    code, out, err = run_cli("--as", ADMIN, "csms", "add", "eve@retain.example", "--name", "Eve", env_extra=env)
    assert code == 0 and "added" in out, err
    code, out, err = run_cli("jobs", "--json", env_extra=env)  # the operator at the terminal (no --as)
    assert code == 0 and json.loads(out), err
    code, out, err = run_cli("--as", "UADMIN0001", "sync", "status", "--json", env_extra=env)
    assert code == 0, err


def test_feedback_as_someone_shows_only_their_scope(rt, run_cli, env):
    for voter, asker, question in (("UCSM00004", DANA, "how is Acme doing?"),
                                   ("UCSM00005", MARCUS, "what's blocking Cyberdyne's onboarding?")):
        assert feedback.record(rt.store, voter=voter, value="bad", kind="answer", target=f"Ev-{voter}",
                               asker=asker, question=question, answer="…")
    code, out, err = run_cli("--as", DANA, "feedback", "--json", env_extra=env)
    assert code == 0, err
    assert [r["question"] for r in json.loads(out)] == ["how is Acme doing?"]
    code, out, err = run_cli("--as", ADMIN, "feedback", "--json", env_extra=env)
    assert code == 0 and len(json.loads(out)) == 2, err


def test_export_as_someone_writes_only_their_accounts(rt, run_cli, env, tmp_path):
    with rt.store.session() as s:
        mine = set(s.scalars(select(Account.name).join(CSM, CSM.id == Account.owner_id).where(CSM.email == DANA)))
    code, _, err = run_cli("--as", DANA, "export", str(tmp_path / "dana"), env_extra=env)
    assert code == 0, err
    accounts = list(csv.DictReader((tmp_path / "dana" / "accounts.csv").open()))
    assert {a["name"] for a in accounts} == mine and {a["owner_email"] for a in accounts} == {DANA}
    ext = {a["external_id"] for a in accounts}
    for kind in ("contacts", "tickets", "notes", "telemetry", "plans"):
        rows = list(csv.DictReader((tmp_path / "dana" / f"{kind}.csv").open()))
        assert rows and {r["account_external_id"] for r in rows} <= ext, kind
    people = list(csv.DictReader((tmp_path / "dana" / "csms.csv").open()))
    assert [p["email"] for p in people] == [DANA]
    code, _, err = run_cli("export", str(tmp_path / "all"), "--kind", "accounts", env_extra=env)
    assert code == 0 and len(list(csv.DictReader((tmp_path / "all" / "accounts.csv").open()))) > len(accounts)
