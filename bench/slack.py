"""Slack ack latency: 100 concurrent mentions plus a retry of each, against the HTTP endpoint.

The real Bolt app in HTTP mode on the demo CRM, a local mock of Slack's Web API (tests/mock_slack.py)
on 127.0.0.1. Reports ack p50/p99 (target p99 < 300 ms on 2 cores) and checks that every event was
answered exactly once.

    uv run python -m bench.slack                       # one process, embedded SQLite
    uv run python -m bench.slack --two-workers --server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With --two-workers: two `retain serve --http` processes on one PostgreSQL database (created on the
server the URL names, dropped after); each event goes to one worker and its retry to the other.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import numpy as np

from agents.assistant import Assistant
from bench.report import report
from core.settings import load_settings
from integrations.slack.http import serve_http
from retain import demo
from retain.slack.app import RetainSlack
from tools import renewal_model
from tools.services import Services

SECRET = "bench-secret"
WORKERS = 4
PROCESS = True
SWITCH = 0.005
USERS = ["UCSM00004", "UCSM00005", "UCSM00006", "UCSM00007", "UCSM00008", "UCSM00009"]
QUESTIONS = ["how is {a} doing?", "what's the renewal risk at {a}?", "why did {a}'s latency change?"]


def _mock() -> object:
    path = Path(__file__).resolve().parents[1] / "tests" / "mock_slack.py"
    spec = importlib.util.spec_from_file_location("mock_slack", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.MockSlack()


def _send(url: str, client: httpx.Client, k: int, retry: int | None) -> float:
    user = USERS[k % len(USERS)]
    ev = {"type": "message", "channel_type": "im", "user": user, "channel": f"D{k:09d}",
          "text": QUESTIONS[k % 3].format(a=["Acme", "Globex", "Initech", "Hooli", "Wayne Media"][k % 5]),
          "ts": f"1700001000.{k:06d}"}
    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": ev,
                       "event_id": f"EvBench{k}", "event_time": int(time.time())})
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/json"}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    t = time.perf_counter()
    r = client.post(url, content=body, headers=headers)
    assert r.status_code == 200, f"{r.status_code} {r.text[:200]}"
    return (time.perf_counter() - t) * 1000


def run(n: int = 100) -> dict:
    import sys

    sys.setswitchinterval(SWITCH)
    """Seed, serve, fire, drain, count."""
    today = date(2026, 11, 23)
    with tempfile.TemporaryDirectory() as tmp:
        mock = _mock()
        settings = load_settings(data_dir=tmp, today=today.isoformat(), llm={"backend": "none"}, slack={
            "mode": "http", "bot_token": "xoxb-bench", "signing_secret": SECRET,
            "base_url": mock.url, "workers": WORKERS})  # type: ignore[attr-defined]
        rt = Services(settings)
        demo.write(rt.store, demo.generate(150, 7, today))
        renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
        bot = RetainSlack(rt, Assistant(rt, use_memory=False), worker_process=PROCESS)
        server = serve_http(bot.app, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        start = time.perf_counter()
        with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=200)) as client, \
                ThreadPoolExecutor(max_workers=100) as pool:
            first = list(pool.map(lambda k: _send(url, client, k, None), range(n)))
            retries = list(pool.map(lambda k: _send(url, client, k, 1), range(n)))
        acked = time.perf_counter() - start
        bot.inbox.drain(600)
        done = time.perf_counter() - start
        updates = mock.of("chat.update")  # type: ignore[attr-defined]
        placeholders = mock.of("chat.postMessage")  # type: ignore[attr-defined]
        per_channel: dict[str, int] = {}
        for u in updates:
            per_channel[u["channel"]] = per_channel.get(u["channel"], 0) + 1
        server.shutdown()
        bot.close()
        mock.close()  # type: ignore[attr-defined]
    lat = np.asarray(first + retries)
    return {"events": n, "requests": len(lat), "ack_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "ack_p99_ms": round(float(np.percentile(lat, 99)), 1), "ack_max_ms": round(float(lat.max()), 1),
            "all_acked_s": round(acked, 2), "all_answered_s": round(done, 2),
            "answers": len(updates), "placeholders": len(placeholders),
            "answered_exactly_once": len(per_channel) == n and all(v == 1 for v in per_channel.values())}


LOG: list[str] = []  # the workers' output, printed when a run fails


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "retain", "serve", "--http", "--port", "0", "--no-llm",
                             "--no-scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        LOG.append(line)
        m = re.search(r"Listening on http://[\d.]+:(\d+)/slack/events", line)
        if m:
            threading.Thread(target=lambda: LOG.extend(proc.stdout), daemon=True).start()  # type: ignore[arg-type]
            return proc, f"http://127.0.0.1:{m.group(1)}/slack/events"
    raise RuntimeError("retain serve did not start:\n" + "".join(LOG[-40:]))


def run_two_workers(n: int, server_url: str) -> dict:
    """Two `retain serve` processes on one PostgreSQL database; events to one, retries to the other."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    today = date(2026, 11, 23)
    base = make_url(server_url)
    name = f"retain_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    procs: list[subprocess.Popen[str]] = []
    mock = _mock()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = Services(load_settings(data_dir=tmp, today=today.isoformat(), database_url=url,
                                        llm={"backend": "none"}))
            demo.write(rt.store, demo.generate(150, 7, today))
            renewal_model.save(renewal_model.fit(rt.store, rt.card), rt.model_file)
            rt.store.engine.dispose()
            env = {**os.environ, "RETAIN_DATA_DIR": tmp, "RETAIN_DATABASE_URL": url, "RETAIN_TODAY": today.isoformat(),
                   "RETAIN_LLM__BACKEND": "none", "RETAIN_SLACK__BOT_TOKEN": "xoxb-bench",
                   "RETAIN_SLACK__SIGNING_SECRET": SECRET, "RETAIN_SLACK__BASE_URL": mock.url,  # type: ignore[attr-defined]
                   "RETAIN_SLACK__POST_INTERVAL_S": "0"}
            started = [_serve(env), _serve(env)]
            procs = [p for p, _ in started]
            urls = [u for _, u in started]
            start = time.perf_counter()
            with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=200)) as client, \
                    ThreadPoolExecutor(max_workers=100) as pool:
                first = list(pool.map(lambda k: _send(urls[k % 2], client, k, None), range(n)))
                retries = list(pool.map(lambda k: _send(urls[(k + 1) % 2], client, k, 1), range(n)))
            acked = time.perf_counter() - start
            deadline = time.time() + 600
            while time.time() < deadline and len(mock.of("chat.update")) < n:  # type: ignore[attr-defined]
                time.sleep(0.2)
            done = time.perf_counter() - start
            time.sleep(3)  # late duplicates would land here
            updates = mock.of("chat.update")  # type: ignore[attr-defined]
            placeholders = mock.of("chat.postMessage")  # type: ignore[attr-defined]
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        mock.close()  # type: ignore[attr-defined]
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    per_channel: dict[str, int] = {}
    for u in updates:
        per_channel[u["channel"]] = per_channel.get(u["channel"], 0) + 1
    lat = np.asarray(first + retries)
    return {"events": n, "workers": 2, "requests": len(lat), "ack_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "ack_p99_ms": round(float(np.percentile(lat, 99)), 1), "ack_max_ms": round(float(lat.max()), 1),
            "all_acked_s": round(acked, 2), "all_answered_s": round(done, 2), "answers": len(updates),
            "placeholders": len(placeholders), "duplicates": sum(v - 1 for v in per_channel.values()),
            "lost": n - len(per_channel),
            "answered_exactly_once": len(per_channel) == n and all(v == 1 for v in per_channel.values())}


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--two-workers", action="store_true", help="two retain serve processes on PostgreSQL")
    p.add_argument("--server-url", default=os.environ.get("RETAIN_BENCH_POSTGRES", ""),
                   help="a PostgreSQL server URL the bench may create a database on")
    p.add_argument("--json", action="store_true")
    a, _ = p.parse_known_args()
    if a.two_workers:
        if not a.server_url:
            raise SystemExit("--two-workers needs --server-url postgresql+psycopg://USER@HOST:PORT/postgres")
        try:
            r = run_two_workers(a.events, a.server_url)
        except Exception:
            sys.stderr.write("".join(LOG[-60:]))
            raise
    else:
        r = run(a.events)
    where = "two workers on PostgreSQL" if a.two_workers else "HTTP mode"
    report(r, a.json, f"Slack: {r['events']} concurrent mentions + {r['events']} retries ({where}, mock Web API)", [
        ("ack p50 / p99 / max, ms", f"{r['ack_p50_ms']} / {r['ack_p99_ms']} / {r['ack_max_ms']}", "p99 < 300"),
        ("all requests acked, s", str(r["all_acked_s"]), ""),
        ("all answered, s", str(r["all_answered_s"]), ""),
        ("answers / placeholders", f"{r['answers']} / {r['placeholders']}", f"{r['events']} / {r['events']}"),
        ("each event answered exactly once", str(r["answered_exactly_once"]), "True")])


if __name__ == "__main__":
    main()
