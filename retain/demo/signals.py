"""Product signals of the demo portfolio: daily telemetry, fine-tune jobs and renewal history."""

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np

from retain.demo.model import Portfolio, features_from_health, sigmoid, true_renewal_logit, years_after
from retain.demo.names import ARC_NAMES, DAYS, MODELS, account_names

CHUNK_ACCOUNTS = 2_000  # accounts whose telemetry rows exist as Python tuples at once (about 360,000 rows)
NEW_VERSION = "v4.0"  # the model version an account switched to (Globex's arc)


def telemetry(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, seats: np.ndarray,
               names: list[str], anchor: date) -> None:
    """Daily usage, latency, errors and spend per account, drawn from its health."""
    n = len(h)
    t = np.arange(DAYS)  # day index; DAYS-1 is the anchor's eve
    days = [(anchor - timedelta(days=DAYS - k)).isoformat() for k in range(DAYS)]
    weekday = np.array([(anchor - timedelta(days=DAYS - k)).weekday() < 5 for k in range(DAYS)])
    growth = 0.55 * h + rng.normal(0, 0.25, n)  # log-growth over the window
    base = seats * np.exp(rng.normal(3.0, 0.4, n))
    req = base[:, None] * np.exp(growth[:, None] * t[None, :] / DAYS)
    req *= np.where(weekday, 1.0, 0.35)[None, :] * np.exp(rng.normal(0, 0.08, (n, DAYS)))
    util0 = np.clip(sigmoid(0.7 + 0.8 * h + rng.normal(0, 0.4, n)), 0.05, 0.97)
    util = np.clip(util0[:, None] * np.exp(0.15 * growth[:, None] * t[None, :] / DAYS), 0.03, 1.0)
    ctx = np.exp(rng.normal(7.0, 0.4, n))  # mean input tokens per request
    ctx_t = np.broadcast_to(ctx[:, None], (n, DAYS))  # a view: the same values, no n x DAYS copy
    p50 = np.exp(rng.normal(6.0, 0.25, n))[:, None] * np.exp(rng.normal(0, 0.06, (n, DAYS)))
    p95_mult = np.full((n, DAYS), 2.2) * np.exp(-0.06 * h[:, None] + rng.normal(0, 0.05, (n, DAYS)))
    err = (0.008 * np.exp(-0.45 * h + rng.normal(0, 0.3, n)))[:, None] * np.exp(
        rng.normal(0, 0.25, (n, DAYS)))
    model_idx = rng.integers(0, len(MODELS), n)
    switch_day = np.full(n, DAYS + 1)

    idx = {name: i for i, name in enumerate(names[: len(ARC_NAMES)])}
    w = idx["Wayne Media"]  # champion left 45 days ago; usage fades after
    req[w] *= np.where(t < DAYS - 45, 1.0, np.exp(-0.018 * (t - (DAYS - 45))))
    util[w] = np.where(t < DAYS - 45, 0.7, 0.7 * np.exp(-0.012 * (t - (DAYS - 45))))
    g = idx["Globex"]  # model switch 21 days ago doubled p95
    model_idx[g] = 0
    switch_day[g] = DAYS - 21
    p50[g] = np.where(t < DAYS - 21, 520.0, 830.0) * np.exp(rng.normal(0, 0.04, DAYS))
    p95_mult[g] = np.where(t < DAYS - 21, 1.75, 2.3)
    hoo = idx["Hooli"]  # seats fill up
    util[hoo] = np.clip(0.74 + 0.24 * t / DAYS, 0, 0.99)
    req[hoo] = base[hoo] * np.exp(0.45 * t / DAYS) * np.where(weekday, 1.0, 0.35)
    cy = idx["Cyberdyne Systems"]  # sandbox only while SSO is blocked
    req[cy] = np.where(t < DAYS - 70, 0.0, 25.0) * np.where(weekday, 1.0, 0.2)
    util[cy] = np.where(t < DAYS - 70, 0.0, 0.06)
    ac = idx["Acme Corp"]
    err[ac] = 0.003

    cols = ["account_id", "day", "api_requests", "input_tokens", "output_tokens", "active_users",
            "seats_used", "p50_latency_ms", "p95_latency_ms", "error_rate", "spend", "model_name",
            "model_version"]
    weekday_share = np.where(weekday, 0.8, 0.25)[None, :]

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        """The rows, a few thousand accounts at a time: only one chunk is ever held as Python objects."""
        for a in range(0, n, CHUNK_ACCOUNTS):
            b = min(n, a + CHUNK_ACCOUNTS)
            requests = np.maximum(0, np.round(req[a:b])).astype(np.int64)
            seats_used = np.round(util[a:b] * seats[a:b, None]).astype(np.int64)
            active = np.round(seats_used * weekday_share).astype(np.int64)
            in_tok = np.round(requests * ctx_t[a:b]).astype(np.int64)
            out_tok = np.round(requests * 260).astype(np.int64)
            spend = np.round(in_tok * 2.5e-6 + out_tok * 1.0e-5, 2)
            p50r = np.round(p50[a:b], 1).tolist()
            p95r = np.round(p50[a:b] * p95_mult[a:b], 1).tolist()
            errr = np.round(np.clip(err[a:b], 0, 0.5), 5).tolist()
            req_l, in_l, out_l = requests.tolist(), in_tok.tolist(), out_tok.tolist()
            act_l, su_l, sp_l = active.tolist(), seats_used.tolist(), spend.tolist()
            rows: list[tuple[Any, ...]] = []
            for j in range(b - a):
                i = a + j
                mname, mver = MODELS[int(model_idx[i])]
                aid = i + 1
                sd = int(switch_day[i])
                for k in range(DAYS):
                    if req_l[j][k] == 0 and i == cy:
                        continue
                    rows.append((aid, days[k], req_l[j][k], in_l[j][k], out_l[j][k], act_l[j][k],
                                 su_l[j][k], p50r[j][k], p95r[j][k], errr[j][k], sp_l[j][k], mname,
                                 NEW_VERSION if k >= sd else mver))
            yield rows

    pf.stream("telemetry_daily", cols, chunks)


