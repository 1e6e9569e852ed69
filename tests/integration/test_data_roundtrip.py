"""Every kind of data in and out: export the demo, import it into an empty CRM, get the same answers.

Real files (CSV and Parquet), the real store (SQLite, or PostgreSQL in that run), the real assistant.
"""

import csv
import json
from pathlib import Path

import pytest
from conftest import PG, TODAY
from sqlalchemy import func, select

from agents.assistant import Assistant
from core.errors import ImportValidationError, RetainError
from core.settings import load_settings
from integrations.crm.models import FineTuneJob, Milestone, RenewalEvent, SyncRun, TelemetryDaily
from tools import renewal_model
from tools.data_export import export_dir
from tools.data_import import ORDER, import_dir, import_file
from tools.services import Services

QUESTIONS = ["how is Globex doing?", "why did Initech's latency go up?", "prep me for Acme's QBR",
             "what's blocking Hooli's onboarding?", "which renewals this quarter are at risk?",
             "what's our NRR?", "what happened to Umbrella's fine-tune?"]


def _empty(tmp_path: Path, name: str) -> Services:
    extra = {}
    if PG:
        db = PG.name_for(f"{tmp_path}/{name}")
        PG.create(db)
        PG.extra.append(db)
        extra["database_url"] = PG.url(db)
    return Services(load_settings(data_dir=str(tmp_path / name), today=TODAY.isoformat(), **extra))


