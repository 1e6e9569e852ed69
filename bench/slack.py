"""Slack ack latency: 100 concurrent mentions plus a retry of each, against the HTTP endpoint.

The real Bolt app in HTTP mode on the demo CRM, a local mock of Slack's Web API (tests/mock_slack.py)
on 127.0.0.1. Reports ack p50/p99 (target p99 < 300 ms on 2 cores) and checks that every event was
answered exactly once.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import importlib.util
import json
import tempfile
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
    assert r.status_code == 200, r.text
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


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--json", action="store_true")
    a, _ = p.parse_known_args()
    r = run(a.events)
    report(r, a.json, f"Slack: {r['events']} concurrent mentions + {r['events']} retries (HTTP mode, mock Web API)", [
        ("ack p50 / p99 / max, ms", f"{r['ack_p50_ms']} / {r['ack_p99_ms']} / {r['ack_max_ms']}", "p99 < 300"),
        ("all requests acked, s", str(r["all_acked_s"]), ""),
        ("all answered, s", str(r["all_answered_s"]), ""),
        ("answers / placeholders", f"{r['answers']} / {r['placeholders']}", f"{r['events']} / {r['events']}"),
        ("each event answered exactly once", str(r["answered_exactly_once"]), "True")])


if __name__ == "__main__":
    main()
