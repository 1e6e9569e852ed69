"""Slack ack latency: 100 concurrent mentions plus a retry of each, against the HTTP endpoint.

The real Bolt app in HTTP mode on the demo CRM, a local mock of Slack's Web API (tests/mock_slack.py)
on 127.0.0.1. Reports ack p50/p99 (target p99 < 300 ms on 2 cores) and checks that every event was
answered exactly once.

    uv run python -m bench.slack                       # one process, embedded SQLite
    uv run python -m bench.slack --two-workers --server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    uv run python -m bench.slack --chaos                 # 300 DMs, 3 workers, restarts and kills (bench/chaos.py)

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


SENT: dict[str, float] = {}  # channel -> wall-clock time its first request was sent


def _send(url: str, client: httpx.Client, k: int, retry: int | None, assistant: bool = False) -> float:
    user = USERS[k % len(USERS)]
    ev = {"type": "message", "channel_type": "im", "user": user, "channel": f"D{k:09d}",
          "text": QUESTIONS[k % 3].format(a=["Acme", "Globex", "Initech", "Hooli", "Wayne Media"][k % 5]),
          "ts": f"1700001000.{k:06d}"}
    if assistant:  # a message in an assistant thread (the app's Messages tab)
        ev["thread_ts"] = f"1700000999.{k:06d}"
    SENT.setdefault(ev["channel"], time.time())
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


def _load(urls: list[str], n: int, assistant: bool) -> tuple[list[float], list[float], dict[str, float], float]:
    """Slack's side: 100 concurrent senders, each event to one URL and its retry to the next one.

    It runs in its own process (`_fire`), as Slack's servers do, so the load generator never competes
    with the app for the GIL; returns the ack times of the events and of the retries, and when each
    channel's event was sent, and the seconds until every request was acked.
    """
    start = time.perf_counter()
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=200)) as client, \
            ThreadPoolExecutor(max_workers=100) as pool:
        first = list(pool.map(lambda k: _send(urls[k % len(urls)], client, k, None, assistant), range(n)))
        retries = list(pool.map(lambda k: _send(urls[(k + 1) % len(urls)], client, k, 1, assistant), range(n)))
    return first, retries, dict(SENT), time.perf_counter() - start


def _fire(urls: list[str], n: int, assistant: bool = False) -> tuple[list[float], list[float], float]:
    """Run `_load` in a separate process; SENT gets its send times; (acks, retries' acks, seconds to ack all)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        first, retries, sent, acked = ex.submit(_load, urls, n, assistant).result()
    SENT.clear()
    SENT.update(sent)
    return first, retries, acked


def _first(mock: object, method: str, key: str = "channel") -> dict[str, float]:
    """Seconds from each channel's event to the first `method` call there."""
    out: dict[str, float] = {}
    for c in mock.of(method):  # type: ignore[attr-defined]
        ch = c.get(key)
        if ch in SENT and ch not in out:
            out[ch] = c["_at"] - SENT[ch]
    return out


def _ms(values: list[float]) -> dict[str, float]:
    a = np.asarray(values or [float("nan")]) * 1000
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1)}


def run(n: int = 100, assistant: bool = False) -> dict:
    """Seed, serve, fire, drain, count (with `assistant`: messages in assistant threads, timed to the status)."""
    sys.setswitchinterval(SWITCH)
    SENT.clear()
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
        _warm(mock, [url])
        first, retries, acked = _fire([url], n, assistant)
        bot.inbox.drain(600)
        done = time.time() - min(SENT.values())
        if assistant:  # the answer closes each thread's stream (or is posted there without streaming)
            updates = mock.of("chat.stopStream") + [  # type: ignore[attr-defined]
                m for m in _burst(mock.of("chat.postMessage")) if m.get("thread_ts")]  # type: ignore[attr-defined]
            streams = {c["_reply_ts"]: c["channel"] for c in mock.of("chat.startStream")}  # type: ignore[attr-defined]
            for u in updates:
                u.setdefault("channel", streams.get(u.get("ts")))
            placeholders = [m for m in _burst(mock.of("chat.postMessage"))  # type: ignore[attr-defined]
                            if "Looking into" in (m.get("text") or "")]
            timing = {"to_status_ms": _ms(list(_first(mock, "assistant.threads.setStatus", "channel_id").values())),
                      "to_plan_ms": _ms(list(_first(mock, "chat.startStream").values())),
                      "to_first_task_ms": _ms(list(_first_task(mock).values())),
                      "to_answer_ms": _ms([c["_at"] - SENT[streams[c["ts"]]] for c in mock.of("chat.stopStream")  # type: ignore[attr-defined]
                                           if c.get("ts") in streams])}
            timing |= _one_at_a_time(mock, url, n)
        else:
            updates = _burst(mock.of("chat.update"))  # type: ignore[attr-defined]
            placeholders = _burst(mock.of("chat.postMessage"))  # type: ignore[attr-defined]
            timing = {}
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
            "answers": len(updates), "placeholders": len(placeholders), **timing,
            "answered_exactly_once": len(per_channel) == n and all(v == 1 for v in per_channel.values())}


