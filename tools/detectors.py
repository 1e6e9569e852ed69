"""Telemetry detectors written in code: the facts the tuning-advisor reasons from.

Each detector reads one account's recent telemetry or fine-tune runs and returns findings with
the numbers and the records they came from; no detector guesses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from core.lazy import lazy
from integrations.crm.models import FineTuneJob, TelemetryDaily
from integrations.crm.store import CRMStore
from tools.results import Detection, Scalar, Source

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


def _ref(day: date, what: str) -> Source:
    return {"type": "telemetry", "id": what, "date": day.isoformat()}


def detect(store: CRMStore, account_id: int, as_of: date) -> list[Detection]:
    """Run every detector for an account; return its findings, most severe first."""
    return detect_many(store, [account_id], as_of)[account_id]


def detect_many(store: CRMStore, account_ids: list[int], as_of: date) -> dict[int, list[Detection]]:
    """Every detector for many accounts at once: one query per table, then array arithmetic over accounts."""
    if not account_ids:
        return {}
    found = _telemetry_findings(recent_telemetry(store, account_ids, as_of))
    jobs = _jobs(store, account_ids, as_of)
    order = {"high": 0, "medium": 1, "low": 2}
    out = {}
    for a in account_ids:
        items = found.get(a, []) + _finetune_divergence(jobs.get(a, []))
        out[a] = sorted(items, key=lambda f: order[f["severity"]])
    return out


TELEMETRY = ("account_id", "day", "model_name", "model_version", "p95_latency_ms", "p50_latency_ms", "error_rate",
             "api_requests", "spend", "input_tokens")  # the columns the detectors read


def recent_telemetry(store: CRMStore, account_ids: list[int], as_of: date) -> dict[str, np.ndarray]:
    """The detectors' 60 days of telemetry of these accounts, ordered by account and day, as columns.

    Plain rows into numpy arrays: a briefing's detectors need no pandas.
    """
    t = TelemetryDaily
    stmt = (select(*[getattr(t, c) for c in TELEMETRY])
            .where(t.account_id.in_(account_ids), t.day > as_of - timedelta(days=60), t.day <= as_of)
            .order_by(t.account_id, t.day))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(TELEMETRY)
    out = {}
    for name, values in zip(TELEMETRY, cols, strict=True):
        kind: npt.DTypeLike = int if name == "account_id" else object if name in ("day", "model_name",
                                                                                 "model_version") else float
        out[name] = np.array(values, dtype=kind)
    return out


Columns = Mapping[str, Any]  # a frame, or column name -> values (`recent_telemetry`)


@dataclass
class _Grid:
    """Telemetry of many accounts, each account's rows right-aligned in an accounts x days matrix.

    "The last 7 rows" or "rows before the model switch" are then masks over positions: `back` is a
    cell's position from its account's last row (-1 where there is no row), `pos` from its first.
    """

    ids: np.ndarray  # account ids, one per matrix row
    n: np.ndarray  # rows per account
    width: int
    back: np.ndarray
    pos: np.ndarray
    req: np.ndarray
    err: np.ndarray
    spend: np.ndarray
    tokens: np.ndarray
    p95: np.ndarray
    p50: np.ndarray
    day_at: np.ndarray
    codes: np.ndarray  # the model (name and version) of each cell, as a code; -1 where there is no row
    label_at: np.ndarray

    @property
    def enough(self) -> np.ndarray:
        """Accounts with two weeks of rows (the detectors need them)."""
        return self.n >= 14

    def at(self, grid_: np.ndarray, back: np.ndarray | int) -> np.ndarray:
        """Per account, the value `back` rows before its last row."""
        idx = np.clip(self.width - 1 - np.asarray(back), 0, self.width - 1) * np.ones(len(self.ids), dtype=int)
        return grid_[np.arange(len(self.ids)), idx]


def _grid(df: Columns) -> _Grid:
    """Lay `df` (rows ordered by account, day) out as a `_Grid`."""
    acc = np.asarray(df["account_id"])
    ids, start, n = np.unique(acc, return_index=True, return_counts=True)
    width = int(n.max())
    row = np.repeat(np.arange(len(ids)), n)
    k = np.arange(len(acc)) - np.repeat(start, n)  # position from the first row of the account
    col = width - np.repeat(n, n) + k
    e = np.full((len(ids), width), -1)  # position from the last row; -1 where there is no row
    e[row, col] = np.repeat(n, n) - 1 - k
    pos = np.where(e >= 0, n[:, None] - 1 - e, -1)  # position from the first row

    def grid(values: np.ndarray, fill: object = np.nan, dtype: npt.DTypeLike = float) -> np.ndarray:
        m = np.full((len(ids), width), fill, dtype=dtype)
        m[row, col] = values
        return m

    def num(name: str) -> np.ndarray:
        return grid(np.asarray(df[name], dtype=float))

    labels = np.array([f"{m} {v}" for m, v in zip(df["model_name"], df["model_version"], strict=True)], dtype=object)
    codes = np.unique(labels, return_inverse=True)[1].reshape(-1) if len(labels) else np.zeros(0, dtype=int)
    days = np.array([d.date() if isinstance(d, datetime) else d for d in df["day"]], dtype=object)
    return _Grid(ids=ids, n=n, width=width, back=e, pos=pos, req=num("api_requests"), err=num("error_rate"),
                 spend=num("spend"), tokens=num("input_tokens"), p95=num("p95_latency_ms"), p50=num("p50_latency_ms"),
                 day_at=grid(days, None, object), codes=grid(codes, -1, int), label_at=grid(labels, None, object))


def _total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, np.nan_to_num(values), 0.0).sum(axis=1)


def _mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    ok = mask & ~np.isnan(values)
    cnt = ok.sum(axis=1)
    return np.where(cnt > 0, np.where(ok, values, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)


def _latency(g: _Grid) -> dict[str, np.ndarray]:
    """p95 latency around the first model switch (if the windows allow), else the last 14 days vs before."""
    e, pos, n, width = g.back, g.pos, g.n, g.width
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (g.codes[:, 1:] != g.codes[:, :-1]) & (g.codes[:, :-1] >= 0)
        has_switch = change.any(axis=1)
        sw_col = np.where(has_switch, change.argmax(axis=1) + 1, width)
        switch = sw_col - (width - n)  # position of the first row on the new model
        use_switch = has_switch & (switch >= 7) & (n - switch >= 5)
        after = np.where(use_switch[:, None], pos >= switch[:, None], (e >= 0) & (e < 14))
        before = np.where(use_switch[:, None], (pos >= 0) & (pos < switch[:, None]), e >= 14)
        p95_b, p95_a = _mean(g.p95, before), _mean(g.p95, after)
        ratio = np.where((p95_b != 0) & ~np.isnan(p95_b), p95_a / p95_b, np.nan)
        return {"hit": g.enough & before.any(axis=1) & (ratio >= 1.4), "ratio": ratio, "p95_b": p95_b,
                "p95_a": p95_a, "p50_b": _mean(g.p50, before), "p50_a": _mean(g.p50, after),
                "has_switch": has_switch, "sw_col": sw_col, "use_switch": use_switch}


def _errors(g: _Grid) -> dict[str, np.ndarray]:
    """The error rate of the last 7 rows against the rows before (weighted by requests)."""
    recent7, base7 = (g.back >= 0) & (g.back < 7), g.back >= 7
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _total(g.err * g.req, recent7) / np.maximum(1, _total(g.req, recent7))
        b = _total(g.err * g.req, base7) / np.maximum(1, _total(g.req, base7))
        return {"hit": g.enough & ~((r < 0.02) | (r < 2 * b)), "recent": r, "before": b}


def _cost(g: _Grid) -> dict[str, np.ndarray]:
    """Cost per request: the last 14 rows against the rows more than 30 back (or 14, if few)."""
    recent14 = (g.back >= 0) & (g.back < 14)
    base_c = np.where((g.n > 44)[:, None], g.back >= 30, g.back >= 14)
    with np.errstate(divide="ignore", invalid="ignore"):
        cr = _total(g.spend, recent14) / np.maximum(1, _total(g.req, recent14))
        cb = _total(g.spend, base_c) / np.maximum(1, _total(g.req, base_c))
        return {"hit": g.enough & (cb != 0) & ~np.isnan(cb) & ~(cr < 1.25 * cb), "after": cr, "before": cb}


def _creep(g: _Grid) -> dict[str, np.ndarray]:
    """Context creep: input tokens per request, the first 14 rows against the last 14."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_req = np.where(g.req > 0, g.tokens / g.req, np.nan)
        first = _mean(per_req, (g.pos >= 0) & (g.pos < 14))
        last = _mean(per_req, (g.back >= 0) & (g.back < 14))
        return {"hit": g.enough & (first != 0) & ~np.isnan(first) & (last >= 1.3 * first), "first": first,
                "last": last}