def _answers(rt: Services) -> list[str]:
    a = Assistant(rt, use_memory=False)
    return [a.ask(q, "avery.stone@retain.example", thread=f"t{i}")["answer"]["text"]
            for i, q in enumerate(QUESTIONS)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_kind_round_trips_into_an_empty_crm_with_the_same_answers(rt, tmp_path, fmt):
    counts = export_dir(rt.store, tmp_path / "export", fmt=fmt)
    assert set(counts) == set(ORDER) and all(counts[k] > 0 for k in ORDER)
    new = _empty(tmp_path, "restored")
    results = {r["kind"]: r for r in import_dir(new.store, tmp_path / "export")}
    assert {k: results[k]["inserted"] for k in ORDER} == counts
    renewal_model.save(renewal_model.fit(new.store, new.card), new.model_file)
    assert _answers(new) == _answers(rt)
    # Again: nothing changes, and the data version stays put (no rescoring).
    version = new.store.data_version()
    again = import_dir(new.store, tmp_path / "export")
    assert all(r["inserted"] == 0 and r["updated"] == 0 for r in again)
    assert new.store.data_version() == version
    with new.store.session() as s:
        runs = s.scalars(select(SyncRun).where(SyncRun.source == "import:telemetry")).all()
    assert [r.inserted for r in runs] == [counts["telemetry"], 0] and all(r.status == "ok" for r in runs)


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


BAD_ROWS = {
    "telemetry": ({"account_external_id": "DEMO-A000001", "day": "2026-11-30", "api_requests": "10",
                   "p50_latency_ms": "900", "p95_latency_ms": "400", "model_name": "gpt-x"}, "p95_latency_ms"),
    "fine_tunes": ({"external_id": "ft-new", "account_external_id": "DEMO-A000001", "created_on": "2026-11-01",
                    "status": "exploded", "base_model": "llama"}, "status"),
    "plans": ({"external_id": "pl-new", "account_external_id": "NOPE", "name": "x", "started_on": "2026-11-01",
               "target_date": "2026-12-01"}, "account 'NOPE' does not exist"),
    "milestones": ({"external_id": "ms-new", "plan_external_id": "nope", "seq": "1", "name": "kickoff",
                    "due_date": "2026-11-03"}, "plan 'nope' does not exist"),
    "renewals": ({"account_external_id": "DEMO-A000001", "renewal_date": "2025-01-01", "outcome": "churned",
                  "arr_before": "1000", "arr_after": "500"}, "arr_after 0"),
    "requests": ({"account_external_id": "DEMO-A000001", "timestamp": "yesterday", "latency_ms": "100",
                  "model_name": "m"}, "timestamp"),
}
GOOD_ROWS = {
    "telemetry": {"account_external_id": "DEMO-A000002", "day": "2026-11-30", "api_requests": "10",
                  "p50_latency_ms": "300", "p95_latency_ms": "900", "model_name": "gpt-x"},
    "fine_tunes": {"external_id": "ft-new2", "account_external_id": "DEMO-A000002", "created_on": "2026-11-01",
                   "status": "completed", "base_model": "llama"},
    "plans": {"external_id": "pl-new2", "account_external_id": "DEMO-A000002", "name": "x",
              "started_on": "2026-11-01", "target_date": "2026-12-01"},
    "milestones": None,
    "renewals": {"account_external_id": "DEMO-A000002", "renewal_date": "2024-01-01", "outcome": "renewed",
                 "arr_before": "1000", "arr_after": "1000"},
    "requests": {"account_external_id": "DEMO-A000002", "timestamp": "2026-11-30T10:00:00Z", "latency_ms": "100",
                 "model_name": "m"},
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_a_bad_row_names_its_line_and_nothing_is_written(rt, tmp_path, kind):
    bad, why = BAD_ROWS[kind]
    rows = [r for r in (GOOD_ROWS[kind],) if r] + [bad]
    keys = sorted({k for r in rows for k in r})
    path = _write(tmp_path / f"{kind}.csv", [{k: r.get(k, "") for k in keys} for r in rows])
    tables = [TelemetryDaily, FineTuneJob, Milestone, RenewalEvent]
    with rt.store.session() as s:
        before = [s.scalar(select(func.count()).select_from(t)) for t in tables]
    version = rt.store.data_version()
    with pytest.raises(ImportValidationError) as err:
        import_file(rt.store, kind, path)
    line = len(rows) + 1  # the header is line 1
    assert f"line {line}:" in str(err.value) and why in str(err.value)
    with rt.store.session() as s:
        assert [s.scalar(select(func.count()).select_from(t)) for t in tables] == before
    assert rt.store.data_version() == version


def test_raw_request_events_become_daily_telemetry_and_the_detectors_read_them(rt, tmp_path):
    """A vendor's metering log: two days of requests, the second on a new model with slower answers."""
    rows = []
    for day, model, base in (("2026-11-21", "m-1", 400), ("2026-11-22", "m-2", 1200)):
        for k in range(100):
            rows.append({"account_external_id": "DEMO-A000003", "timestamp": f"{day}T{k % 24:02d}:00:{k % 60:02d}Z",
                         "user_id": f"u{k % 7}", "input_tokens": 100, "output_tokens": 20 + k % 5,
                         "latency_ms": base + k, "error": "500" if k % 20 == 0 else "200", "cost": "0.01",
                         "model_name": model, "model_version": "2026-10"})
    r = import_file(rt.store, "requests", _write(tmp_path / "requests.csv", rows))
    assert r["rows"] == 200 and r["inserted"] + r["updated"] == 2
    with rt.store.session() as s:
        got = {t.day.isoformat(): t for t in s.scalars(select(TelemetryDaily).where(
            TelemetryDaily.account_id == 3, TelemetryDaily.day >= TODAY.replace(day=21)))}
    day2 = got["2026-11-22"]
    assert day2.api_requests == 100 and day2.active_users == 7 and day2.model_name == "m-2"
    assert day2.p50_latency_ms == pytest.approx(1249.5) and day2.p95_latency_ms == pytest.approx(1294.05, abs=0.1)
    assert day2.error_rate == pytest.approx(0.05) and day2.spend == pytest.approx(1.0)
    assert day2.input_tokens == 10_000


def test_fine_tunes_take_hyperparameters_from_columns_and_a_parquet_file(rt, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "ft.parquet"
    pq.write_table(pa.table({"external_id": ["ftjob-abc"], "account_external_id": ["DEMO-A000004"],
                             "created_on": ["2026-11-10"], "status": ["cancelled"], "base_model": ["llama-3-8b"],
                             "hp_learning_rate": ["0.0002"], "hp_epochs": ["3"], "loss_start": [2.1],
                             "loss_final": [float("nan")], "eval_score": [None]}), path)
    assert import_file(rt.store, "fine_tunes", path)["inserted"] == 1
    with rt.store.session() as s:
        job = s.scalars(select(FineTuneJob).where(FineTuneJob.external_id == "ftjob-abc")).one()
        assert job.status == "failed" and job.hyperparameters == {"learning_rate": 0.0002, "epochs": 3}
        assert job.loss_final is None or job.loss_final != job.loss_final  # no number: the run diverged
    pq.write_table(pa.table({"external_id": ["x"], "status": ["ok"]}), tmp_path / "bad.parquet")
    with pytest.raises(ImportValidationError) as err:
        import_file(rt.store, "fine_tunes", tmp_path / "bad.parquet")
    assert "row 1:" in str(err.value)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(RetainError, match="not a readable Parquet file"):
        import_file(rt.store, "fine_tunes", tmp_path / "junk.parquet")


def test_renewal_history_without_features_gets_them_from_the_crm(rt, tmp_path):
    path = _write(tmp_path / "r.csv", [{"account_external_id": "DEMO-A000005", "renewal_date": "2026-11-20",
                                        "outcome": "renewed", "arr_before": "$120,000", "arr_after": "130000"}])
    import_file(rt.store, "renewals", path)
    with rt.store.session() as s:
        ev = s.scalars(select(RenewalEvent).where(RenewalEvent.account_id == 5,
                                                  RenewalEvent.renewal_date == TODAY.replace(day=20))).one()
        feats = ev.features if isinstance(ev.features, dict) else json.loads(ev.features)
    assert ev.arr_before == 120000 and set(renewal_model.FEATURES) <= set(feats)
    assert feats["seat_utilization"] is not None and feats["usage_change_30d"] is not None


def test_the_cli_exports_and_imports_a_folder(rt, tmp_path, run_cli):
    src = {"RETAIN_DATA_DIR": str(rt.settings.data_dir)}
    if rt.settings.database_url:
        src["RETAIN_DATABASE_URL"] = rt.settings.database_url
    code, out, _ = run_cli("export", str(tmp_path / "x"), "--kind", "accounts", "--kind", "telemetry",
                           "--format", "parquet", "--json", env_extra=src)
    assert code == 0 and json.loads(out)["telemetry"] > 1000
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["accounts.parquet", "telemetry.parquet"]
    code, out, err = run_cli("import", "all", str(tmp_path / "x"), env_extra=src)
    assert code == 0 and "telemetry" in out  # into the same CRM: unchanged
    code, out, err = run_cli("import", "file", str(tmp_path / "x" / "telemetry.parquet"), "--kind", "plans",
                             env_extra=src)
    assert code == 2 and "row 1:" in err and "Traceback" not in err
    code, out, err = run_cli("import", "all", str(tmp_path / "nowhere"), env_extra=src)
    assert code == 2 and "not a folder" in err
