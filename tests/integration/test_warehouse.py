"""Warehouse sync: a second, real database with the vendor's own tables, read through the example mapping."""

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TODAY
from sqlalchemy import create_engine, func, select, text

from agents.assistant import Assistant
from core.errors import RetainError
from integrations.crm.models import FineTuneJob, TelemetryDaily
from tools import warehouse

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "warehouse.example.yaml"
ADMIN = "avery.stone@retain.example"


def _warehouse(path: Path, days: int = 40, last: int = 0):
    """The vendor's metering tables: orgs, daily usage (a model switch 8 days ago), fine-tune jobs."""
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS orgs (org_id TEXT PRIMARY KEY, crm_account_id TEXT)"))
        c.execute(text("CREATE TABLE IF NOT EXISTS usage_daily (org_id TEXT, usage_date DATE, requests INT, "
                       "prompt_tokens INT, completion_tokens INT, active_users INT, latency_p50_ms REAL, "
                       "latency_p95_ms REAL, error_share REAL, billed_usd REAL, model TEXT, model_rev TEXT)"))
        c.execute(text("CREATE TABLE IF NOT EXISTS fine_tune_jobs (job_id TEXT, org_id TEXT, created_at TIMESTAMP, "
                       "state TEXT, base_model TEXT, learning_rate REAL, epochs INT, batch_size INT, "
                       "first_loss REAL, min_loss REAL, last_loss REAL, eval_score REAL, updated_at TIMESTAMP)"))
        c.execute(text("INSERT OR IGNORE INTO orgs VALUES ('org_9f2', 'DEMO-A000010'), ('org_x', 'NOT-IN-CRM')"))
        for k in range(days - 1, last - 1, -1):
            day = TODAY - timedelta(days=k)
            new = k < 8
            c.execute(text("INSERT INTO usage_daily VALUES ('org_9f2', :d, 5000, 900000, 200000, 40, :p50, :p95, "
                           "0.004, 31.5, :m, :r)"),
                      {"d": day.isoformat(), "p50": 700 if new else 300, "p95": 1600 if new else 650,
                       "m": "nimbus-large" if new else "nimbus-small", "r": "v3.0" if new else "v2.4"})
        c.execute(text("INSERT INTO fine_tune_jobs VALUES ('ftjob-77', 'org_9f2', '2026-11-02 10:00:00', 'completed', "
                       "'nimbus-small', 0.0001, 3, 16, 2.2, 0.9, 0.95, 0.81, '2026-11-03 08:00:00')"))
    eng.dispose()


@pytest.fixture
def wh(tmp_path, monkeypatch):
    path = tmp_path / "metering.db"
    _warehouse(path)
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{path}")
    mapping = tmp_path / "warehouse.yaml"
    shutil.copy(EXAMPLE, mapping)
    return path, mapping


def _count(rt, model):
    with rt.store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_example_mapping_loads_telemetry_and_the_tuning_advisor_reads_it(rt, wh):
    path, mapping = wh
    before, jobs = _count(rt, TelemetryDaily), _count(rt, FineTuneJob)
    version = rt.store.data_version()
    dry = {r["source"]: r for r in warehouse.run(rt.store, mapping, dry_run=True)}
    d = dry["daily_usage"]  # the demo's 39 days replaced, today's new
    assert (d["rows"], d["inserted"], d["updated"]) == (40, 1, 39)
    assert dry["fine_tunes"]["inserted"] == 1
    assert (_count(rt, TelemetryDaily), _count(rt, FineTuneJob)) == (before, jobs)
    assert rt.store.data_version() == version and warehouse.status(rt.store) == []  # nothing written or recorded

    runs = {r["source"]: r for r in warehouse.run(rt.store, mapping)}
    assert runs["daily_usage"]["updated"] == 39 and runs["daily_usage"]["watermark"] == TODAY.isoformat()
    assert _count(rt, FineTuneJob) == jobs + 1
    with rt.store.session() as s:
        job = s.scalars(select(FineTuneJob).where(FineTuneJob.external_id == "ftjob-77")).one()
        assert job.status == "succeeded" and job.hyperparameters == {"learning_rate": 0.0001, "epochs": 3,
                                                                    "batch_size": 16}
    answer = Assistant(rt, use_memory=False).ask("why did Crescent Bank's latency go up?", ADMIN)["answer"]["text"]
    switch = r"(?i)p95 latency rose 2\.\dx since the switch from nimbus-small v2.4 to nimbus-large v3.0"
    assert re.search(switch, answer)


