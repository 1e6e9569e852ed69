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
A worker stalled (not dead) for longer than the lease without a tick (a database outage, a starved
machine) can find its item taken over by another worker. So before a handler's first visible step (a
post) it calls `hold`: the claim is renewed if it is still this worker's, else the run stops there
(`Superseded`) and nothing is posted or stored. Its late finish changes nothing stored either.
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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, exists, func, or_, select, update

from core import logs
from core.backoff import Backoff
from core.metrics import metrics
from integrations.crm.models import SlackInbox
from integrations.crm.retry import lost_connection_in, until_done
from integrations.crm.store import CRMStore
from integrations.slack.acks import MAX_ATTEMPTS, GroupCommit
from integrations.slack.job import Job

log = logging.getLogger("retain.slack")
RETRY_AFTER_S = (5.0, 30.0)  # wait before the 2nd and 3rd attempts
MAX_OUTAGES = 10  # failures while the database was unreachable that are not counted as attempts
LEASE_S = 120.0  # a claim lasts this long unless renewed (renewed every tick while the work runs)
Handler = Callable[[Job], dict[str, Any] | None]
_T: Table = SlackInbox.__table__  # type: ignore[assignment]
_EARLIER = _T.alias("earlier")


class Retry(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler that failed and should be tried again.

    The job's `state` is kept for the next attempt, with `state` (if given) on top.
    """

    def __init__(self, cause: BaseException, state: dict[str, Any] | None = None):
        super().__init__(type(cause).__name__)
        self.cause, self.state = cause, state or {}


class Superseded(Exception):  # noqa: N818 - a signal, not an error
    """Raised by `Inbox.hold` when another worker took the item over: this run stops, posting and storing nothing."""


def _ordering(kind: str, payload: dict[str, Any]) -> tuple[str | None, float]:
    """(thread key, order) of an item: a message's thread and Slack ts; others are unordered."""
    if kind == "question" and payload.get("channel") and payload.get("ts"):
        try:
            return f"{payload['channel']}:{payload.get('thread_ts') or payload['ts']}", float(payload["ts"])
        except ValueError:
            pass
    return None, time.time()


class Inbox:
    """Accept, deduplicate, claim and run Slack work exactly once across workers."""

    def __init__(self, store: CRMStore, handler: Handler | None, workers: int = 4,
                 notify: Callable[[str], None] | None = None, lease_s: float = LEASE_S, me: str | None = None):
        """Run work here with `handler`, or hand keys to another process with `notify`.

        `me` names this worker's claims (default: host, pid and a random part).
        """
        self.store, self.handler, self.notify, self.lease_s = store, handler, notify, lease_s
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retain-slack")
        self.inflight: set[str] = set()
        self.lock = threading.Lock()
        self.writes = GroupCommit(store)  # the ack path: one INSERT per burst of acks
        self.me = me or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop: threading.Event | None = None
        self.closing = threading.Event()  # set at shutdown: retries against a dead database give up

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

    def claim(self, key: str, now: datetime | None = None) -> Job | None:
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
            row = conn.execute(select(_T.c.kind, _T.c.payload, _T.c.attempts, _T.c.result, _T.c.thread_key,
                                      _T.c.claimed_by, _T.c.lease_until).where(_T.c.key == key)).one()
        return Job.from_row(key, row.kind, row.payload, row.attempts, row.result, row.thread_key, row.claimed_by,
                            row.lease_until)

    def _run(self, key: str, claim: Job | None = None) -> None:
        thread_key = None
        try:
            try:
                claim = claim or self.claim(key)
            except Exception as exc:
                if not lost_connection_in(exc):
                    raise
                log.warning("database unreachable; slack %s waits for the next tick", key)
                return
            if claim is None:  # done, held by another worker, or waiting for its thread: `tick` comes back
                return
            thread_key = claim.thread_key
            start = time.perf_counter()
            try:
                assert self.handler is not None
                with logs.context(event=key, slack_thread=thread_key, kind=claim.kind):
                    result = self.handler(claim) or {}
                status = "done"
            except Superseded:
                log.warning("slack %s %s was taken over by another worker while this one stalled; "
                            "this attempt stops", claim.kind, key)
                return
            except Exception as exc:  # noqa: BLE001 - logged, marked failed, tried again later
                state = {**claim.state, **(exc.state if isinstance(exc, Retry) else {})}
                outage = lost_connection_in(exc) and int(state.get("outages") or 0) < MAX_OUTAGES
                if outage:  # the database went away mid-answer: not the item's fault, not an attempt
                    state["outages"] = int(state.get("outages") or 0) + 1
                log.warning("slack %s %s failed (attempt %s of %s%s): %s", claim.kind, key, claim.attempt,
                            MAX_ATTEMPTS, ", the database was unreachable: not counted" if outage else "",
                            exc if isinstance(exc, Retry) else type(exc).__name__)
                result = {"error": str(exc) if isinstance(exc, Retry) else type(exc).__name__, "state": state}
                status = "failed"
                if outage:
                    claim.attempt -= 1
            self._finish(key, status, result, claim.attempt)
            seconds = time.perf_counter() - start
            m = metrics()
            (m.events_answered if status == "done" else m.events_failed).labels(claim.kind).inc()
            m.answer_seconds.labels(claim.kind).observe(seconds)
            with logs.context(event=key, slack_thread=thread_key, kind=claim.kind):
                log.info("slack %s %s %s in %.2f s (attempt %s)", claim.kind, key,
                         "answered" if status == "done" else "failed", seconds, claim.attempt,
                         extra={"seconds": round(seconds, 3), "status": status, "attempt": claim.attempt})
        finally:
            with self.lock:
                self.inflight.discard(key)
        if thread_key:
            self.tick(thread_key=thread_key)  # the thread's next message, at once

    def _finish(self, key: str, status: str, result: dict[str, Any], attempts: int) -> None:
        """Record the outcome; while the database is unreachable, keep trying (the answer is already out)."""
        def write() -> None:
            now = datetime.now()
            retry_at = None
            if status == "failed" and attempts < MAX_ATTEMPTS:
                retry_at = now + timedelta(seconds=RETRY_AFTER_S[min(max(attempts, 1), len(RETRY_AFTER_S)) - 1])
            with self.store.engine.begin() as conn:
                conn.execute(update(_T).where(_T.c.key == key, _T.c.claimed_by == self.me)
                             .values(status=status, result=result, done_at=now, lease_until=retry_at,
                                     attempts=attempts))
        until_done(write, f"recording slack {key} as {status}", self.closing)

    def keep(self, job: Job) -> None:
        """Store what a running job has done so far (`job.state`, e.g. its placeholder's ts) with its claim, at once.

        A worker that takes the item over after this one died reads it back as its job's `state`, so
        it updates the message already posted instead of posting another. Best effort: if the database
        is away, the item's failure record or Slack itself (`conversations.replies`) still has it.
        """
        try:
            with self.store.engine.begin() as conn:
                conn.execute(update(_T).where(_T.c.key == job.key, _T.c.claimed_by == self.me,
                                              _T.c.status == "running").values(result={"state": job.state}))
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("could not store the progress of slack %s (%s)", job.key, type(exc).__name__)

    def hold(self, job: Job) -> None:
        """Before a visible step: renew `job`'s claim now if it is still this worker's, else raise `Superseded`.

        A worker that stalled past its lease (its ticks could not renew it while the database was
        away) may have lost the item to another worker, which then posts its own placeholder; this
        one must post nothing more. After `hold` the lease has `lease_s` to run, so what is posted at
        once is there (kept, or found in Slack) for any later taker. A lost database raises its error:
        the item is tried again, not counted.
        """
        with self.store.engine.begin() as conn:
            held = conn.execute(update(_T).where(_T.c.key == job.key, _T.c.claimed_by == self.me,
                                                 _T.c.status == "running", _T.c.attempts == job.attempt)
                                .values(lease_until=datetime.now() + timedelta(seconds=self.lease_s))).rowcount
        if held != 1:
            raise Superseded(job.key)

    def release(self, holder: str) -> int:
        """End the claims of a worker known to be dead (its process exited) now, not when its lease runs out."""
        with self.store.engine.begin() as conn:
            return conn.execute(update(_T).where(_T.c.claimed_by == holder, _T.c.status == "running")
                                .values(lease_until=datetime.now())).rowcount

    def tick(self, now: datetime | None = None, thread_key: str | None = None) -> int:
        """Renew this worker's leases, then claim and run whatever is due; how many were claimed.

        Due: pending items (a crash before they ran, or a thread's next message), failed items whose
        backoff passed, and running items whose worker's lease ran out.
        """
        now = now or datetime.now()
        with self.store.engine.begin() as conn:
            self._renew(conn, now)
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

    def _renew(self, conn: Any, now: datetime) -> None:
        with self.lock:
            mine = list(self.inflight)
        if mine:
            conn.execute(update(_T).where(_T.c.key.in_(mine), _T.c.claimed_by == self.me, _T.c.status == "running")
                         .values(lease_until=now + timedelta(seconds=self.lease_s)))

    def finish_running(self, timeout: float) -> bool:
        """Shutting down: claim nothing new, renew the running items' leases until they finish (or `timeout`)."""
        deadline = time.time() + timeout
        backoff = Backoff(1.0, 10.0)
        while time.time() < deadline:
            with self.lock:
                if not self.inflight:
                    return True
            try:
                with self.store.engine.begin() as conn:
                    self._renew(conn, datetime.now())
                wait = 1.0
            except Exception as exc:  # noqa: BLE001 - keep waiting; the leases cover a short outage
                wait = backoff.failed()
                log.info("could not renew leases while stopping (%s)", type(exc).__name__)
            time.sleep(min(wait, max(0.0, deadline - time.time())))
        self.closing.set()
        return False

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
            backoff = Backoff(every_s, 30.0)
            wait = every_s
            while not stop.wait(wait):
                wait = self.guarded_tick(backoff) or every_s
        threading.Thread(target=loop, daemon=True, name="retain-inbox-tick").start()

    def guarded_tick(self, backoff: Backoff) -> float:
        """`tick`, never raising: 0 when it ran, else the seconds to wait (the database is away, or a bug).

        The first failure of a run is logged (a lost database as one line, anything else with its
        traceback), and the return to normal; the attempts in between are quiet.
        """
        try:
            self.tick()
        except Exception as exc:  # noqa: BLE001 - a tick loop never ends on an error
            delay = backoff.failed()
            if backoff.failures == 1:
                if lost_connection_in(exc):
                    log.warning("database unreachable (%s); the inbox retries with backoff", type(exc).__name__)
                else:
                    log.exception("slack inbox tick failed; retrying with backoff")
            return delay
        if backoff.ok():
            log.warning("database back: the inbox resumes")
        return 0.0

    def stop_retries(self) -> None:
        """Stop the timer."""
        if self._stop is not None:
            self._stop.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is running here, or (with a worker process) nothing is left pending."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.notify is not None:
                try:
                    with self.store.session() as s:
                        left = s.scalar(select(func.count()).select_from(SlackInbox).where(
                            (SlackInbox.status == "running")
                            | ((SlackInbox.status == "pending") & (SlackInbox.attempts < MAX_ATTEMPTS))))
                except Exception as exc:
                    if not lost_connection_in(exc):
                        raise
                    left = 1  # unknown until the database is back
                if not left:
                    return True
            else:
                with self.lock:
                    if not self.inflight:
                        return True
            time.sleep(0.05)
        return False