def fine_tunes(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                anchor: date) -> None:
    """Fine-tune jobs per account, failing and diverging more on unhealthy ones."""
    cols = ["id", "account_id", "created_on", "status", "base_model", "hyperparameters",
            "loss_start", "loss_min", "loss_final", "loss_summary", "eval_score"]
    fid = 0
    for i in range(len(h)):
        aid = i + 1
        if names[i] == "Umbrella Corp":
            fid += 1
            pf.add("fine_tune_jobs", cols, (fid, aid, (anchor - timedelta(days=40)).isoformat(),
                                            "succeeded", "nimbus-small v2.4", json.dumps(
                {"learning_rate": 2e-5, "warmup_steps": 100, "epochs": 3, "batch_size": 16}),
                1.94, 0.61, 0.62, "loss 1.94 -> 0.61 over 3 epochs, smooth", 0.84))
            fid += 1
            pf.add("fine_tune_jobs", cols, (fid, aid, (anchor - timedelta(days=9)).isoformat(),
                                            "failed", "nimbus-small v2.4", json.dumps(
                {"learning_rate": 2e-4, "warmup_steps": 0, "epochs": 3, "batch_size": 16}),
                1.93, 1.41, float("nan"),
                "loss 1.93 -> 1.41 at step 120, rose to 8.7 by step 290, NaN at step 310", None))
            continue
        if i < len(ARC_NAMES) or rng.random() > 0.2:
            continue
        for _ in range(int(rng.integers(1, 3))):
            fid += 1
            lr = float(rng.choice([1e-5, 2e-5, 5e-5]))
            ev = float(np.clip(0.75 + 0.06 * h[i] + rng.normal(0, 0.04), 0.4, 0.97))
            start_loss = float(np.round(rng.uniform(1.6, 2.4), 2))
            final = float(np.round(start_loss * rng.uniform(0.3, 0.5), 2))
            pf.add("fine_tune_jobs", cols, (
                fid, aid, (anchor - timedelta(days=int(rng.integers(5, DAYS)))).isoformat(),
                "succeeded", "nimbus-small v2.4",
                json.dumps({"learning_rate": lr, "warmup_steps": 100, "epochs": 3, "batch_size": 16}),
                start_loss, final, final, f"loss {start_loss} -> {final}, smooth", round(ev, 3)))


def renewal_history(pf: Portfolio, rng: np.random.Generator, h: np.ndarray, names: list[str],
                     start: np.ndarray, arr: np.ndarray, anchor: date, n: int,
                     csm_ids: list[int]) -> None:
    """Two years of renewals for live accounts, plus former customers who churned."""
    cols = ["id", "account_id", "renewal_date", "outcome", "arr_before", "arr_after", "features"]
    events: list[tuple[int, date, float, float, bool]] = []  # aid, date, h_then, arr, must_renew
    for i in range(n):
        years = 1
        while True:
            d = years_after(start[i], years)
            if d > anchor:
                break
            if (anchor - d).days <= 730:
                events.append((i + 1, d, h[i] + rng.normal(0, 0.4), float(arr[i]), True))
            years += 1
    # Former customers: enough of them that about one renewal in six was lost.
    n_former = max(10, int(n * 0.25))
    next_id = n + 1
    acc_cols = pf.columns["accounts"]
    former_names = account_names(n + n_former, np.random.default_rng(12345))[n:]
    for k in range(n_former):
        aid = next_id + k
        hf = rng.normal(-0.2, 1.0)
        when = anchor - timedelta(days=int(rng.integers(15, 730)))
        a = float(np.round(rng.uniform(10_000, 300_000), -2))
        name = former_names[k] + " (former)"
        pf.add("accounts", acc_cols, (aid, f"DEMO-A{aid:06d}", name, None, "mid-market",
                                      "Technology", 0.0, csm_ids[k % len(csm_ids)], "churned",
                                      (when - timedelta(days=365)).isoformat()))
        events.append((aid, when, hf, a, False))
    hs = np.array([e[2] for e in events])
    feats = features_from_health(hs, rng)
    p = sigmoid(true_renewal_logit(feats))
    renewed = rng.random(len(events)) < p
    rid = 0
    for j, (aid, when, _h, a, must) in enumerate(events):
        f = {k: (None if np.isnan(v[j]) else float(v[j])) for k, v in feats.items()}
        ok = bool(renewed[j])
        if must and not ok:
            outcome, after = "contracted", round(a * 0.7, -2)  # stayed, but smaller
        elif not ok:
            outcome, after = "churned", 0.0
        elif f["seat_utilization"] and f["seat_utilization"] > 0.85 and rng.random() < 0.6:
            outcome, after = "expanded", round(a * 1.3, -2)
        else:
            outcome, after = "renewed", a
        rid += 1
        pf.add("renewal_events", cols, (rid, aid, when.isoformat(), outcome, a, after,
                                        json.dumps(f)))
