"""A durable inbox: every accepted Slack event is a row before Slack gets its ack.

Work happens after the ack, in a bounded worker pool. A duplicate or retried delivery of an event
that is done (or running) is dropped; a retry of one that never finished (a crash after the ack)
runs it. On start, `recover()` runs whatever was left pending.
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
Handler = Callable[[str, dict[str, Any]], dict[str, Any] | None]


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
                if row is None or row.status == "done":
                    return
                row.attempts += 1
                kind, payload = row.kind, dict(row.payload)
                s.commit()
            try:
                assert self.handler is not None
                result = self.handler(kind, payload) or {}
                status = "done"
            except Exception as exc:  # noqa: BLE001 - logged, marked failed; the handler told the user
                log.exception("slack %s %s failed: %s", kind, key, type(exc).__name__)
                result, status = {"error": type(exc).__name__}, "failed"
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

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is running here, or (with a worker process) nothing is left pending."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.notify is not None:
                with self.store.session() as s:
                    left = s.scalar(select(func.count()).select_from(SlackInbox).where(
                        SlackInbox.status == "pending", SlackInbox.attempts < MAX_ATTEMPTS))
                if not left:
                    return True
            else:
                with self.lock:
                    if not self.inflight:
                        return True
            time.sleep(0.05)
        return False
