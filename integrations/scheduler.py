"""When scheduled work runs: APScheduler with Retain's job store, defaults and a lease.

APScheduler (BackgroundScheduler, SQLAlchemyJobStore in the CRM database, jobs referenced as
`module:function`, coalesce, one instance, explicit misfire grace, fixed ids) decides *when*. The
jobs themselves (briefings, the onboarding sweep, nightly upkeep) are the shell's (`retain.jobs`),
and what they send goes through `integrations.outbox`, which decides *exactly once*. A lease row
makes sure only one scheduler runs against a job store: it is renewed every sixth of its length,
with backoff while the database fails; a scheduler that has not renewed it for half its length
pauses its jobs (another may take the lease once it runs out) and resumes them only once it holds it
again; one that finds the lease taken stops.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

import configs
from core.errors import RetainError
from core.metrics import metrics
from integrations.crm.models import SchedulerLease
from integrations.crm.store import CRMStore

log = logging.getLogger("retain.scheduler")
LEASE_TTL = timedelta(seconds=90)


class SchedulerBusy(RetainError):
    """Another process holds the scheduler lease."""


def load_schedules() -> dict[str, Any]:
    """configs/schedules.yaml."""
    return cast(dict[str, Any], configs.load("schedules"))


# ---------------------------------------------------------------- lease
def acquire_lease(store: CRMStore, holder: str, now: datetime | None = None, name: str = "scheduler",
                  ttl: timedelta = LEASE_TTL) -> None:
    """Take or renew the lease for `ttl`; SchedulerBusy when another live holder has it."""
    now = now or datetime.now()
    with store.engine.begin() as conn:
        got = conn.execute(update(SchedulerLease).where(
            SchedulerLease.name == name,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        ).values(holder=holder, expires_at=now + ttl)).rowcount
        if got:
            return
        try:
            conn.execute(insert(SchedulerLease).values(name=name, holder=holder, expires_at=now + ttl))
            return
        except IntegrityError:
            pass
    with store.session() as s:
        row = s.get(SchedulerLease, name)
    until = f"{row.expires_at:%Y-%m-%d %H:%M:%S}" if row else "?"
    raise SchedulerBusy(f"Another scheduler is running ({row.holder if row else '?'}, lease until {until}). "
                        "Only one may run against a job store: stop it, or run this one with --no-scheduler.")


def release_lease(store: CRMStore, holder: str, name: str = "scheduler") -> None:
    """Give the lease up (on a clean stop)."""
    with store.engine.begin() as conn:
        conn.execute(update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
                     .values(expires_at=datetime(1970, 1, 1)))


# ---------------------------------------------------------------- slots and schedules
def slot_for(now_utc: datetime, tz: str, time_s: str, cadence: str = "daily") -> str:
    """The scheduled slot a run belongs to: the local date (daily) or ISO week (weekly) of the last fire."""
    local = now_utc.astimezone(ZoneInfo(tz))
    hh, mm = (int(x) for x in time_s.split(":"))
    fire = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if local < fire:
        fire -= timedelta(days=1)
    if cadence == "weekly":
        y, w, _ = fire.isocalendar()
        return f"{y}-W{w:02d}"
    return fire.date().isoformat()


@dataclass
class JobSpec:
    """One scheduled job, as APScheduler will hold it."""

    id: str
    func: str
    args: list[Any]
    trigger: str  # cron | interval
    fields: dict[str, Any]
    name: str


class Scheduler:
    """APScheduler with Retain's job store, defaults and lease."""

    RESYNC_S = 300.0  # how often a running scheduler reads its jobs again (new people, changed timezones)

    def __init__(self, store: CRMStore, specs: Callable[[], list[JobSpec]], executor: str = "threadpool",
                 lease_s: float = LEASE_TTL.total_seconds()):
        """`specs` lists the jobs to run (the shell's `retain.jobs.job_specs`), read again on each sync."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.store, self.specs, self.ttl = store, specs, timedelta(seconds=lease_s)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        grace = int(load_schedules()["misfire_grace_s"])
        executors: dict[str, Any] = {"default": ThreadPoolExecutor(2)}
        if executor == "debug":
            from apscheduler.executors.debug import DebugExecutor

            executors = {"default": DebugExecutor()}
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename="apscheduler_jobs")},
            executors=executors, timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace})
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._renewed = time.monotonic()  # when the lease was last renewed (this process's clock)
        self._run = False  # whether jobs should run (start(paused=True) keeps them paused)
        self.lease_paused = False  # jobs paused because the lease could not be renewed
        self.lost = False  # another scheduler took the lease: this one stopped
        self.on_lost: Callable[[], None] | None = None  # called then (`retain scheduler` exits)
        self.threads: list[threading.Thread] = []
        self.missed: list[str] = []
        from apscheduler.events import EVENT_JOB_MISSED

        def on_missed(ev: Any) -> None:
            self.missed.append(ev.job_id)
            log.warning("job %s missed its %s run (beyond the %s s grace); skipped", ev.job_id,
                        ev.scheduled_run_time, grace)
        self.aps.add_listener(on_missed, EVENT_JOB_MISSED)
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        def on_run(ev: Any) -> None:
            metrics().job_runs.labels(ev.job_id.split(":")[0], "error" if ev.exception else "ok").inc()
        self.aps.add_listener(on_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def sync_jobs(self) -> list[JobSpec]:
        """Add or replace every configured job (fixed ids), drop jobs no longer configured."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        specs = self.specs()
        wanted = {s.id for s in specs}
        for s in specs:
            trigger = CronTrigger(**s.fields) if s.trigger == "cron" else IntervalTrigger(**s.fields)
            have = self.aps.get_job(s.id)
            if have is not None and _same_trigger(have.trigger, trigger) and list(have.args) == list(s.args) \
                    and have.func_ref == s.func:
                continue  # unchanged: keep its stored next run, so a run missed while down is not lost
            self.aps.add_job(s.func, trigger, args=s.args, id=s.id, name=s.name, replace_existing=True)
        for job in self.aps.get_jobs():
            if job.id not in wanted:
                job.remove()
        return specs

    def start(self, paused: bool = False) -> None:
        """Take the lease (or refuse), then start; the lease is renewed while running."""
        acquire_lease(self.store, self.holder, ttl=self.ttl)
        self._renewed = time.monotonic()
        self.aps.start(paused=True)
        self.sync_jobs()
        self._run = not paused
        if not paused:
            self.aps.resume()
        self.threads = [threading.Thread(target=self._renew, daemon=True, name="retain-lease"),
                        threading.Thread(target=self._guard, daemon=True, name="retain-lease-guard")]
        for t in self.threads:
            t.start()

    def _renew(self) -> None:
        """Renew the lease; retry database errors with backoff; stop if another scheduler took it."""
        step = self.ttl.total_seconds() / 6
        wait, retry, synced = step, 0.0, time.monotonic()
        while not self._stop.wait(wait):
            try:
                acquire_lease(self.store, self.holder, ttl=self.ttl)
            except SchedulerBusy:
                log.error("another scheduler took the lease; stopping this one")
                with self._lock:
                    self.lost = True
                    self.aps.shutdown(wait=False)
                if self.on_lost is not None:
                    self.on_lost()
                return
            except Exception as exc:  # noqa: BLE001 - the database is down or failing: keep trying
                retry = min(retry * 2 or 1.0, step)  # 1 s, 2 s, 4 s ... up to the renewal interval
                log.warning("could not renew the scheduler lease (%s); retrying in %.1f s", type(exc).__name__, retry)
                wait = retry
                continue
            wait, retry = step, 0.0
            with self._lock:
                self._renewed = time.monotonic()
                if self.lease_paused:
                    log.warning("scheduler lease renewed; resuming jobs")
                    self.lease_paused = False
                    if self._run:
                        self.aps.resume()
            if time.monotonic() - synced >= self.RESYNC_S:
                synced = time.monotonic()
                try:
                    self.sync_jobs()
                except Exception as exc:  # noqa: BLE001 - the next sync tries again
                    log.warning("could not read the scheduled jobs again (%s)", type(exc).__name__)

    def _guard(self) -> None:
        """Pause the jobs once the lease has gone unrenewed for half its length (even if a renewal hangs)."""
        while not self._stop.wait(min(1.0, self.ttl.total_seconds() / 12)):
            with self._lock:
                if self.lost or not self.aps.running:
                    return
                if not self.lease_paused and time.monotonic() - self._renewed > self.ttl.total_seconds() / 2:
                    log.error("the scheduler lease was not renewed for %.0f s: pausing jobs until it is (another "
                              "scheduler may take it over after %.0f s)", self.ttl.total_seconds() / 2,
                              self.ttl.total_seconds())
                    self.lease_paused = True
                    self.aps.pause()

    def shutdown(self) -> None:
        """Stop and give the lease up."""
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=True)
        try:
            release_lease(self.store, self.holder)
        except Exception as exc:  # noqa: BLE001 - unreleased, it runs out on its own
            log.warning("could not release the scheduler lease (%s); it runs out in %.0f s", type(exc).__name__,
                        self.ttl.total_seconds())


def _same_trigger(a: Any, b: Any) -> bool:
    """Whether two triggers fire alike: their text leaves the timezone out, so compare it too."""
    return str(a) == str(b) and str(getattr(a, "timezone", "")) == str(getattr(b, "timezone", ""))
