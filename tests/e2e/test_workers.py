"""Two `retain serve` processes on one database: every Slack event answered exactly once.

Slack delivers an event to whichever worker its load balancer picks and retries it (maybe to the
other) when the ack is slow; a deploy can deliver the same event to both at the same moment. The
inbox's claims (one atomic UPDATE per item, with a lease) must make each answer happen once, and
the messages of one thread must be answered in order. Run on SQLite and, with
RETAIN_TEST_DATABASE_URL, on PostgreSQL.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

from conftest import SLACK_SECRET
from mock_slack import MockSlack
from slack_http import mention

DANA = "UCSM00004"
CHANNEL = "C0EAST0001"


def _serve(env):
    proc = subprocess.Popen([sys.executable, "-m", "retain", "serve", "--http", "--port", "0", "--no-llm",
                             "--no-scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    port: list[int] = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"Listening on http://[\d.]+:(\d+)/slack/events", line)
            if m:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(300) and port, "".join(lines)[-3000:]
    return proc, f"http://127.0.0.1:{port[0]}/slack/events", lines


def _placeholders(mock, ts):
    return [p for p in mock.of("chat.postMessage") if p.get("thread_ts") == ts and "Looking into" in p["text"]]


def test_two_workers_answer_every_event_once_and_threads_in_order(rt):
    mock = MockSlack()
    env = {**os.environ, "RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_DATABASE_URL": rt.settings.db_url,
           "RETAIN_LLM__BACKEND": "none", "RETAIN_SLACK__BOT_TOKEN": "xoxb-test",
           "RETAIN_SLACK__SIGNING_SECRET": SLACK_SECRET, "RETAIN_SLACK__BASE_URL": mock.url,
           "RETAIN_SLACK__POST_INTERVAL_S": "0"}
    a = b = None
    try:
        a, url_a, out_a = _serve(env)
        b, url_b, out_b = _serve(env)
        accounts = ["Acme Corp", "Globex", "Initech", "Hooli", "Umbrella Corp", "Wayne Media"]
        events = []  # (event id, ts)

        def ask(n, url, retry=None):
            ts = f"1700001{n:03d}.000100"
            r = mention(url, f"who is the champion at {accounts[n % len(accounts)]}?", user=DANA, channel=CHANNEL,
                        ts=ts, eid=f"EvW{n}", retry=retry)
            assert r.status_code == 200, r.text
            return ts

        for n in range(0, 12):  # one worker each
            events.append(ask(n, url_a if n % 2 else url_b))
        for n in range(12, 18):  # the same event to both at the same moment
            barrier = threading.Barrier(2)

            def both(url, n=n, barrier=barrier):
                barrier.wait()
                ask(n, url)
            threads = [threading.Thread(target=both, args=(u,)) for u in (url_a, url_b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            events.append(f"1700001{n:03d}.000100")
        for n in range(18, 24):  # delivered to one, retried by Slack to the other
            events.append(ask(n, url_a))
            time.sleep(0.05)
            ask(n, url_b, retry=1)
        # One thread, three messages, alternating workers: answered in the order they were sent.
        root = "1700002000.000100"
        order = [("how is Acme Corp doing?", url_a), ("and their renewal?", url_b), ("who is their champion?", url_a)]
        for k, (text, url) in enumerate(order):
            mention(url, text, user=DANA, channel=CHANNEL, ts=f"1700002{k:03d}.000200" if k else root,
                    thread_ts=None if k == 0 else root, eid=f"EvT{k}")

        deadline = time.time() + 300
        expected = len(events) + len(order)
        while time.time() < deadline and len(mock.of("chat.update")) < expected:
            time.sleep(0.5)
        time.sleep(3)  # anything late would be a duplicate
        for ts in events:
            assert len(_placeholders(mock, ts)) == 1, ts
        assert len(mock.of("chat.update")) == expected
        thread = _placeholders(mock, root)
        assert [p["text"] for p in thread] == [f"Looking into “{t}”…" for t, _ in order]
        posted = [p["_at"] for p in thread]
        answered = [next(u["_at"] for u in mock.of("chat.update") if u["ts"] == p["_reply_ts"]) for p in thread]
        assert posted[1] >= answered[0] and posted[2] >= answered[1]  # each began after the one before was answered
        assert "Traceback" not in "".join(out_a + out_b)
    finally:
        for p in (a, b):
            if p is not None:
                p.send_signal(signal.SIGTERM)
        for p in (a, b):
            if p is not None:
                try:
                    p.wait(120)
                except subprocess.TimeoutExpired:
                    p.kill()
        mock.close()