def test_the_sync_is_incremental_and_keeps_going_past_a_bad_row(rt, wh):
    path, mapping = wh
    warehouse.run(rt.store, mapping)
    again = {r["source"]: r for r in warehouse.run(rt.store, mapping)}
    # Two days of overlap are read again and change nothing; fine-tunes after their watermark: none.
    d = again["daily_usage"]
    assert (d["rows"], d["inserted"], d["updated"]) == (3, 0, 0)
    assert again["fine_tunes"]["rows"] == 0
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:  # tomorrow's row, and one the warehouse got wrong
        c.execute(text("INSERT INTO usage_daily VALUES ('org_9f2', :d, 10, 1, 1, 1, 900, 400, 0, 1, 'm', 'r')"),
                  {"d": (TODAY + timedelta(days=1)).isoformat()})
        c.execute(text("INSERT INTO usage_daily VALUES ('org_x', :d, 10, 1, 1, 1, 100, 400, 0, 1, 'm', 'r')"),
                  {"d": (TODAY + timedelta(days=1)).isoformat()})
    eng.dispose()
    third = {r["source"]: r for r in warehouse.run(rt.store, mapping, only=["daily_usage"])}["daily_usage"]
    assert third["rejected"] == 2 and third["inserted"] == 0
    reasons = " ".join(why for _, why in third["problems"])
    assert "p95_latency_ms" in reasons and "NOT-IN-CRM" in reasons
    st = {r["source"]: r for r in warehouse.status(rt.store)}["warehouse:daily_usage"]
    assert st["status"] == "ok" and st["rejected"] == 2 and st["runs"] == 3


def test_a_failing_warehouse_is_one_clear_error_kept_in_the_status(rt, wh, tmp_path, monkeypatch):
    path, mapping = wh
    mapping.write_text(mapping.read_text().replace("FROM usage_daily", "FROM usage_dailly"))
    with pytest.raises(RetainError, match="daily_usage.*no such table"):
        warehouse.run(rt.store, mapping, only=["daily_usage"])
    st = {r["source"]: r for r in warehouse.status(rt.store)}["warehouse:daily_usage"]
    assert st["status"] == "failed" and "usage_dailly" in st["error"]
    monkeypatch.delenv("WAREHOUSE_URL")
    with pytest.raises(RetainError, match="WAREHOUSE_URL"):
        warehouse.run(rt.store, mapping)
    (tmp_path / "bad.yaml").write_text("sources:\n  x: {kind: invoices, query: SELECT 1}\n")
    with pytest.raises(RetainError, match="kind must be one of"):
        warehouse.run(rt.store, tmp_path / "bad.yaml")
    secret = "postgresql+psycopg://etl:hunter2@127.0.0.1:1/metering"
    with pytest.raises(RetainError) as err:
        warehouse.run(rt.store, mapping, url=secret, only=["fine_tunes"])
    assert "hunter2" not in str(err.value)


def test_sync_cli_dry_run_and_status(rt, wh, run_cli):
    path, mapping = wh
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_WAREHOUSE__MAPPING_FILE": str(mapping)}
    if rt.settings.database_url:
        env["RETAIN_DATABASE_URL"] = rt.settings.database_url
    code, out, _ = run_cli("sync", "warehouse", "--dry-run", env_extra=env)
    assert code == 0 and "dry run" in out and "daily_usage" in out
    code, out, _ = run_cli("sync", "status", env_extra=env)
    assert code == 0 and "No data source has run yet" in out
    assert run_cli("sync", "warehouse", env_extra=env)[0] == 0
    code, out, _ = run_cli("sync", "status", "--json", env_extra=env)
    import json

    rows = {r["source"]: r for r in json.loads(out)}
    assert rows["warehouse:daily_usage"]["updated"] == 39 and rows["warehouse:daily_usage"]["next_run"]
    code, out, _ = run_cli("jobs", "--json", env_extra=env)
    assert "sync:warehouse" in out


def test_one_row_dated_2999_is_rejected_and_never_moves_the_watermark(rt, wh):
    """Issue 29 item 4: the warehouse's last word cannot be a typo that skips every later day."""
    path, mapping = wh
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:
        c.execute(text("INSERT INTO usage_daily VALUES ('org_9f2', '2999-01-01', 10, 1, 1, 1, 100, 400, 0, 1, 'm', "
                       "'r')"))
    first = {r["source"]: r for r in warehouse.run(rt.store, mapping, only=["daily_usage"])}["daily_usage"]
    assert first["watermark"] == TODAY.isoformat() and first["rejected"] == 1
    assert "in the future" in first["problems"][0][1]
    with eng.begin() as c:  # the next real day arrives
        c.execute(text("INSERT INTO usage_daily VALUES ('org_9f2', :d, 10, 1, 1, 1, 100, 400, 0, 1, 'm', 'r')"),
                  {"d": (TODAY + timedelta(days=1)).isoformat()})
    eng.dispose()
    second = {r["source"]: r for r in warehouse.run(rt.store, mapping, only=["daily_usage"])}["daily_usage"]
    assert second["inserted"] == 1 and second["watermark"] == (TODAY + timedelta(days=1)).isoformat()
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(TelemetryDaily).where(
            TelemetryDaily.day == TODAY + timedelta(days=1))) == 1
