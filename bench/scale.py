"""Retain at portfolio scale: seed, score and answer at 10,000 and 100,000 accounts (deterministic path).

    uv run python -m bench.scale [--sizes 10000,100000] [--csms 50] [--database-url URL] [--json]

Per size, on a fresh store (SQLite in a temporary directory; with `--database-url`, a new database
on that PostgreSQL server, e.g. a throwaway one from `.ci/postgres`, dropped after): seconds to
seed, to score the whole portfolio the first time, to read the stored scores back in another process
(what a CLI command or a second worker pays), per-question seconds for one CSM's typical questions
once the process is warm (p50 / p95 / max, and the QBR question alone), all CSMs' briefings, a cold
`retain ask --no-llm` and `retain --help` as separate processes, and the process's peak memory. The
machine's load average is kept with each run (before and after): on a shared machine it says how
much the figures were disturbed, and the process's CPU seconds are kept beside the wall-clock ones
(the database server's CPU on PostgreSQL is not in them). Figures go to bench/scale.json (one row per database and size,
earlier rows of other runs kept);
BENCHMARKS.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

RESULT = Path(__file__).resolve().parent / "scale.json"
COLD = Path(__file__).resolve().parent / "cold_ask.json"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    """Best of three wall-clock runs of a command (seconds)."""
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
        best = min(best, time.perf_counter() - t)
    return round(best, 2)


@contextmanager
def _database(server: str | None, accounts: int) -> Iterator[str]:
    """A fresh database for one run: SQLite's default in the data directory, or a new one on `server`."""
    if not server:
        yield ""
        return
    base = make_url(server)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"retain_scale_{accounts}_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: on a busy machine, what a run itself cost."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def run(accounts: int, csms: int, briefings: int, server: str | None = None) -> dict:
    """Seed, score, ask and brief at one size, on SQLite or on a new database of a PostgreSQL `server`."""
    from agents import briefing
    from agents.assistant import Assistant
    from agents.context import request_deps
    from core.settings import load_settings
    from integrations.crm.models import CSM
    from retain import demo
    from tools import renewal_model
    from tools.query import Query
    from tools.query import run as run_query
    from tools.scores import ScoreCache
    from tools.services import Services

    today = date(2026, 11, 23)
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp, _database(server, accounts) as url:
        svc = Services(load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"},
                                     database_url=url))
        t, c = time.perf_counter(), time.process_time()
        demo.write(svc.store, demo.generate(accounts, 7, today, csms))
        renewal_model.save(renewal_model.fit(svc.store, svc.card), svc.model_file)
        seed_s, seed_cpu = time.perf_counter() - t, time.process_time() - c
        seed_peak = _peak_mb()
        print(f"seeded {accounts:,} in {seed_s:.1f} s ({seed_cpu:.1f} CPU s), peak {seed_peak:.0f} MB, "
              f"load {_load()}", file=sys.stderr, flush=True)
        with svc.store.session() as s:
            people = list(s.scalars(select(CSM.email).where(CSM.role == "csm")))
        who = people[0]
        t, c = time.perf_counter(), time.process_time()
        ctx = svc.tool_context(who)
        ctx.health()
        score_s, score_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"first score {score_s:.1f} s ({score_cpu:.1f} CPU s), peak {_peak_mb():.0f} MB, load {_load()}",
              file=sys.stderr, flush=True)
        t = time.perf_counter()
        ScoreCache().get(ctx)  # another process: the stored run, not a new computation
        stored_s = time.perf_counter() - t
        t = time.perf_counter()
        svc.prewarm()  # what a serving worker does at start: yesterday too (briefings' "since")
        prewarm_s = time.perf_counter() - t
        mine = [r["account"] for r in run_query(ctx, Query(entity="accounts", limit=5)).rows]
        questions = [f"how is {mine[0]} doing?", f"prep me for {mine[1]}'s QBR", "which of my accounts are at risk?",
                     f"who is the champion at {mine[2]}?", "top 5 accounts by ARR", "what's my NRR this year?",
                     f"compare {mine[0]} and {mine[3]}", "which accounts haven't we talked to in 30 days?",
                     f"when does {mine[4]} renew?", "what renews before the end of January?",
                     "anything I should worry about today?"]
        bot = Assistant(svc, use_memory=False)
        bot.ask(questions[0], who, "warm")  # the graph and the renewal model, loaded once
        per: dict[str, float] = {}
        cpu: list[float] = []
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            bot.ask(q, who, f"q:{q}")
            per[q] = round(time.perf_counter() - t, 3)
            cpu.append(time.process_time() - c)
        deps = request_deps(svc, use_memory=False)
        t, c = time.perf_counter(), time.process_time()
        for p in people[:briefings]:
            briefing.build(deps, p, today - timedelta(days=1))
        brief_s, brief_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"answers p50 {statistics.median(per.values()):.3f} s, briefings {brief_s:.1f} s "
              f"({brief_cpu:.1f} CPU s), "
              f"load {_load()}", file=sys.stderr, flush=True)
        env = {**os.environ, "RETAIN_DATA_DIR": tmp, "RETAIN_TODAY": today.isoformat(), "RETAIN_LLM__BACKEND": "none",
               "RETAIN_DATABASE_URL": url}
        c = _children_cpu()
        cold_ask_s = _wall([sys.executable, "-m", "retain", "--as", who, "ask", "--no-llm", questions[0]], env)
        cold_ask_cpu = (_children_cpu() - c) / 3
        help_s = _wall([sys.executable, "-m", "retain", "--help"], env)
        database = svc.store.engine.dialect.name
        svc.store.engine.dispose()
    vals = sorted(per.values())
    return {"database": database, "accounts": accounts, "csms": csms, "load_before": load_before,
            "load_after": _load(), "seed_s": round(seed_s, 1), "seed_cpu_s": round(seed_cpu, 1),
            "seed_peak_mb": round(seed_peak), "cold_ask_cpu_s": round(cold_ask_cpu, 2),
            "first_score_s": round(score_s, 2),
            "stored_score_read_s": round(stored_s, 2), "prewarm_s": round(prewarm_s, 2),
            "cold_ask_s": cold_ask_s, "help_s": help_s,
            "answer_p50_s": round(statistics.median(vals), 3),
            "answer_p95_s": vals[max(0, round(0.95 * len(vals)) - 1)],
            "answer_max_s": vals[-1], "first_score_cpu_s": round(score_cpu, 2),
            "answer_cpu_p50_s": round(statistics.median(cpu), 3), "briefings_cpu_s": round(brief_cpu, 1),
            "qbr_s": per[questions[1]], "briefings": min(briefings, len(people)),
            "briefings_s": round(brief_s, 1), "peak_mb": round(_peak_mb()), "per_question": per}


