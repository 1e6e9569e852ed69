"""Telemetry detectors written in code: the facts the tuning-advisor reasons from.

Each detector reads one account's recent telemetry or fine-tune runs and returns findings with
the numbers and the records they came from; no detector guesses.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select

from integrations.crm.models import FineTuneJob, TelemetryDaily
from integrations.crm.store import CRMStore


def telemetry(store: CRMStore, account_id: int, as_of: date, days: int) -> pd.DataFrame:
    """An account's daily telemetry rows over the last `days` days up to `as_of`, oldest first."""
    t = TelemetryDaily
    stmt = (select(t).where(t.account_id == account_id, t.day > as_of - timedelta(days=days),
                            t.day <= as_of).order_by(t.day))
    with store.engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def _ref(day: date, what: str) -> dict[str, Any]:
    return {"type": "telemetry", "id": what, "date": day.isoformat()}


def detect(store: CRMStore, account_id: int, as_of: date) -> list[dict[str, Any]]:
    """Run every detector for an account; return its findings, most severe first."""
    return _run(telemetry(store, account_id, as_of, 60), _jobs(store, [account_id], as_of).get(account_id, []))


def detect_many(store: CRMStore, account_ids: list[int], as_of: date) -> dict[int, list[dict[str, Any]]]:
    """The detectors for many accounts, reading their telemetry and fine-tune runs in one query each."""
    if not account_ids:
        return {}
    t = TelemetryDaily
    stmt = (select(t).where(t.account_id.in_(account_ids), t.day > as_of - timedelta(days=60), t.day <= as_of)
            .order_by(t.account_id, t.day))
    with store.engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    df["day"] = pd.to_datetime(df["day"]).dt.date
    jobs = _jobs(store, account_ids, as_of)
    groups = {int(k): g.reset_index(drop=True) for k, g in df.groupby("account_id", sort=False)}
    return {a: _run(groups.get(a, df.iloc[0:0]), jobs.get(a, [])) for a in account_ids}


def _run(tel: pd.DataFrame, jobs: list[FineTuneJob]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if len(tel) >= 14:
        found += _latency_regression(tel)
        found += _error_spike(tel)
        found += _cost_per_request(tel)
        found += _context_creep(tel)
    found += _finetune_divergence(jobs)
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda f: order[f["severity"]])


def _jobs(store: CRMStore, account_ids: list[int], as_of: date) -> dict[int, list[FineTuneJob]]:
    stmt = (select(FineTuneJob).where(FineTuneJob.account_id.in_(account_ids), FineTuneJob.created_on <= as_of,
                                      FineTuneJob.created_on > as_of - timedelta(days=90))
            .order_by(FineTuneJob.created_on))
    out: dict[int, list[FineTuneJob]] = {}
    with store.session() as s:
        for j in s.scalars(stmt):
            out.setdefault(j.account_id, []).append(j)
    return out


def _latency_regression(tel: pd.DataFrame) -> list[dict[str, Any]]:
    versions = (tel["model_name"] + " " + tel["model_version"]).tolist()
    switch = next((k for k in range(1, len(versions)) if versions[k] != versions[k - 1]), None)
    if switch is not None and switch >= 7 and len(tel) - switch >= 5:
        before, after = tel.iloc[:switch], tel.iloc[switch:]
        label = f"since the switch from {versions[switch - 1]} to {versions[switch]}"
        day = tel["day"].iloc[switch]
    else:
        before, after = tel.iloc[:-14], tel.iloc[-14:]
        label, day = "over the last 14 days", tel["day"].iloc[-14]
    if before.empty:
        return []
    p95_b, p95_a = before["p95_latency_ms"].mean(), after["p95_latency_ms"].mean()
    p50_b, p50_a = before["p50_latency_ms"].mean(), after["p50_latency_ms"].mean()
    ratio = p95_a / p95_b if p95_b else math.nan
    if not ratio >= 1.4:
        return []
    return [{
        "kind": "latency_regression", "severity": "high" if ratio >= 1.8 else "medium",
        "text": f"p95 latency rose {ratio:.1f}x {label} on {day.isoformat()} "
                f"({p95_b:,.0f} ms -> {p95_a:,.0f} ms; p50 {p50_b:,.0f} -> {p50_a:,.0f} ms)",
        "values": {"p95_before_ms": round(p95_b), "p95_after_ms": round(p95_a),
                   "ratio": round(ratio, 2), "p50_before_ms": round(p50_b),
                   "p50_after_ms": round(p50_a), "since": day.isoformat(),
                   "model_before": versions[switch - 1] if switch else None,
                   "model_after": versions[switch] if switch else None},
        "sources": [_ref(day, "p95_latency_ms")],
    }]


