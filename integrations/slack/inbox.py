"""A durable inbox: every accepted Slack event is a row before Slack gets its ack.

Work happens after the ack, in a bounded worker pool, and any number of workers (processes, hosts)
may share one database. A worker runs an item only after *claiming* it: one atomic UPDATE that sets
it running with the worker's id and a lease, and that succeeds for one worker only. So an event
delivered to two workers at once, or retried by Slack to another worker, is answered once. While a
worker runs an item it renews the lease; if the worker dies, the lease runs out and any live worker
claims the item again (`tick`). Messages of one Slack thread run in the order Slack gave them: an
item is not claimable while an earlier message of its thread is still pending, running or due a retry.
A failed run is tried again after a backoff up to MAX_ATTEMPTS; the handler is told which attempt is
the last, so the person hears about a failure once, at the end.
The usual lease trade-off: a worker stalled (not dead) for longer than the lease without a tick can
find its item answered by another worker too; its own late finish then changes nothing stored.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core import logs
from core.metrics import metrics
from integrations.crm.models import SlackInbox
from integrations.crm.store import CRMStore

log = logging.getLogger("retain.slack")
MAX_ATTEMPTS = 3
RETRY_AFTER_S = (5.0, 30.0)  # wait before the 2nd and 3rd attempts
LEASE_S = 120.0  # a claim lasts this long unless renewed (renewed every tick while the work runs)
Handler = Callable[[str, dict[str, Any]], dict[str, Any] | None]
_T: Table = SlackInbox.__table__  # type: ignore[assignment]
_EARLIER = _T.alias("earlier")


class Retry(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler that failed and should be tried again; `state` is kept for the next attempt."""

    def __init__(self, cause: BaseException, state: dict[str, Any] | None = None):
        super().__init__(type(cause).__name__)
        self.cause, self.state = cause, state or {}


@dataclass(frozen=True)
class Stored:
    """An inbox row's state as the ack path found it (the event was already recorded)."""

    status: str
    attempts: int
    lease_until: datetime | None

    def settled(self, now: datetime) -> bool:
        """Nothing to schedule: done, out of attempts, or running under a live claim."""
        return self.status == "done" or self.attempts >= MAX_ATTEMPTS or (
            self.status == "running" and self.lease_until is not None and self.lease_until > now)


_UNSEEN = Stored("running", 0, datetime.max)  # written by a transaction this one cannot see yet: in hand


@dataclass
class Claim:
    """An item this worker now owns: what to run and which attempt it is."""

    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    thread_key: str | None


def _ordering(kind: str, payload: dict[str, Any]) -> tuple[str | None, float]:
    """(thread key, order) of an item: a message's thread and Slack ts; others are unordered."""
    if kind == "question" and payload.get("channel") and payload.get("ts"):
        try:
            return f"{payload['channel']}:{payload.get('thread_ts') or payload['ts']}", float(payload["ts"])
        except ValueError:
            pass
    return None, time.time()


class GroupCommit:
    """Acks that arrive together are written together: one INSERT and one commit per group.

    A caller that finds no write in progress writes every row queued so far (its own among them);
    rows queued during that write wait, and one of their callers writes them next. A burst of N
    acks costs a few commits instead of N, and on SQLite nobody waits in its busy handler (whose
    growing sleeps made the slowest acks the slowest). Each row learns whether it was new; a key
    already in the table, or earlier in the same group, is not, and learns the stored row's state
    from the same transaction (a retry needs no second query). If a group's write fails, its rows
    are written one by one, so one bad row fails only its own ack.
    """

    def __init__(self, store: CRMStore):
        self.store = store
        self.cond = threading.Condition()
        self.queue: list[tuple[dict[str, Any], list[Any]]] = []
        self.writing = False
        dialect = store.engine.dialect.name
        self.insert = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None

    def write(self, row: dict[str, Any]) -> bool:
        """Write the row with whatever else is waiting; True when it was new. Raises what the write raised."""
        return self.add(row) is None

    def add(self, row: dict[str, Any]) -> Stored | None:
        """Write the row with whatever else is waiting: None when it was new, else the stored row's state."""
        out: list[Any] = []  # [None/Stored] or [the exception], once its group is written
        with self.cond:
            self.queue.append((row, out))
            while not out and self.writing:
                self.cond.wait()
            if out:
                return self._result(out)
            self.writing, group, self.queue = True, self.queue, []  # this caller writes the group, its own row in it
        try:
            self._write(group)
        finally:
            with self.cond:
                self.writing = False  # a waiter whose row is still queued leads the next group
                self.cond.notify_all()
        return self._result(out)

    @staticmethod
    def _result(out: list[Any]) -> Stored | None:
        if isinstance(out[0], BaseException):
            raise out[0]
        return out[0]

    def _write(self, group: list[tuple[dict[str, Any], list[Any]]]) -> None:
        try:
            new, stored = self._insert([row for row, _ in group])
        except Exception as exc:  # noqa: BLE001 - alone, each row gets its own outcome
            if len(group) > 1:
                for one in group:
                    self._write([one])
                return
            group[0][1].append(exc)  # no ack: Slack retries it
            return
        for row, out in group:
            out.append(None if id(row) in new else stored.get(row["key"], _UNSEEN))

    def _insert(self, rows: list[dict[str, Any]]) -> tuple[set[int], dict[str, Stored]]:
        """Insert the rows in one transaction: which row objects were new, and how the others are stored.

        A key written by another worker's transaction that this one cannot see yet has no state here,
        and counts as running.
        """
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["key"], row)
        stored: dict[str, Stored] = {}
        with self.store.engine.begin() as conn:
            if self.insert is not None:
                stmt = self.insert(_T).on_conflict_do_nothing(index_elements=["key"]).returning(_T.c.key)
                keys = set(conn.scalars(stmt, list(first.values())))
            else:  # another engine: look first, then insert what is missing (same transaction)
                seen = set(conn.scalars(select(_T.c.key).where(_T.c.key.in_(list(first)))))
                keys = {k for k in first if k not in seen}
                if keys:
                    conn.execute(_T.insert(), [first[k] for k in keys])
            old = [k for k in first if k not in keys] + [r["key"] for r in rows if first[r["key"]] is not r]
            if old:
                for r in conn.execute(select(_T.c.key, _T.c.status, _T.c.attempts, _T.c.lease_until)
                                      .where(_T.c.key.in_(sorted(set(old))))):
                    stored[r.key] = Stored(r.status, r.attempts, r.lease_until)
        return {id(first[k]) for k in keys}, stored


