"""The briefing run: every CSM's briefing for the demo portfolio (6 CSMs) and for 10,000 accounts (50 CSMs).

Seconds and LLM calls; deterministic (no model) so the figure is the code path's own cost; the LLM
adds at most one call per briefing (the opening summary).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import select

from agents import briefing
from agents.context import request_deps
from core.settings import load_settings
from integrations.crm.models import CSM, Account
from retain import demo
from tools.health import score_portfolio
from tools.services import Services


def run(accounts: int, csms: int) -> dict:
    """Seed, then build and render every CSM's briefing."""
    today = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as tmp:
        rt = Services(load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"}))
        demo.write(rt.store, demo.generate(accounts, 7, today, csms))
        with rt.store.session() as s:
            people = list(s.scalars(select(CSM.email).where(CSM.role == "csm")))
            names = list(s.scalars(select(Account.name)))
        deps = request_deps(rt, use_memory=False)
        t0 = time.perf_counter()
        health = score_portfolio(rt.store, rt.card, today)
        t1 = time.perf_counter()
        sizes, per = [], []
        for who in track(people, description=f"Briefings ({accounts:,} accounts)"):
            t = time.perf_counter()
            b = briefing.build(deps, who, today - timedelta(days=1), health=health)
            briefing.render_text(b, briefing.summary(deps, b, names))
            per.append(time.perf_counter() - t)
            sizes.append(b["accounts"])
        total = time.perf_counter() - t0
    return {"accounts": accounts, "csms": len(people), "score_s": round(t1 - t0, 2), "total_s": round(total, 2),
            "per_briefing_median_s": round(sorted(per)[len(per) // 2], 2), "max_s": round(max(per), 2),
            "accounts_per_csm": round(sum(sizes) / len(sizes)), "llm_calls": 0}


def main() -> None:
    """Both runs, as a table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    p.add_argument("--large", type=int, default=10_000)
    a, _ = p.parse_known_args()
    rows = [run(150, 6), run(a.large, 50)]
    if a.json:
        print(json.dumps(rows, indent=2))
        return
    t = Table(title="Briefing run (deterministic; the LLM adds at most 1 call per briefing)")
    for c in ("accounts", "CSMs", "score portfolio s", "all briefings s", "median per briefing s", "max s",
              "accounts per CSM", "LLM calls"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(f"{r['accounts']:,}", str(r["csms"]), str(r["score_s"]), str(r["total_s"]),
                  str(r["per_briefing_median_s"]), str(r["max_s"]), str(r["accounts_per_csm"]), str(r["llm_calls"]))
    Console().print(t)


if __name__ == "__main__":
    main()