def _error_spike(tel: pd.DataFrame) -> list[dict[str, Any]]:
    recent, base = tel.iloc[-7:], tel.iloc[:-7]
    r = (recent["error_rate"] * recent["api_requests"]).sum() / max(1, recent["api_requests"].sum())
    b = (base["error_rate"] * base["api_requests"]).sum() / max(1, base["api_requests"].sum())
    if r < 0.02 or r < 2 * b:
        return []
    day = recent["day"].iloc[0]
    return [{"kind": "error_spike", "severity": "high" if r >= 0.05 else "medium",
             "text": f"error rate {r * 100:.1f}% in the last 7 days, against {b * 100:.1f}% before",
             "values": {"error_rate_recent": round(r, 4), "error_rate_before": round(b, 4)},
             "sources": [_ref(day, "error_rate")]}]


def _cost_per_request(tel: pd.DataFrame) -> list[dict[str, Any]]:
    recent, base = tel.iloc[-14:], tel.iloc[:-30] if len(tel) > 44 else tel.iloc[:-14]
    cr = recent["spend"].sum() / max(1, recent["api_requests"].sum())
    cb = base["spend"].sum() / max(1, base["api_requests"].sum())
    if not cb or cr < 1.25 * cb:
        return []
    day = recent["day"].iloc[0]
    return [{"kind": "cost_per_request_rising", "severity": "medium",
             "text": f"cost per request up {100 * (cr / cb - 1):.0f}% (${cb:.4f} -> ${cr:.4f})",
             "values": {"cost_before": round(cb, 5), "cost_after": round(cr, 5)},
             "sources": [_ref(day, "spend")]}]


def _context_creep(tel: pd.DataFrame) -> list[dict[str, Any]]:
    ctx = tel["input_tokens"] / tel["api_requests"].where(tel["api_requests"] > 0)
    first, last = ctx.iloc[:14].mean(), ctx.iloc[-14:].mean()
    if not first or not last >= 1.3 * first:
        return []
    day = tel["day"].iloc[-14]
    return [{"kind": "context_creep", "severity": "medium",
             "text": f"average prompt grew {100 * (last / first - 1):.0f}% "
                     f"({first:,.0f} -> {last:,.0f} input tokens per request)",
             "values": {"tokens_before": round(first), "tokens_after": round(last)},
             "sources": [_ref(day, "input_tokens")]}]


def _finetune_divergence(jobs: list[FineTuneJob]) -> list[dict[str, Any]]:
    found = []
    for k, job in enumerate(jobs):
        diverged = job.loss_final is None or (isinstance(job.loss_final, float)
                                              and math.isnan(job.loss_final))
        if not (job.status == "failed" and diverged) and not (
            job.loss_final and job.loss_start and job.loss_final > job.loss_start
        ):
            continue
        hp = job.hyperparameters or {}
        prev = next((j for j in reversed(jobs[:k]) if j.status == "succeeded"), None)
        change = ""
        values: dict[str, Any] = {"job_id": job.id, "learning_rate": hp.get("learning_rate"),
                                  "warmup_steps": hp.get("warmup_steps")}
        if prev is not None:
            php = prev.hyperparameters or {}
            if php.get("learning_rate") and hp.get("learning_rate"):
                factor = hp["learning_rate"] / php["learning_rate"]
                change = (f" after the learning rate went from {php['learning_rate']:g} to "
                          f"{hp['learning_rate']:g} ({factor:.0f}x)")
                values |= {"previous_learning_rate": php["learning_rate"],
                           "previous_eval_score": prev.eval_score, "lr_factor": round(factor, 1)}
            if php.get("warmup_steps") and not hp.get("warmup_steps"):
                change += f" and warmup from {php['warmup_steps']} steps to 0"
        found.append({
            "kind": "finetune_divergence", "severity": "high",
            "text": f"fine-tune job {job.id} on {job.created_on.isoformat()} diverged "
                    f"({job.loss_summary}){change}",
            "values": values,
            "sources": [{"type": "fine_tune_job", "id": str(job.id),
                         "date": job.created_on.isoformat()}],
        })
    return found