def _latency_item(g: _Grid, lat: dict[str, np.ndarray], i: int) -> Detection:
    sw, has = int(lat["sw_col"][i]), bool(lat["has_switch"][i])
    if lat["use_switch"][i]:
        label, day = f"since the switch from {g.label_at[i, sw - 1]} to {g.label_at[i, sw]}", g.day_at[i, sw]
    else:
        label, day = "over the last 14 days", g.at(g.day_at, 13)[i]
    ratio, p95_b, p95_a, p50_b, p50_a = (lat[k][i] for k in ("ratio", "p95_b", "p95_a", "p50_b", "p50_a"))
    return {"kind": "latency_regression", "severity": "high" if ratio >= 1.8 else "medium",
            "text": f"p95 latency rose {ratio:.1f}x {label} on {day.isoformat()} "
                    f"({p95_b:,.0f} ms -> {p95_a:,.0f} ms; p50 {p50_b:,.0f} -> {p50_a:,.0f} ms)",
            "values": {"p95_before_ms": round(p95_b), "p95_after_ms": round(p95_a),
                       "ratio": round(float(ratio), 2), "p50_before_ms": round(p50_b),
                       "p50_after_ms": round(p50_a), "since": day.isoformat(),
                       "model_before": g.label_at[i, sw - 1] if has else None,
                       "model_after": g.label_at[i, sw] if has else None},
            "sources": [_ref(day, "p95_latency_ms")]}


