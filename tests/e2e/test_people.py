"""Provisioning people: add, import (all or nothing), deactivate with hand-over."""

import json

import pytest
from sqlalchemy import func, select

from integrations.crm.models import CSM, Account

GOOD = """name,email,role,team,manager_email,slack_user_id,timezone
Ana Lima,ana.lima@retain.example,csm,East,lead.east@retain.example,U0ANA0001,America/Sao_Paulo
Lead East,Lead.East@retain.example,manager,East,,U0LEAD001,America/New_York
"""


def test_add_import_deactivate_as_an_operator_would(rt, run_cli, tmp_path):
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        env["RETAIN_DATABASE_URL"] = rt.settings.database_url
    code, out, err = run_cli("csms", "add", "kim.ng@retain.example", "--name", "Kim Ng", "--team", "West",
                             "--slack", "u0kim0001", env_extra=env)
    assert code == 0 and "added" in out, err
    assert run_cli("csms", "add", "kim.ng@retain.example", "--name", "Kim Ng", "--team", "West",
                   "--slack", "U0KIM0001", env_extra=env)[1].strip().endswith("unchanged.")
    code, _, err = run_cli("csms", "add", "bad@retain.example", "--name", "Bad", "--slack", "kim", env_extra=env)
    assert code == 2 and "not a Slack user id" in err and "Traceback" not in err

    good = tmp_path / "people.csv"
    good.write_text(GOOD)
    code, out, err = run_cli("csms", "import", str(good), "--json", env_extra=env)
    assert code == 0, err
    assert json.loads(out) == {"rows": 2, "added": 2, "updated": 0, "unchanged": 0,  # manager listed after report
                               "cleared": {}, "warnings": []}
    assert json.loads(run_cli("csms", "import", str(good), "--json", env_extra=env)[1])["unchanged"] == 2
    with rt.store.session() as s:
        ana = s.scalars(select(CSM).where(CSM.email == "ana.lima@retain.example")).one()
        lead = s.scalars(select(CSM).where(CSM.email == "lead.east@retain.example")).one()
        assert ana.manager_id == lead.id and ana.slack_user_id == "U0ANA0001"
        before = s.scalar(select(func.count()).select_from(CSM))

    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("Ana Lima,ana.lima", "Zed Ro,zed.ro") + "Oops,oops@retain.example,boss,,,,\n")
    code, _, err = run_cli("import", "csv", "--kind", "csms", str(bad), env_extra=env)
    assert code == 2 and "line 4" in err and "role 'boss'" in err and "Nothing was imported" in err
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(CSM)) == before  # not even the good rows

    # Dana leaves: her accounts go to Marcus; she can no longer see anything.
    code, out, err = run_cli("--as", "dana.reyes@retain.example", "accounts", "--json", env_extra=env)
    assert code == 0 and json.loads(out)["count"] > 0
    with rt.store.session() as s:
        dana_id = s.scalar(select(CSM.id).where(CSM.email == "dana.reyes@retain.example"))
        mine = s.scalar(select(func.count()).select_from(Account).where(Account.owner_id == dana_id))
    code, out, err = run_cli("csms", "deactivate", "dana.reyes@retain.example", "--reassign-to",
                             "marcus.chen@retain.example", env_extra=env)
    assert code == 0 and f"{mine} accounts moved" in out, err
    code, _, err = run_cli("--as", "dana.reyes@retain.example", "accounts", env_extra=env)
    assert code == 2 and "deactivated" in err
    with rt.store.session() as s:
        dana = s.scalars(select(CSM).where(CSM.email == "dana.reyes@retain.example")).one()
        assert not dana.active
        assert s.scalar(select(func.count()).select_from(Account).where(Account.owner_id == dana.id)) == 0
    code, out, _ = run_cli("jobs", env_extra=env)
    assert "Dana Reyes" not in out  # no more briefings for her


def test_a_fitted_model_and_email_drafts_are_shared_by_every_worker(rt, run_cli, tmp_path):
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        env["RETAIN_DATABASE_URL"] = rt.settings.database_url
    code, out, err = run_cli("model", "fit", "--json", env_extra=env)
    assert code == 0 and json.loads(out)["fitted"], err
    # Another host: its own (empty) data folder, the same database.
    from core.settings import load_settings
    from tools.services import Services

    other = tmp_path / "other-host"
    extra = {"database_url": rt.settings.db_url}
    svc = Services(load_settings(data_dir=str(other), today=rt.settings.today, **extra))
    assert not svc.model_file.exists() and svc.renewal_model() is not None
    assert svc.renewal_model().coefficients == rt.renewal_model().coefficients

    from retain.actions import Delivery

    shared = tmp_path / "shared-mail"
    svc = Services(load_settings(data_dir=str(other), today=rt.settings.today, email_outbox_dir=str(shared),
                                 **extra))
    out = Delivery(svc).send_follow_up({"id": "d-1", "account": "No Channel Co", "to": "Pat",
                                        "to_email": "pat@example.com", "subject": "Next step"}, "Hello Pat")
    assert out["sent_via"] == "email_outbox" and (shared / "d-1.eml").is_file()


def test_headers_as_people_write_them(rt, tmp_path):
    """A spreadsheet's own headings ("Full Name", "Slack User ID", "Manager") name the same columns."""
    from core.errors import RetainError
    from tools import people

    sheet = tmp_path / "team.csv"
    sheet.write_text("Full Name,Email Address,Role,Manager,Slack User ID,Time-Zone\n"
                     "Ivo Petrov,ivo.petrov@retain.example,csm,lead.west@retain.example,U0IVO0001,Europe/Sofia\n"
                     "Lead West,lead.west@retain.example,manager,,U0LWE0001,America/Denver\n")
    assert people.import_csv(rt.store, sheet)["added"] == 2
    with rt.store.session() as s:
        ivo = s.scalars(select(CSM).where(CSM.email == "ivo.petrov@retain.example")).one()
        lead = s.scalars(select(CSM).where(CSM.email == "lead.west@retain.example")).one()
        assert (ivo.manager_id, ivo.slack_user_id, ivo.timezone) == (lead.id, "U0IVO0001", "Europe/Sofia")
    odd = tmp_path / "odd.csv"
    odd.write_text("name,email,desk\nA,a@retain.example,3\n")
    with pytest.raises(RetainError, match="unknown column.*desk.*manager_email"):
        people.import_csv(rt.store, odd)
