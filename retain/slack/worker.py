"""The answering process of `retain serve`, and the supervisor that keeps it running.

The front end (the process that acks Slack) records each event and hands its key to one child
process that answers. A child that dies (kill -9, out of memory, a crash) is started again after a
backoff (1 s doubling to 60 s, reset once a child has lived a minute); the claims it held are ended
at once so the new child answers its events without waiting for their leases. While no child
runs, readiness says so (`state`). Inside the child, every database call of its loop is retried
with backoff: a database restart or failover is waited out, never the end of the process.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue as queues
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from core import logs
from core.backoff import Backoff
from integrations.crm.retry import until_done

log = logging.getLogger("retain.slack")
TICK_S = 1.0  # the child checks its parent and retries failed events this often
HEALTHY_AFTER_S = 60.0  # a child that lived this long resets the restart backoff


class AnsweringProcess:
    """One child process answering inbox keys, restarted with backoff when it dies."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], release: Callable[[str], int]):
        """`target(*args, queue, worker_id, started)` runs in the child, which sets `started` once it can answer.

        `release(worker_id)` ends a dead child's claims.
        """
        self.target, self.args, self.release = target, args, release
        self.ctx = mp.get_context("spawn")
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.backoff = Backoff(1.0, 60.0)
        self.restarts = 0
        self.down_since: float | None = None
        self.proc: Any = None
        self.queue: Any = None
        self.worker_id = ""
        self._start()
        self.watch = threading.Thread(target=self._supervise, name="retain-supervisor", daemon=True)
        self.watch.start()

    def _start(self) -> None:
        q = self.ctx.Queue()  # a new queue: a child killed inside get() may leave the old one's lock held
        started = self.ctx.Event()
        wid = f"{socket.gethostname()}:{os.getpid()}/answering{self.restarts}:{uuid.uuid4().hex[:6]}"
        proc = self.ctx.Process(target=self.target, args=(*self.args, q, wid, started), name="retain-slack-worker",
                                daemon=True)
        proc.start()
        with self.lock:
            self.proc, self.queue, self.worker_id, self.started = proc, q, wid, time.monotonic()
            self.ready = started
            self.down_since = None

    @property
    def pid(self) -> int | None:
        """The running child's pid."""
        with self.lock:
            return self.proc.pid if self.proc is not None else None

    def put(self, item: Any) -> None:
        """Hand the child a key (or a message); dropped while it is down (the new child finds the rows itself)."""
        with self.lock:
            q = self.queue if self.down_since is None else None
        if q is not None:
            q.put(item)

    def state(self) -> tuple[bool, str]:
        """(alive, what readiness says about it)."""
        with self.lock:
            proc, down, ready = self.proc, self.down_since, self.ready
        if down is None and proc is not None and proc.is_alive():
            if ready.is_set():
                return True, f"running (pid {proc.pid}, {self.restarts} restarts)"
            return False, f"the answering process is starting (pid {proc.pid})"
        since = time.monotonic() - (down if down is not None else time.monotonic())
        return False, f"the answering process is down ({since:.0f} s; restart {self.restarts + 1} pending)"

    def _supervise(self) -> None:
        while not self.closing.wait(1.0):
            with self.lock:
                proc, started, wid = self.proc, self.started, self.worker_id
            if proc.is_alive():
                if self.backoff.failing and time.monotonic() - started > HEALTHY_AFTER_S:
                    self.backoff.ok()
                continue
            with self.lock:
                self.down_since = time.monotonic()
            delay = self.backoff.failed()
            log.error("the answering process died (exit code %s); restarting it in %.0f s", proc.exitcode, delay)
            if self.closing.wait(delay):
                return
            try:
                n = until_done(partial(self.release, wid), "releasing a dead worker's claims", self.closing)
                if n:
                    log.warning("%s events the dead answering process held are answered again", n)
            except Exception:  # noqa: BLE001 - their leases run out instead
                log.exception("could not release the dead answering process's claims")
            self.restarts += 1
            try:
                self._start()
            except Exception:  # noqa: BLE001 - tried again on the next round
                log.exception("could not start the answering process")
                continue
            log.warning("answering process restarted (pid %s)", self.proc.pid)

    def close(self, timeout: float) -> None:
        """Let the child finish what it runs, then stop it (it is not restarted any more)."""
        self.closing.set()
        with self.lock:
            proc, q = self.proc, self.queue
        if proc is not None and proc.is_alive():
            q.put(None)
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()


def child_loop(bot: Any, work: Any, parent: Any) -> None:
    """The child's loop: keys from the parent run at once; every tick renews leases and runs what is due.

    Every tick's database work is retried with backoff while the database is unreachable; nothing
    here ends the process but a stop from the parent or the parent's death.
    """
    backoff = Backoff(TICK_S, 30.0)
    next_tick = time.monotonic()  # the first tick at once: what was accepted but never finished
    while True:
        if time.monotonic() >= next_tick:
            if parent is not None and not parent.is_alive():  # the server died (kill -9): do not linger
                log.warning("the Slack server process is gone; the worker finishes what it runs and stops")
                break
            next_tick = time.monotonic() + (bot.inbox.guarded_tick(backoff) or TICK_S)
        try:
            key = work.get(timeout=max(0.01, next_tick - time.monotonic()))
        except queues.Empty:
            continue
        if key is None:
            break
        if isinstance(key, tuple):  # ("received", key, channel, thread_ts): a status before a worker is free
            bot.received(*key[1:])
            continue
        bot.inbox._submit(key)
    bot.inbox.finish_running(120)


def main(make_bot: Callable[[], Any], settings: Any, started: Any) -> None:
    """The answering process's entry: logging set up, nicer than the front end, then `child_loop`.

    An error that ends it is logged (one JSON line in JSON mode) and the process exits 1; the
    supervisor in the front end starts another.
    """
    logs.configure(settings.log.format, settings.log.level)
    if settings.slack.worker_nice and hasattr(os, "nice"):
        os.nice(settings.slack.worker_nice)  # answers yield the CPU to acks: Slack wants an ack within 3 s
    try:
        bot, work = make_bot()
        started.set()
        child_loop(bot, work, mp.parent_process())
    except Exception:
        log.exception("the answering process stopped on an error")
        sys.exit(1)