def _error_item(g: _Grid, err: dict[str, np.ndarray], i: int) -> Detection:
    r, b = err["recent"][i], err["before"][i]
    return {"kind": "error_spike", "severity": "high" if r >= 0.05 else "medium",
            "text": f"error rate {r * 100:.1f}% in the last 7 days, against {b * 100:.1f}% before",
            "values": {"error_rate_recent": round(float(r), 4), "error_rate_before": round(float(b), 4)},
            "sources": [_ref(g.at(g.day_at, 6)[i], "error_rate")]}


def _cost_item(g: _Grid, cost: dict[str, np.ndarray], i: int) -> Detection:
    cr, cb = cost["after"][i], cost["before"][i]
    return {"kind": "cost_per_request_rising", "severity": "medium",
            "text": f"cost per request up {100 * (cr / cb - 1):.0f}% (${cb:.4f} -> ${cr:.4f})",
            "values": {"cost_before": round(float(cb), 5), "cost_after": round(float(cr), 5)},
            "sources": [_ref(g.at(g.day_at, 13)[i], "spend")]}


def _creep_item(g: _Grid, creep: dict[str, np.ndarray], i: int) -> Detection:
    first, last = creep["first"][i], creep["last"][i]
    return {"kind": "context_creep", "severity": "medium",
            "text": f"average prompt grew {100 * (last / first - 1):.0f}% "
                    f"({first:,.0f} -> {last:,.0f} input tokens per request)",
            "values": {"tokens_before": round(first), "tokens_after": round(last)},
            "sources": [_ref(g.at(g.day_at, 13)[i], "input_tokens")]}


def _telemetry_findings(df: Columns) -> dict[int, list[Detection]]:
    """The four telemetry detectors over every account in `df` (rows ordered by account, day).

    Each detector is array arithmetic over all accounts at once (`_Grid`); only accounts with a
    finding reach Python, in the order latency, errors, cost, context.
    """
    if not len(df["account_id"]):
        return {}
    g = _grid(df)
    checks = [(_latency(g), _latency_item), (_errors(g), _error_item), (_cost(g), _cost_item),
              (_creep(g), _creep_item)]
    hit = np.zeros(len(g.ids), dtype=bool)
    for arrays, _ in checks:
        hit |= arrays["hit"]
    found: dict[int, list[Detection]] = {}
    for i in np.flatnonzero(hit):
        found[int(g.ids[i])] = [item(g, arrays, int(i)) for arrays, item in checks if arrays["hit"][i]]
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


def _finetune_divergence(jobs: list[FineTuneJob]) -> list[Detection]:
    found: list[Detection] = []
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
        values: dict[str, Scalar] = {"job_id": job.id, "learning_rate": hp.get("learning_rate"),
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
