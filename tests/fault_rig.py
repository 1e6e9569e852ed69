"""Real `retain serve` processes, Slack's side of the Events API, and what a person sees: for the fault tests.

`Worker` runs one `retain serve --http` (front end and answering child) and reads its /readyz.
`SlackEvents` delivers DMs as Slack does: signed, and retried (to the next worker, with
X-Slack-Retry-Num) until acked, as Slack retries an event that got no 200. `seen` reads the threads
back from the mock Web API as a person would see them after every update.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

USERS = ["UCSM00004", "UCSM00005", "UCSM00006", "UCSM00007", "UCSM00008", "UCSM00009"]
ACCOUNTS = ["Acme Corp", "Globex", "Initech", "Hooli", "Umbrella Corp", "Wayne Media"]
FAILURE_TEXT = "Sorry, I couldn't answer that"


class Worker:
    """One `retain serve --http` process (its answering child included); by default `--no-llm --no-scheduler`."""

    def __init__(self, env: dict[str, str], name: str = "w", args: list[str] | None = None):
        self.env, self.name = env, name
        self.lines: list[str] = []
        args = ["--port", "0", "--no-llm", "--no-scheduler"] if args is None else args
        self.proc = subprocess.Popen([sys.executable, "-m", "retain", "serve", "--http", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        port: list[int] = []
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                m = re.search(r"Listening on http://[\d.]+:(\d+)/slack/events", line)
                if m and not port:
                    port.append(int(m.group(1)))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(300) and port, self.output()
        self.base = f"http://127.0.0.1:{port[0]}"
        self.url = f"{self.base}/slack/events"

    def output(self) -> str:
        return "".join(self.lines)[-6000:]

    def readyz(self) -> tuple[int, dict]:
        """(status, body) of GET /readyz; (0, {}) when the front end does not answer."""
        try:
            r = httpx.get(f"{self.base}/readyz", timeout=10)
            return r.status_code, r.json()
        except (httpx.HTTPError, ValueError):
            return 0, {}

    def child_pid(self) -> int | None:
        """The answering process's pid (the front end's spawned child that is not multiprocessing's tracker)."""
        kids: list[str] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):  # a restarted child is its supervisor thread's
            try:
                kids += (task / "children").read_text().split()
            except OSError:
                continue
        for pid in kids:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "multiprocessing" in cmd and "resource_tracker" not in cmd:
                return int(pid)
        return None

    def answering_pid(self, timeout: float = 300) -> int:
        """The answering process's pid once the front end is ready (waits for it)."""
        self.wait_ready(timeout)
        pid = self.child_pid()
        assert pid is not None, self.output()
        return pid

    def wait_ready(self, timeout: float = 300) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, body = self.readyz()
            if status == 200:
                return body
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready: {self.readyz()}\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def kill_9(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def env_for(data_dir: str, db_url: str, mock_url: str, secret: str, **extra: str) -> dict[str, str]:
    """A worker's environment: the demo data, the database, Slack at the mock, no LLM, a short lease."""
    env = {**os.environ, "RETAIN_DATA_DIR": data_dir, "RETAIN_LLM__BACKEND": "none",
           "RETAIN_SLACK__BOT_TOKEN": "xoxb-test", "RETAIN_SLACK__SIGNING_SECRET": secret,
           "RETAIN_SLACK__BASE_URL": mock_url, "RETAIN_SLACK__POST_INTERVAL_S": "0", "RETAIN_SLACK__LEASE_S": "10",
           "RETAIN_LOG__FORMAT": "json", **extra}
    if db_url:
        env["RETAIN_DATABASE_URL"] = db_url
    return env


class SlackEvents:
    """Slack's Events API side: each DM delivered, and redelivered until a worker acks it with a 200."""

    def __init__(self, urls: list[str], secret: str, give_up_s: float = 240):
        self.urls, self.secret, self.give_up_s = urls, secret, give_up_s
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.futures: list = []
        self.retries = 0
        self.lock = threading.Lock()

    @staticmethod
    def where(k: int) -> tuple[str, str, str]:
        """(event id, DM channel, ts) of the k-th question."""
        return f"EvFault{k}", f"D{k:09d}", f"1700003000.{k:06d}"

    def body(self, k: int) -> str:
        eid, channel, ts = self.where(k)
        ev = {"type": "message", "channel_type": "im", "user": USERS[k % len(USERS)], "channel": channel,
              "text": f"who is the champion at {ACCOUNTS[k % len(ACCOUNTS)]}?", "ts": ts}
        return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": ev,
                           "event_id": eid, "event_time": int(time.time())})

    def _deliver(self, k: int) -> None:
        body = self.body(k)
        deadline = time.time() + self.give_up_s
        attempt = 0
        with httpx.Client(timeout=10) as client:
            while True:
                url = self.urls[(k + attempt) % len(self.urls)]
                ts = str(int(time.time()))
                sig = "v0=" + hmac.new(self.secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
                headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                           "Content-Type": "application/json"}
                if attempt:
                    headers |= {"X-Slack-Retry-Num": str(min(attempt, 3)), "X-Slack-Retry-Reason": "http_error"}
                try:
                    if client.post(url, content=body, headers=headers).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                attempt += 1
                with self.lock:
                    self.retries += 1
                if time.time() > deadline:
                    raise AssertionError(f"event {k} was never acked")
                time.sleep(1.0)

    def send(self, k: int) -> None:
        self.futures.append(self.pool.submit(self._deliver, k))

    def all_acked(self, timeout: float = 300) -> None:
        for f in self.futures:
            f.result(timeout)


def seen(mock, k: int) -> list[dict]:
    """Retain's messages in the k-th DM's thread, as the person sees them now."""
    _, channel, ts = SlackEvents.where(k)
    return mock.thread(channel, ts)


def answered(msgs: list[dict]) -> bool:
    return len(msgs) >= 1 and all(not m["text"].startswith("Looking into") and FAILURE_TEXT not in m["text"]
                                  for m in msgs)


def wait_answered(mock, ks: list[int], timeout: float = 300, workers: list[Worker] | None = None) -> None:
    """Until every question has an answer in its thread (or fail with who is missing and the logs)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(answered(seen(mock, k)) for k in ks):
            time.sleep(3)  # anything late would be a duplicate
            return
        time.sleep(0.5)
    missing = [k for k in ks if not answered(seen(mock, k))]
    logs = "\n".join(w.output() for w in workers or [])
    raise AssertionError(f"unanswered: {missing[:10]} ({len(missing)})\n{logs}")


def exactly_once(mock, ks: list[int]) -> dict[int, int]:
    """{question: messages in its thread} for every question that has not exactly one, answered."""
    return {k: len(seen(mock, k)) for k in ks if len(seen(mock, k)) != 1 or not answered(seen(mock, k))}


def json_only(worker: Worker) -> list[str]:
    """The worker's output lines that are not one JSON object each (with log.format json there are none)."""
    bad = []
    for line in worker.lines:
        try:
            json.loads(line)
        except ValueError:
            bad.append(line)
    return bad
