"""Slack under faults: 300 DMs to 3 workers while PostgreSQL restarts, answering processes die and Slack fails.

Three `retain serve --http` processes on a PostgreSQL server of the bench's own (initdb'd in a
temporary directory, seeded with the demo), Slack's Web API mocked on 127.0.0.1 (tests/mock_slack.py)
and Slack's Events API played by tests/fault_rig.py (signed events, redelivered until acked). While
the events arrive (2 per second): PostgreSQL is restarted every 30 s (`pg_ctl stop -m fast`, then
start), one worker's answering process gets kill -9 every 45 s (round robin), and 5% of
chat.postMessage and chat.update calls answer 500 *after* Slack took them. Reports, per event as a
person sees its DM thread: lost (never answered), doubled (more than one message), and the delay
from first delivery to the answer (max and p95). Target: 0 lost, 0 doubled, max < 150 s.

    uv run python -m bench.slack --chaos [--events 300] [--no-faults] [--json] [--save]

`--no-faults` is the baseline: the same load on the same deployment with nothing failing.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from core.settings import load_settings
from retain import demo
from tools import renewal_model
from tools.services import Services

SECRET = "bench-secret"
PG_EVERY_S, KILL_EVERY_S, FAIL_SHARE = 30.0, 45.0, 0.05
SEND_PER_S = 2.0


def _load(name: str) -> ModuleType:
    tests = Path(__file__).resolve().parents[1] / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))  # fault_rig imports its neighbours by name
    spec = importlib.util.spec_from_file_location(name, tests / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _flaky(mock: Any, share: float, seed: int = 7) -> None:
    """`share` of posts and updates answer 500 after they took effect (seeded: every run the same draw)."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def maybe(method: str) -> Any:
        def hook(params: dict[str, Any]) -> None:
            with lock:
                if rng.random() < share:
                    mock.fail_after.setdefault(method, []).append(500)
        return hook

    for method in ("chat.postMessage", "chat.update"):
        mock.on[method] = maybe(method)


def run(n: int = 300, workers: int = 3, faults_on: bool = True) -> dict[str, Any]:
    """Seed, start, send with faults (or, for the baseline, without), wait, count."""
    rig, pgi, mocks = _load("fault_rig"), _load("pg_instance"), _load("mock_slack")
    today = date(2026, 11, 23)
    pg = pgi.PgInstance()
    mock = mocks.MockSlack()
    procs: list[Any] = []
    stop = threading.Event()
    faults = {"pg_restarts": 0, "child_kills": 0}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = pg.url()
            rt = Services(load_settings(data_dir=tmp, today=today.isoformat(), database_url=url,
                                        llm={"backend": "none"}))
            demo.write(rt.store, demo.generate(150, 7, today))
            renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
            rt.store.engine.dispose()
            env = rig.env_for(tmp, url, mock.url, SECRET, RETAIN_TODAY=today.isoformat(),
                              RETAIN_SLACK__LEASE_S="120")
            procs = [rig.Worker(env, f"w{i}") for i in range(workers)]
            for w in procs:
                w.answering_pid()
            if faults_on:
                _flaky(mock, FAIL_SHARE)
            slack = rig.SlackEvents([w.url for w in procs], SECRET, give_up_s=600)
            sent: dict[int, float] = {}
            answered_at: dict[int, float] = {}

            def chaos() -> None:
                start = time.time()
                next_pg, next_kill, k = start + PG_EVERY_S, start + KILL_EVERY_S, 0
                while not stop.wait(0.2):
                    if time.time() >= next_pg:
                        pg.stop("fast")
                        time.sleep(1.0)
                        pg.start()
                        faults["pg_restarts"] += 1
                        next_pg += PG_EVERY_S
                    if time.time() >= next_kill:
                        pid = procs[k % len(procs)].child_pid()
                        if pid:
                            rig.kill_9(pid)
                            faults["child_kills"] += 1
                        k, next_kill = k + 1, next_kill + KILL_EVERY_S

            def watch() -> None:
                while not stop.wait(0.5):
                    now = time.time()
                    for k in list(sent):
                        if k not in answered_at and rig.answered(rig.seen(mock, k)):
                            answered_at[k] = now

            threads = [threading.Thread(target=watch, daemon=True)]
            if faults_on:
                threads.append(threading.Thread(target=chaos, daemon=True))
            for t in threads:
                t.start()
            began = time.time()
            for k in range(n):
                sent[k] = time.time()
                slack.send(k)
                time.sleep(max(0.0, began + (k + 1) / SEND_PER_S - time.time()))
            deadline = time.time() + 600
            while time.time() < deadline and len(answered_at) < n:  # the faults go on until all are answered
                time.sleep(1)
            stop.set()
            time.sleep(5)  # late duplicates would land here
            per_thread = {k: rig.seen(mock, k) for k in range(n)}
            lost = [k for k, msgs in per_thread.items() if not rig.answered(msgs)]
            doubled = [k for k, msgs in per_thread.items() if len(msgs) > 1]
            delays = np.asarray([answered_at[k] - sent[k] for k in answered_at] or [float("nan")])
            bad_lines = sum(len(rig.json_only(w)) for w in procs)
            logs = Path(tempfile.gettempdir()) / f"retain-chaos-{time.strftime('%Y%m%d-%H%M%S')}.log"
            logs.write_text("".join(f"[{w.name}] {line}" for w in procs for line in w.lines))
            return {"events": n, "workers": workers, "faults": faults_on, **faults, "redeliveries": slack.retries,
                    "web_api_500s_after_posting": sum(1 for _, c in mock.calls if c.get("_failed_after") == 500),
                    "lost": len(lost), "doubled": len(doubled), "max_delay_s": round(float(np.nanmax(delays)), 1),
                    "p95_delay_s": round(float(np.nanpercentile(delays, 95)), 1),
                    "p50_delay_s": round(float(np.nanpercentile(delays, 50)), 1),
                    "run_s": round(time.time() - began, 1), "non_json_log_lines": bad_lines,
                    "lost_events": lost[:20], "worker_logs": str(logs)}
    finally:
        stop.set()
        for w in procs:
            w.stop()
        mock.close()
        pg.close()