def cold_demo(runs: int = 5) -> dict:
    """`retain ask --no-llm` as a new process on the demo (150 accounts), `runs` times: the median is the target."""
    from core.settings import load_settings
    from integrations.crm.models import CSM
    from tools.services import Services

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RETAIN_DATA_DIR": tmp, "RETAIN_TODAY": "2026-11-23", "RETAIN_LLM__BACKEND": "none"}
        subprocess.run([sys.executable, "-m", "retain", "demo", "seed"], env=env, check=True, capture_output=True,
                       timeout=600)
        svc = Services(load_settings(data_dir=tmp, today="2026-11-23", llm={"backend": "none"}))
        with svc.store.session() as s:
            who = s.scalars(select(CSM.email).where(CSM.role == "csm").order_by(CSM.email)).first()
        svc.store.engine.dispose()
        out: dict[str, Any] = {"load_before": _load()}
        for q in ("who is the champion at Initech?", "how is Acme Corp doing?",
                  "anything I should worry about today?"):
            times = []
            cpu = []
            for _ in range(runs):
                t, c = time.perf_counter(), _children_cpu()
                subprocess.run([sys.executable, "-m", "retain", "--as", str(who), "ask", "--no-llm", q], env=env,
                               check=True, capture_output=True, timeout=600)
                times.append(round(time.perf_counter() - t, 2))
                cpu.append(round(_children_cpu() - c, 2))
            out[q] = {"median_s": statistics.median(times), "runs_s": times, "median_cpu_s": statistics.median(cpu),
                      "runs_cpu_s": cpu, "load_after": _load()}
        out["load_after"] = _load()
    return out