WARM = 900_000  # the warm-up questions' channels are D000900000 and up


def _burst(calls: list[dict]) -> list[dict]:
    """The calls in the burst's channels (not the warm-up's)."""
    return [c for c in calls if int(str(c.get("channel"))[1:] or 0) < WARM]


def _warm(mock: object, urls: list[str]) -> None:
    """One question to each worker, answered, before the burst: the figures are a running app's, not a cold start's."""
    with httpx.Client(timeout=30) as client:
        for i, url in enumerate(urls):
            _send(url, client, WARM + i, None)
    deadline = time.time() + 300
    while time.time() < deadline and len(mock.of("chat.update")) < len(urls):  # type: ignore[attr-defined]
        time.sleep(0.1)
    SENT.clear()


def _one_at_a_time(mock: object, url: str, n: int, count: int = 5) -> dict[str, dict[str, float]]:
    """The same timings for single messages on an idle app (what one CSM sees), each awaited in turn."""
    status: list[float] = []
    task: list[float] = []
    answer: list[float] = []
    with httpx.Client(timeout=30) as client:
        for k in range(n, n + count):
            ch = f"D{k:09d}"
            _send(url, client, k, None, True)
            deadline = time.time() + 120
            while time.time() < deadline:
                stream = next((c["_reply_ts"] for c in mock.of("chat.startStream")  # type: ignore[attr-defined]
                               if c["channel"] == ch), None)
                stop = next((c for c in mock.of("chat.stopStream") if c["ts"] == stream), None)  # type: ignore[attr-defined]
                if stop is not None:
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError(f"no answer in {ch}")
            status.append(_first(mock, "assistant.threads.setStatus", "channel_id")[ch])
            task.append(_first_task(mock)[ch])
            answer.append(stop["_at"] - SENT[ch])
    return {"idle_to_status_ms": _ms(status), "idle_to_first_task_ms": _ms(task), "idle_to_answer_ms": _ms(answer)}


