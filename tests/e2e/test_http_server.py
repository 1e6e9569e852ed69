"""`retain serve --http` under slow and malformed clients: a real server process and real sockets.

Half-sent requests must not take the server's threads (a normal request is still answered, the
process's thread count stays bounded, a stalled connection gets 408), and a malformed body, signed or
not, gets 400 and one JSON log line, never a traceback.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import httpx
from conftest import SLACK_SECRET
from mock_slack import MockSlack
from slack_http import mention, signed

HALF_SENT = 300


def _threads(pid: int) -> int:
    return int(next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("Threads:")))


def _serve(env):
    proc = subprocess.Popen([sys.executable, "-m", "retain", "serve", "--http", "--port", "0", "--no-llm",
                             "--no-scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if "Listening on http://" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(300) and any("Listening on" in line for line in lines), "".join(lines)[-3000:]
    port = int(re.search(r"Listening on http://[\d.]+:(\d+)/", "".join(lines)).group(1))  # a JSON line too
    return proc, f"http://127.0.0.1:{port}/slack/events", lines


def test_half_sent_and_malformed_requests_cost_neither_threads_nor_tracebacks(rt):
    mock = MockSlack()
    env = {**os.environ, "RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_DATABASE_URL": rt.settings.db_url,
           "RETAIN_LLM__BACKEND": "none", "RETAIN_SLACK__BOT_TOKEN": "xoxb-test",
           "RETAIN_SLACK__SIGNING_SECRET": SLACK_SECRET, "RETAIN_SLACK__BASE_URL": mock.url,
           "RETAIN_SLACK__POST_INTERVAL_S": "0", "RETAIN_SLACK__READ_TIMEOUT_S": "2", "RETAIN_LOG__FORMAT": "json"}
    proc, url, lines = _serve(env)
    port = urlparse(url).port
    slow: list[socket.socket] = []
    try:
        assert mention(url, "how is Acme doing?", eid="EvWarm").status_code == 200
        before = _threads(proc.pid)
        for n in range(HALF_SENT):  # headers promise a body that never comes (or the headers never end)
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"type\"" if n % 2
                      else b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Sig")
            slow.append(s)
        # A normal request behind them is answered, and they hold no thread each.
        assert mention(url, "how is Globex doing?", eid="EvAfterSlow", ts="1700000900.000100").status_code == 200
        assert _threads(proc.pid) - before < 20
        # A stalled connection is answered 408 and closed once its read timeout passes.
        slow[0].settimeout(60)
        assert slow[0].recv(100).startswith(b"HTTP/1.0 408")
        for s in slow:
            s.close()

        bad = [("application/json", "{not json"), ("application/json", "[1, 2]"), ("application/json", "null"),
               ("application/x-www-form-urlencoded", "payload=%7Bbad"),
               ("application/json", json.dumps({"type": "event_callback", "event": "x", "event_id": "EvBad"}))]
        for ctype, body in bad:
            for sign in (True, False):
                headers = {"Content-Type": ctype, **(signed(body) if sign else {})}
                r = httpx.post(url, content=body, headers=headers, timeout=60)
                assert r.status_code == 400, (ctype, body, sign, r.status_code)
    finally:
        for s in slow:
            s.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
        mock.close()
    out = "".join(lines)
    assert "Traceback" not in out and "not json" not in out  # no tracebacks, no request bodies
    refused = [line for line in lines if "malformed Slack request" in line]
    assert len(refused) == 2 * len(bad) and all(json.loads(line)["level"] == "WARNING" for line in refused)