def rescore(accounts: int, csms: int, server: str | None = None) -> dict:
    """Seconds to score the portfolio the first time, then again after one new note, as a new process would.

    The rescore forgets this process's memoised tones and stored scores (another worker, the next CLI run):
    what it may reuse is only what the database keeps.
    """
    from core.settings import load_settings
    from integrations.crm.models import Account, Activity
    from retain import demo
    from tools import sentiment
    from tools.scores import ScoreCache
    from tools.services import Services

    today = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as tmp, _database(server, accounts) as url:
        svc = Services(load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"},
                                     database_url=url))
        demo.write(svc.store, demo.generate(accounts, 7, today, csms))
        out: dict[str, Any] = {"database": svc.store.engine.dialect.name, "accounts": accounts, "load_before": _load()}
        for step in ("first_score", "rescore"):
            if step == "rescore":
                with svc.store.session() as s:
                    aid = s.scalars(select(Account.id).order_by(Account.id)).first()
                    s.add(Activity(account_id=aid, kind="note", occurred_on=today, author="bench", subject="call",
                                   body="They are evaluating a competitor after the outage."))
            sentiment.score.cache_clear()
            t, c = time.perf_counter(), time.process_time()
            ScoreCache().get(svc.tool_context(None))
            out[f"{step}_s"] = round(time.perf_counter() - t, 2)
            out[f"{step}_cpu_s"] = round(time.process_time() - c, 2)
            print(f"{step} {out[f'{step}_s']} s ({out[f'{step}_cpu_s']} CPU s), load {_load()}", file=sys.stderr,
                  flush=True)
        out["load_after"] = _load()
        svc.store.engine.dispose()
    return out


def main() -> None:
    """Run the sizes asked for, print a table, keep bench/scale.json."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--csms", type=int, default=50)
    ap.add_argument("--briefings", type=int, default=50)
    ap.add_argument("--database-url", default="",
                    help="a PostgreSQL server (its database is used only to create and drop the run's own)")
    ap.add_argument("--cold", action="store_true", help="only a cold `retain ask` on the demo, 5 times")
    ap.add_argument("--rescore", action="store_true", help="only the first score and a rescore after one new note")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.rescore:
        print(json.dumps([rescore(int(n), a.csms, a.database_url or None) for n in a.sizes.split(",")], indent=1))
        return
    if a.cold:
        cold = cold_demo()
        COLD.write_text(json.dumps(cold, indent=1))
        print(json.dumps(cold, indent=1))
        return
    out = [run(int(n), a.csms, a.briefings, a.database_url or None) for n in a.sizes.split(",")]
    kept = json.loads(RESULT.read_text()) if RESULT.exists() else []
    fresh = {(r["database"], r["accounts"]) for r in out}
    rows = [r for r in kept if (r.get("database", "sqlite"), r["accounts"]) not in fresh] + out
    RESULT.write_text(json.dumps(sorted(rows, key=lambda r: (r.get("database", "sqlite"), r["accounts"])), indent=1))
    if a.json:
        print(json.dumps(out))
    t = Table(title="Retain at scale (deterministic, one process)")
    cols = [("database", "database"), ("accounts", "accounts"), ("load", "load_after"), ("seed s", "seed_s"),
            ("first score s", "first_score_s"),
            ("stored read s", "stored_score_read_s"), ("answer p50 s", "answer_p50_s"), ("p95 s", "answer_p95_s"),
            ("max s", "answer_max_s"), ("QBR s", "qbr_s"), ("briefings", "briefings"), ("briefings s", "briefings_s"),
            ("cold ask s", "cold_ask_s"), ("--help s", "help_s"), ("peak MB", "peak_mb")]
    for c, _ in cols:
        t.add_column(c, justify="right")
    for r in out:
        t.add_row(*(f"{r[k]:,}" if k == "accounts" else str(r[k][0] if k == "load_after" else r[k]) for _, k in cols))
    Console(stderr=a.json).print(t)


if __name__ == "__main__":
    main()
