"""Seed a 10,000-account portfolio and score all of it; print the seconds (targets: 60 s, 10 s)."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.report import report
from core.settings import load_settings
from retain import demo
from tools import renewal_model
from tools.health import save_snapshots, score_portfolio
from tools.services import Services


def run(accounts: int = 10_000, csms: int = 50, seed: int = 7) -> dict[str, float]:
    """Time generate, write, model fit and scoring on a fresh SQLite store."""
    today = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as tmp:
        rt = Services(load_settings(data_dir=tmp, today=today.isoformat()))
        t0 = time.perf_counter()
        pf = demo.generate(accounts, seed, today, csms)
        t1 = time.perf_counter()
        counts = demo.write(rt.store, pf)
        t2 = time.perf_counter()
        model = renewal_model.fit(rt.store, rt.card)
        t3 = time.perf_counter()
        health = score_portfolio(rt.store, rt.card, today)
        t4 = time.perf_counter()
        save_snapshots(rt.store, health)
        t5 = time.perf_counter()
        db_mb = (Path(tmp) / "retain.db").stat().st_size / 1e6
    return {"accounts": accounts, "csms": csms, "telemetry_rows": counts["telemetry_daily"],
            "generate_s": t1 - t0, "write_s": t2 - t1, "seed_total_s": t2 - t0,
            "model_fit_s": t3 - t2, "score_all_s": t4 - t3, "snapshot_s": t5 - t4,
            "model_auc": model.metrics["auc"], "db_mb": db_mb}


def main() -> None:
    """Run and print a table (and JSON with --json)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--csms", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = run(args.accounts, args.csms)
    report(r, args.json, f"Seed and score {r['accounts']:,} accounts ({r['telemetry_rows']:,} telemetry rows)", [
        ("generate", f"{r['generate_s']:.1f}", ""),
        ("write (SQLite)", f"{r['write_s']:.1f}", ""),
        ("seed total", f"{r['seed_total_s']:.1f}", "< 60"),
        ("renewal model fit", f"{r['model_fit_s']:.1f}", ""),
        ("score every account (+30-day trend)", f"{r['score_all_s']:.1f}", "< 10"),
        ("save daily snapshots", f"{r['snapshot_s']:.1f}", "")], first="step", value="seconds")


if __name__ == "__main__":
    main()
