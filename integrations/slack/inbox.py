"""A durable inbox: every accepted Slack event is a row before Slack gets its ack.

Work happens after the ack, in a bounded worker pool. A duplicate or retried delivery of an event
that is done (or running) is dropped; a retry of one that never finished (a crash after the ack)
runs it. On start, `recover()` runs whatever was left pending. A failed run is tried again on the
inbox's own schedule (`retry_due`, with backoff) up to MAX_ATTEMPTS; the handler is told which
attempt is the last, so the person hears about a failure once, at the end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from integrations.crm.models import SlackInbox
from integrations.crm.store import CRMStore

log = logging.getLogger("retain.slack")
MAX_ATTEMPTS = 3
RETRY_AFTER_S = (5.0, 30.0)  # wait before the 2nd and 3rd attempts
Handler = Callable[[str, dict[str, Any]], dict[str, Any] | None]


class Retry(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler that failed and should be tried again; `state` is kept for the next attempt."""

    def __init__(self, cause: BaseException, state: dict[str, Any] | None = None):
        super().__init__(type(cause).__name__)
        self.cause, self.state = cause, state or {}


class Inbox:
    """Accept, deduplicate and run Slack work exactly once."""

    def __init__(self, store: CRMStore, handler: Handler | None, workers: int = 4,
                 notify: Callable[[str], None] | None = None):
        """Run work here with `handler`, or hand keys to another process with `notify`."""
        self.store, self.handler, self.notify = store, handler, notify
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retain-slack")
        self.inflight: set[str] = set()
        self.lock = threading.Lock()

    def accept(self, key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Record and schedule the work; False when it is a duplicate of work done or running."""
        try:  # a Core insert: the ack path is this one statement
            with self.store.engine.begin() as conn:
                conn.execute(insert(SlackInbox), [{"key": key, "kind": kind, "payload": payload, "status": "pending",
                                                   "attempts": 0, "received_at": datetime.now()}])
        except IntegrityError:
            with self.store.session() as s:
                row = s.get(SlackInbox, key)
                if row is None or row.status == "done" or row.attempts >= MAX_ATTEMPTS:
                    return False
        return self._submit(key)

    def _submit(self, key: str) -> bool:
        if self.notify is not None:
            self.notify(key)
            return True
        with self.lock:
            if key in self.inflight:
                return False
            self.inflight.add(key)
        self.pool.submit(self._run, key)
        return True

    def _run(self, key: str) -> None:
        try:
            with self.store.session() as s:
                row = s.get(SlackInbox, key)
                if row is None or row.status == "done" or row.attempts >= MAX_ATTEMPTS:
                    return
                row.attempts += 1
                row.status = "running"
                kind, payload = row.kind, dict(row.payload)
                payload["_attempt"], payload["_last"] = row.attempts, row.attempts >= MAX_ATTEMPTS
                payload["_state"] = dict((row.result or {}).get("state") or {})
                s.commit()
            try:
                assert self.handler is not None
                result = self.handler(kind, payload) or {}
                status = "done"
            except Retry as exc:
                log.warning("slack %s %s failed (attempt %s of %s): %s", kind, key, payload["_attempt"],
                            MAX_ATTEMPTS, exc)
                result = {"error": str(exc), "state": {**payload["_state"], **exc.state}}
                status = "failed"
            except Exception as exc:  # noqa: BLE001 - logged, marked failed, tried again later
                log.warning("slack %s %s failed (attempt %s of %s): %s", kind, key, payload["_attempt"],
                            MAX_ATTEMPTS, type(exc).__name__)
                result, status = {"error": type(exc).__name__, "state": payload["_state"]}, "failed"
            with self.store.session() as s:
                row = s.get(SlackInbox, key)
                if row is not None:
                    row.status, row.result, row.done_at = status, result, datetime.now()
                    s.commit()
        finally:
            with self.lock:
                self.inflight.discard(key)

    def recover(self) -> int:
        """Run what was accepted but never finished (after a crash or restart)."""
        with self.store.session() as s:
            keys = list(s.scalars(select(SlackInbox.key).where(SlackInbox.status != "done",
                                                               SlackInbox.attempts < MAX_ATTEMPTS)))
        return sum(self._submit(k) for k in keys)

    def retry_due(self, now: datetime | None = None) -> int:
        """Submit failed work whose backoff has passed; how many were submitted."""
        now = now or datetime.now()
        with self.store.session() as s:
            rows = s.execute(select(SlackInbox.key, SlackInbox.attempts, SlackInbox.done_at).where(
                SlackInbox.status == "failed", SlackInbox.attempts < MAX_ATTEMPTS)).all()
        due = [k for k, n, at in rows
               if at is None or (now - at).total_seconds() >= RETRY_AFTER_S[min(max(n, 1), len(RETRY_AFTER_S)) - 1]]
        return sum(self._submit(k) for k in due)

    def start_retries(self, every_s: float = 1.0) -> None:
        """Run `retry_due` on a timer thread (in-process answering); stopped by `stop_retries`."""
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.retry_due()
                except Exception:  # noqa: BLE001 - the next tick tries again
                    log.exception("slack inbox retry tick failed")
        threading.Thread(target=loop, daemon=True, name="retain-inbox-retry").start()

    def stop_retries(self) -> None:
        """Stop the retry timer."""
        if getattr(self, "_stop", None) is not None:
            self._stop.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is running here, or (with a worker process) nothing is left pending."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.notify is not None:
                with self.store.session() as s:
                    left = s.scalar(select(func.count()).select_from(SlackInbox).where(
                        (SlackInbox.status == "running")
                        | ((SlackInbox.status == "pending") & (SlackInbox.attempts < MAX_ATTEMPTS))))
                if not left:
                    return True
            else:
                with self.lock:
                    if not self.inflight:
                        return True
            time.sleep(0.05)
        return False
