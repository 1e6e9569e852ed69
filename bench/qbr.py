"""QBR deck build time: the demo portfolio and 10,000 accounts, one process, SQLite, no LLM.

    uv run python -m bench.qbr [--sizes 150,10000] [--decks 10] [--json]

Per size, on a fresh SQLite store seeded with the demo generator: the first deck of a process (it
scores the portfolio, as the first answer does), then `--decks` more decks for one CSM's accounts
(p50 / p95 / max wall seconds per deck, content and .pptx together, and the CPU seconds the process
spent on it, which a shared machine's load does not inflate), the .pptx size, the load average, and a cold
`retain qbr` as a separate process (best of three). Figures go to bench/qbr.json; BENCHMARKS.md
quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bench.scale import _wall

RESULT = Path(__file__).resolve().parent / "qbr.json"


def run(accounts: int, decks: int) -> dict:
    """Seed one size and time its decks."""
    from core.settings import load_settings
    from integrations.crm.models import CSM, Account
    from retain import demo
    from retain.decks import make_deck
    from tools import renewal_model
    from tools.services import Services

    today = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as tmp:
        svc = Services(load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"}))
        demo.write(svc.store, demo.generate(accounts, 7, today, max(6, accounts // 200)))
        renewal_model.save(renewal_model.fit(svc.store, svc.card), svc.model_file)
        with svc.store.session() as s:
            dana = s.scalar(select(CSM).where(CSM.email == "dana.reyes@retain.example"))
            mine = list(s.scalars(select(Account.name).where(Account.owner_id == dana.id,
                                                            Account.lifecycle_stage != "churned")))
        t = time.perf_counter()
        first = make_deck(svc, dana.email, "Initech")
        first_s = time.perf_counter() - t
        per, cpu = [], []
        for name in (mine * (decks // max(1, len(mine)) + 1))[:decks]:
            t, c = time.perf_counter(), time.process_time()
            d = make_deck(svc, dana.email, name)
            per.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        env = {**os.environ, "RETAIN_DATA_DIR": tmp, "RETAIN_TODAY": today.isoformat(), "RETAIN_LLM__BACKEND": "none"}
        cold = _wall([sys.executable, "-m", "retain", "--as", dana.email, "qbr", "Initech", "--out",
                      str(Path(tmp) / "cold.pptx")], env)
    per.sort()
    return {"accounts": accounts, "first_deck_s": round(first_s, 2), "decks": len(per),
            "deck_p50_s": round(statistics.median(per), 3),
            "deck_p95_s": round(per[max(0, round(0.95 * len(per)) - 1)], 3),
            "deck_max_s": round(per[-1], 3), "deck_cpu_p50_s": round(statistics.median(cpu), 3),
            "deck_cpu_max_s": round(max(cpu), 3), "load_1m": round(os.getloadavg()[0], 1),
            "slides": len(first.spec["slides"]), "pptx_kb": round(len(d.pptx) / 1024),
            "cold_cli_s": cold}


def main() -> None:
    """Run the sizes asked for, print them, keep bench/qbr.json."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="150,10000")
    ap.add_argument("--decks", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = [run(int(n), a.decks) for n in a.sizes.split(",")]
    RESULT.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=None if a.json else 1))


if __name__ == "__main__":
    main()
