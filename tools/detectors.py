"""Telemetry detectors written in code: the facts the tuning-advisor reasons from.

Each detector reads one account's recent telemetry or fine-tune runs and returns findings with
the numbers and the records they came from; no detector guesses.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from core.lazy import lazy
from integrations.crm.models import FineTuneJob, TelemetryDaily
from integrations.crm.store import CRMStore

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


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
    return detect_many(store, [account_id], as_of)[account_id]


def detect_many(store: CRMStore, account_ids: list[int], as_of: date) -> dict[int, list[dict[str, Any]]]:
    """Every detector for many accounts at once: one query per table, then array arithmetic over accounts."""
    if not account_ids:
        return {}
    t = TelemetryDaily
    stmt = (select(t.account_id, t.day, t.model_name, t.model_version, t.p95_latency_ms, t.p50_latency_ms,
                   t.error_rate, t.api_requests, t.spend, t.input_tokens)
            .where(t.account_id.in_(account_ids), t.day > as_of - timedelta(days=60), t.day <= as_of)
            .order_by(t.account_id, t.day))
    with store.engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    found = _telemetry_findings(df)
    jobs = _jobs(store, account_ids, as_of)
    order = {"high": 0, "medium": 1, "low": 2}
    out = {}
    for a in account_ids:
        items = found.get(a, []) + _finetune_divergence(jobs.get(a, []))
        out[a] = sorted(items, key=lambda f: order[f["severity"]])
    return out


def _telemetry_findings(df: pd.DataFrame) -> dict[int, list[dict[str, Any]]]:
    """The four telemetry detectors over every account in `df` (rows ordered by account, day).

    Each account's rows are laid right-aligned in an accounts x days matrix, so "the last 7 rows" or
    "rows before the model switch" are masks over positions; only accounts with a finding reach Python.
    """
    if df.empty:
        return {}
    acc = df["account_id"].to_numpy()
    ids, start, n = np.unique(acc, return_index=True, return_counts=True)
    width = int(n.max())
    row = np.repeat(np.arange(len(ids)), n)
    k = np.arange(len(df)) - np.repeat(start, n)  # position from the first row of the account
    col = width - np.repeat(n, n) + k
    e = np.full((len(ids), width), -1)  # position from the last row; -1 where there is no row
    e[row, col] = np.repeat(n, n) - 1 - k
    pos = np.where(e >= 0, n[:, None] - 1 - e, -1)  # position from the first row

    def grid(values: np.ndarray) -> np.ndarray:
        m = np.full((len(ids), width), np.nan)
        m[row, col] = values
        return m

    req = grid(df["api_requests"].to_numpy(dtype=float))
    err = grid(df["error_rate"].to_numpy(dtype=float))
    spend = grid(df["spend"].to_numpy(dtype=float))
    tokens = grid(df["input_tokens"].to_numpy(dtype=float))
    p95 = grid(df["p95_latency_ms"].to_numpy(dtype=float))
    p50 = grid(df["p50_latency_ms"].to_numpy(dtype=float))
    days = pd.to_datetime(df["day"]).dt.date.to_numpy()
    day_at = np.empty((len(ids), width), dtype=object)
    day_at[row, col] = days
    labels = (df["model_name"] + " " + df["model_version"]).to_numpy()
    codes = np.full((len(ids), width), -1)
    codes[row, col] = pd.factorize(labels)[0]
    label_at = np.empty((len(ids), width), dtype=object)
    label_at[row, col] = labels
    enough = n >= 14

    def total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, np.nan_to_num(values), 0.0).sum(axis=1)

    def mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        ok = mask & ~np.isnan(values)
        cnt = ok.sum(axis=1)
        return np.where(cnt > 0, np.where(ok, values, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)

    def at(grid_: np.ndarray, back: np.ndarray | int) -> np.ndarray:
        """Per account, the value `back` rows before its last row."""
        idx = np.clip(width - 1 - np.asarray(back), 0, width - 1) * np.ones(len(ids), dtype=int)
        return grid_[np.arange(len(ids)), idx]

    found: dict[int, list[dict[str, Any]]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        # Latency: around the first model switch (if the windows allow), else the last 14 days vs before.
        change = (codes[:, 1:] != codes[:, :-1]) & (codes[:, :-1] >= 0)
        has_switch = change.any(axis=1)
        sw_col = np.where(has_switch, change.argmax(axis=1) + 1, width)
        switch = sw_col - (width - n)  # position of the first row on the new model
        use_switch = has_switch & (switch >= 7) & (n - switch >= 5)
        after = np.where(use_switch[:, None], pos >= switch[:, None], (e >= 0) & (e < 14))
        before = np.where(use_switch[:, None], (pos >= 0) & (pos < switch[:, None]), e >= 14)
        p95_b, p95_a = mean(p95, before), mean(p95, after)
        p50_b, p50_a = mean(p50, before), mean(p50, after)
        ratio = np.where((p95_b != 0) & ~np.isnan(p95_b), p95_a / p95_b, np.nan)
        lat_hit = enough & before.any(axis=1) & (ratio >= 1.4)
        # Errors: the last 7 rows against the rows before.
        recent7, base7 = (e >= 0) & (e < 7), e >= 7
        r = total(err * req, recent7) / np.maximum(1, total(req, recent7))
        b = total(err * req, base7) / np.maximum(1, total(req, base7))
        err_hit = enough & ~((r < 0.02) | (r < 2 * b))
        # Cost per request: the last 14 rows against the rows more than 30 back (or 14, if few).
        recent14 = (e >= 0) & (e < 14)
        base_c = np.where((n > 44)[:, None], e >= 30, e >= 14)
        cr = total(spend, recent14) / np.maximum(1, total(req, recent14))
        cb = total(spend, base_c) / np.maximum(1, total(req, base_c))
        cost_hit = enough & (cb != 0) & ~np.isnan(cb) & ~(cr < 1.25 * cb)
        # Context creep: tokens per request, first 14 rows against the last 14.
        per_req = np.where(req > 0, tokens / req, np.nan)
        first, last = mean(per_req, (pos >= 0) & (pos < 14)), mean(per_req, recent14)
        creep_hit = enough & (first != 0) & ~np.isnan(first) & (last >= 1.3 * first)

    for i in np.flatnonzero(lat_hit | err_hit | cost_hit | creep_hit):
        aid, items = int(ids[i]), []
        if lat_hit[i]:
            sw = int(sw_col[i])
            has = bool(has_switch[i])
            if use_switch[i]:
                label, day = f"since the switch from {label_at[i, sw - 1]} to {label_at[i, sw]}", day_at[i, sw]
            else:
                label, day = "over the last 14 days", at(day_at, 13)[i]
            items.append({
                "kind": "latency_regression", "severity": "high" if ratio[i] >= 1.8 else "medium",
                "text": f"p95 latency rose {ratio[i]:.1f}x {label} on {day.isoformat()} "
                        f"({p95_b[i]:,.0f} ms -> {p95_a[i]:,.0f} ms; p50 {p50_b[i]:,.0f} -> {p50_a[i]:,.0f} ms)",
                "values": {"p95_before_ms": round(p95_b[i]), "p95_after_ms": round(p95_a[i]),
                           "ratio": round(float(ratio[i]), 2), "p50_before_ms": round(p50_b[i]),
                           "p50_after_ms": round(p50_a[i]), "since": day.isoformat(),
                           "model_before": label_at[i, sw - 1] if has else None,
                           "model_after": label_at[i, sw] if has else None},
                "sources": [_ref(day, "p95_latency_ms")]})
        if err_hit[i]:
            day = at(day_at, 6)[i]
            items.append({"kind": "error_spike", "severity": "high" if r[i] >= 0.05 else "medium",
                          "text": f"error rate {r[i] * 100:.1f}% in the last 7 days, against {b[i] * 100:.1f}% before",
                          "values": {"error_rate_recent": round(float(r[i]), 4),
                                     "error_rate_before": round(float(b[i]), 4)},
                          "sources": [_ref(day, "error_rate")]})
        if cost_hit[i]:
            day = at(day_at, 13)[i]
            rise = 100 * (cr[i] / cb[i] - 1)
            items.append({"kind": "cost_per_request_rising", "severity": "medium",
                          "text": f"cost per request up {rise:.0f}% (${cb[i]:.4f} -> ${cr[i]:.4f})",
                          "values": {"cost_before": round(float(cb[i]), 5), "cost_after": round(float(cr[i]), 5)},
                          "sources": [_ref(day, "spend")]})
        if creep_hit[i]:
            day = at(day_at, 13)[i]
            items.append({"kind": "context_creep", "severity": "medium",
                          "text": f"average prompt grew {100 * (last[i] / first[i] - 1):.0f}% "
                                  f"({first[i]:,.0f} -> {last[i]:,.0f} input tokens per request)",
                          "values": {"tokens_before": round(first[i]), "tokens_after": round(last[i])},
                          "sources": [_ref(day, "input_tokens")]})
        found[aid] = items
    return found


def _jobs(store: CRMStore, account_ids: list[int], as_of: date) -> dict[int, list[FineTuneJob]]:
    stmt = (select(FineTuneJob).where(FineTuneJob.account_id.in_(account_ids), FineTuneJob.created_on <= as_of,
                                      FineTuneJob.created_on > as_of - timedelta(days=90))
            .order_by(FineTuneJob.created_on))
    out: dict[int, list[FineTuneJob]] = {}
    with store.session() as s:
        for j in s.scalars(stmt):
            out.setdefault(j.account_id, []).append(j)
    return out


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