def _first_task(mock: object) -> dict[str, float]:
    """Seconds from each event to its first completed task in the streamed plan (or its last, at the answer)."""
    streams = {c["_reply_ts"]: c["channel"] for c in mock.of("chat.startStream")}  # type: ignore[attr-defined]
    out: dict[str, float] = {}
    calls = [c for m, c in mock.calls if m in ("chat.appendStream", "chat.stopStream")  # type: ignore[attr-defined]
             and any(k.get("type") == "task_update" for k in c.get("chunks") or [])]
    for c in calls:
        ch = streams.get(c.get("ts"))
        if ch in SENT and ch not in out:
            out[ch] = c["_at"] - SENT[ch]
    return out


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
            _warm(mock, urls)
            first, retries, acked = _fire(urls, n)
            deadline = time.time() + 600
            while time.time() < deadline and len(mock.of("chat.update")) < n + len(urls):  # type: ignore[attr-defined]
                time.sleep(0.2)
            done = time.time() - min(SENT.values())
            time.sleep(3)  # late duplicates would land here
            updates = _burst(mock.of("chat.update"))  # type: ignore[attr-defined]
            placeholders = _burst(mock.of("chat.postMessage"))  # type: ignore[attr-defined]
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
            "events_ack_p99_ms": round(float(np.percentile(first, 99)), 1),
            "retries_ack_p99_ms": round(float(np.percentile(retries, 99)), 1),
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
    p.add_argument("--assistant", action="store_true",
                   help="messages in assistant threads: also time the first status, plan and task update")
    p.add_argument("--chaos", action="store_true",
                   help="3 workers on a PostgreSQL of its own, restarted every 30 s; a child kill every 45 s; 5%% 500s")
    p.add_argument("--no-faults", action="store_true", help="with --chaos: the same load without faults (baseline)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--save", action="store_true", help="keep the figures in bench/slack.json (BENCHMARKS.md quotes it)")
    a, _ = p.parse_known_args()
    if a.chaos:
        return _chaos(a)
    if a.two_workers:
        if not a.server_url:
            raise SystemExit("--two-workers needs --server-url postgresql+psycopg://USER@HOST:PORT/postgres")
        try:
            r = run_two_workers(a.events, a.server_url)
        except Exception:
            sys.stderr.write("".join(LOG[-60:]))
            raise
    else:
        r = run(a.events, a.assistant)
    if a.save:
        out = Path(__file__).with_name("slack.json")
        saved = json.loads(out.read_text()) if out.is_file() else {}
        saved["two_workers" if a.two_workers else "assistant" if a.assistant else "http"] = r
        out.write_text(json.dumps(saved, indent=1) + "\n")
    where = ("two workers on PostgreSQL" if a.two_workers else
             "assistant threads, HTTP mode" if a.assistant else "HTTP mode")
    timed = [(f"event → {what}, ms p50 / p95", f"{r[k]['p50']} / {r[k]['p95']}", "")
             for k, what in (("to_status_ms", "first status"), ("to_plan_ms", "streamed plan"),
                             ("to_first_task_ms", "first task update"), ("to_answer_ms", "answer"),
                             ("idle_to_status_ms", "first status, one message at a time"),
                             ("idle_to_first_task_ms", "first task update, one at a time"),
                             ("idle_to_answer_ms", "answer, one at a time"))
             if k in r]
    report(r, a.json, f"Slack: {r['events']} concurrent mentions + {r['events']} retries ({where}, mock Web API)", [
        ("ack p50 / p99 / max, ms", f"{r['ack_p50_ms']} / {r['ack_p99_ms']} / {r['ack_max_ms']}", "p99 < 300"),
        ("all requests acked, s", str(r["all_acked_s"]), ""),
        ("all answered, s", str(r["all_answered_s"]), ""),
        ("answers / placeholders", f"{r['answers']} / {r['placeholders']}",
         f"{r['events']} / {0 if a.assistant else r['events']}"),
        ("each event answered exactly once", str(r["answered_exactly_once"]), "True"), *timed])


def _chaos(a: argparse.Namespace) -> None:
    from bench import chaos

    n = a.events if a.events != 100 else 300  # the chaos run's default is 300 events
    r = chaos.run(n, faults_on=not a.no_faults)
    if a.save:
        out = Path(__file__).with_name("slack.json")
        saved = json.loads(out.read_text()) if out.is_file() else {}
        saved["chaos" if r["faults"] else "chaos_baseline"] = r
        out.write_text(json.dumps(saved, indent=1) + "\n")
    report(r, a.json, f"Slack under faults: {r['events']} DMs, {r['workers']} workers, PostgreSQL restarted "
                      f"{r['pg_restarts']}x, {r['child_kills']} answering processes killed, 5% 500s after posting", [
        ("lost", str(r["lost"]), "0"), ("doubled", str(r["doubled"]), "0"),
        ("delay to answer, s: max / p95 / p50", f"{r['max_delay_s']} / {r['p95_delay_s']} / {r['p50_delay_s']}",
         "max < 150"),
        ("Slack redeliveries (unacked while the database was down)", str(r["redeliveries"]), ""),
        ("Web API 500s after posting", str(r["web_api_500s_after_posting"]), ""),
        ("log lines that are not one JSON object", str(r["non_json_log_lines"]), "0")])


if __name__ == "__main__":
    main()