class Inbox:
    """Accept, deduplicate, claim and run Slack work exactly once across workers."""

    def __init__(self, store: CRMStore, handler: Handler | None, workers: int = 4,
                 notify: Callable[[str], None] | None = None, lease_s: float = LEASE_S):
        """Run work here with `handler`, or hand keys to another process with `notify`."""
        self.store, self.handler, self.notify, self.lease_s = store, handler, notify, lease_s
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retain-slack")
        self.inflight: set[str] = set()
        self.lock = threading.Lock()
        self.writes = GroupCommit(store)  # the ack path: one INSERT per burst of acks
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop: threading.Event | None = None

    def accept(self, key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Record and schedule the work; False when it is a duplicate of work done or running."""
        thread_key, order_ts = _ordering(kind, payload)
        stored = self.writes.add({"key": key, "kind": kind, "payload": payload, "status": "pending", "attempts": 0,
                                  "received_at": datetime.now(), "thread_key": thread_key, "order_ts": order_ts})
        if stored is None:
            metrics().events_received.labels(kind).inc()
        elif stored.settled(datetime.now()):
            return False
        return self._submit(key)

    def status(self, key: str) -> str | None:
        """The item's status (pending, running, done, failed), or None when it is unknown."""
        with self.store.engine.connect() as conn:
            return conn.scalar(select(_T.c.status).where(_T.c.key == key))

    def _submit(self, key: str) -> bool:
        if self.notify is not None:
            self.notify(key)
            return True
        with self.lock:
            if key in self.inflight:
                return False
            self.inflight.add(key)
        self.pool.submit(self._run, key, None)
        return True

    def claim(self, key: str, now: datetime | None = None) -> Claim | None:
        """Take the item for this worker if nobody holds it and its thread's earlier messages are done."""
        now = now or datetime.now()
        blocked = exists().where(
            _EARLIER.c.thread_key == _T.c.thread_key, _EARLIER.c.order_ts < _T.c.order_ts,
            or_(_EARLIER.c.status.in_(["pending", "running"]),
                and_(_EARLIER.c.status == "failed", _EARLIER.c.attempts < MAX_ATTEMPTS)))
        stmt = (update(_T).where(
            _T.c.key == key, _T.c.status.in_(["pending", "failed", "running"]), _T.c.attempts < MAX_ATTEMPTS,
            or_(_T.c.lease_until.is_(None), _T.c.lease_until <= now),
            or_(_T.c.thread_key.is_(None), ~blocked))
            .values(status="running", claimed_by=self.me, lease_until=now + timedelta(seconds=self.lease_s),
                    attempts=_T.c.attempts + 1))
        with self.store.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
            row = conn.execute(select(_T.c.kind, _T.c.payload, _T.c.attempts, _T.c.result, _T.c.thread_key)
                               .where(_T.c.key == key)).one()
        payload = dict(row.payload)
        payload["_attempt"], payload["_last"] = row.attempts, row.attempts >= MAX_ATTEMPTS
        payload["_state"] = dict((row.result or {}).get("state") or {})
        payload["_key"] = key
        return Claim(key, row.kind, payload, row.attempts, row.thread_key)

    def _run(self, key: str, claim: Claim | None = None) -> None:
        thread_key = None
        try:
            claim = claim or self.claim(key)
            if claim is None:  # done, held by another worker, or waiting for its thread: `tick` comes back
                return
            thread_key = claim.thread_key
            payload = claim.payload
            start = time.perf_counter()
            try:
                assert self.handler is not None
                with logs.context(event=key, slack_thread=thread_key, kind=claim.kind):
                    result = self.handler(claim.kind, payload) or {}
                status = "done"
            except Retry as exc:
                log.warning("slack %s %s failed (attempt %s of %s): %s", claim.kind, key, claim.attempts,
                            MAX_ATTEMPTS, exc)
                result = {"error": str(exc), "state": {**payload["_state"], **exc.state}}
                status = "failed"
            except Exception as exc:  # noqa: BLE001 - logged, marked failed, tried again later
                log.warning("slack %s %s failed (attempt %s of %s): %s", claim.kind, key, claim.attempts,
                            MAX_ATTEMPTS, type(exc).__name__)
                result, status = {"error": type(exc).__name__, "state": payload["_state"]}, "failed"
            self._finish(key, status, result, claim.attempts)
            m = metrics()
            (m.events_answered if status == "done" else m.events_failed).labels(claim.kind).inc()
            m.answer_seconds.labels(claim.kind).observe(time.perf_counter() - start)
        finally:
            with self.lock:
                self.inflight.discard(key)
        if thread_key:
            self.tick(thread_key=thread_key)  # the thread's next message, at once

    def _finish(self, key: str, status: str, result: dict[str, Any], attempts: int) -> None:
        now = datetime.now()
        retry_at = None
        if status == "failed" and attempts < MAX_ATTEMPTS:
            retry_at = now + timedelta(seconds=RETRY_AFTER_S[min(max(attempts, 1), len(RETRY_AFTER_S)) - 1])
        with self.store.engine.begin() as conn:
            conn.execute(update(_T).where(_T.c.key == key, _T.c.claimed_by == self.me)
                         .values(status=status, result=result, done_at=now, lease_until=retry_at))

    def tick(self, now: datetime | None = None, thread_key: str | None = None) -> int:
        """Renew this worker's leases, then claim and run whatever is due; how many were claimed.

        Due: pending items (a crash before they ran, or a thread's next message), failed items whose
        backoff passed, and running items whose worker's lease ran out.
        """
        now = now or datetime.now()
        with self.lock:
            mine = list(self.inflight)
        with self.store.engine.begin() as conn:
            if mine:
                conn.execute(update(_T).where(_T.c.key.in_(mine), _T.c.claimed_by == self.me, _T.c.status == "running")
                             .values(lease_until=now + timedelta(seconds=self.lease_s)))
            conn.execute(update(_T).where(_T.c.status == "running", _T.c.lease_until < now,  # died on its last try
                                          _T.c.attempts >= MAX_ATTEMPTS).values(status="failed"))
            q = (select(_T.c.key).where(_T.c.status.in_(["pending", "failed", "running"]),
                                        _T.c.attempts < MAX_ATTEMPTS,
                                        or_(_T.c.lease_until.is_(None), _T.c.lease_until <= now))
                 .order_by(_T.c.order_ts).limit(200))
            if thread_key is not None:
                q = q.where(_T.c.thread_key == thread_key)
            keys = list(conn.scalars(q))
        n = 0
        for key in keys:
            if self.notify is not None:
                self.notify(key)
                n += 1
                continue
            with self.lock:  # reserve the key here first: a claim is never made and then dropped
                if key in self.inflight:
                    continue
                self.inflight.add(key)
            claim = self.claim(key, now)
            if claim is None:
                with self.lock:
                    self.inflight.discard(key)
                continue
            self.pool.submit(self._run, key, claim)
            n += 1
        return n

    def recover(self) -> int:
        """Run what was accepted but never finished (after a crash or restart)."""
        return self.tick()

    def retry_due(self, now: datetime | None = None) -> int:
        """Claim and run what is due (failed items past their backoff, expired claims); how many."""
        return self.tick(now)

    def start_retries(self, every_s: float = 1.0) -> None:
        """Run `tick` on a timer thread (renewing leases, retrying, taking over); stopped by `stop_retries`."""
        stop = self._stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every_s):
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - the next tick tries again
                    log.exception("slack inbox tick failed")
        threading.Thread(target=loop, daemon=True, name="retain-inbox-tick").start()

    def stop_retries(self) -> None:
        """Stop the timer."""
        if self._stop is not None:
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
