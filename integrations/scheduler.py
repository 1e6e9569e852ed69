"""Scheduled work: briefings, the onboarding sweep, nightly upkeep; delivered through an outbox.

APScheduler (BackgroundScheduler, SQLAlchemyJobStore in the CRM database, jobs referenced as
`module:function`, coalesce, one instance, explicit misfire grace, fixed ids) decides *when*.
The outbox decides *exactly once*: each message is a row keyed by (job, slot, recipient) written
before it is sent, marked sent with Slack's ts after, retried with backoff, dead-lettered with an
alert. A lease row makes sure only one scheduler runs against a job store.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from configs import CONFIG_DIR
from integrations.crm.models import CSM, Outbox, SchedulerLease
from integrations.crm.store import CRMStore
from integrations.slack import safe
from retain.errors import RetainError
from retain.faults import fault

log = logging.getLogger("retain.scheduler")
LEASE_TTL = timedelta(seconds=90)


class SchedulerBusy(RetainError):
    """Another process holds the scheduler lease."""


def load_schedules() -> dict[str, Any]:
    """configs/schedules.yaml."""
    return yaml.safe_load((CONFIG_DIR / "schedules.yaml").read_text())


# ---------------------------------------------------------------- lease
def acquire_lease(store: CRMStore, holder: str, now: datetime | None = None, name: str = "scheduler") -> None:
    """Take or renew the lease; SchedulerBusy when another live holder has it."""
    now = now or datetime.now()
    with store.engine.begin() as conn:
        got = conn.execute(update(SchedulerLease).where(
            SchedulerLease.name == name,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        ).values(holder=holder, expires_at=now + LEASE_TTL)).rowcount
        if got:
            return
        try:
            conn.execute(insert(SchedulerLease).values(name=name, holder=holder, expires_at=now + LEASE_TTL))
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


# ---------------------------------------------------------------- outbox
def enqueue(store: CRMStore, job: str, slot: str, recipient: str, channel: str, text: str,
            blocks: list[Any] | None = None) -> tuple[str, bool]:
    """Write a message to the outbox once per (job, slot, recipient); (key, newly written)."""
    key = f"{job}|{slot}|{recipient}"
    now = datetime.now()
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(Outbox).values(key=key, job=job, slot=slot, recipient=recipient, channel=channel,
                                               text=text, blocks=blocks, status="pending", attempts=0,
                                               next_try_at=now, created_at=now))
        return key, True
    except IntegrityError:
        return key, False


def deliver(store: CRMStore, client: Any, now: datetime | None = None, cfg: dict[str, Any] | None = None) -> dict:
    """Send what is due; mark sent with the ts; back off on failure; dead-letter with an alert."""
    cfg = cfg or load_schedules()["outbox"]
    now = now or datetime.now()
    counts = {"sent": 0, "retry": 0, "dead": 0}
    with store.session() as s:
        due = list(s.scalars(select(Outbox.key).where(Outbox.status.in_(("pending", "sending")),
                                                      Outbox.next_try_at <= now).order_by(Outbox.created_at)))
    for key in due:
        with store.session() as s:
            row = s.get(Outbox, key)
            if row is None or row.status not in ("pending", "sending"):
                continue
            if row.status == "sending":  # a previous process died between posting and marking it sent
                log.warning("outbox %s: the last send crashed after posting; sending again may duplicate it", key)
                counts["possible_duplicates"] = counts.get("possible_duplicates", 0) + 1
            row.status = "sending"
            channel, text, blocks = row.channel, row.text, row.blocks
            s.commit()
        try:
            # One safe rendering whatever was queued (a raw client in a test gets it too).
            msg = safe.message({"text": text, "blocks": blocks}, getattr(client, "link_hosts", ()))
            resp = client.chat_postMessage(channel=channel, text=msg["text"], blocks=msg["blocks"],
                                           unfurl_links=False, unfurl_media=False)
            ts, error = str(resp.get("ts", "")), None
            fault("after_post")
        except Exception as exc:  # noqa: BLE001 - any failure is retried; the reason is kept (no payload)
            ts, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        with store.session() as s:
            row = s.get(Outbox, key)
            if row is None:
                continue
            row.attempts += 1
            if error is None:
                row.status, row.ts, row.sent_at, row.last_error = "sent", ts, datetime.now(), None
                counts["sent"] += 1
            elif row.attempts >= int(cfg["max_attempts"]):
                row.status, row.last_error = "dead", error
                counts["dead"] += 1
            else:
                backoff = cfg["backoff_s"][min(row.attempts - 1, len(cfg["backoff_s"]) - 1)]
                row.next_try_at, row.last_error = now + timedelta(seconds=float(backoff)), error
                row.status = "pending"
                counts["retry"] += 1
            dead = row.status == "dead"
            s.commit()
        if dead and cfg.get("admin_channel"):
            log.error("outbox %s dead after %s tries: %s", key, cfg["max_attempts"], error)
            try:
                client.chat_postMessage(channel=cfg["admin_channel"], text=f":warning: Retain could not deliver "
                                        f"`{key}` after {cfg['max_attempts']} tries ({error}).")
            except Exception:  # noqa: BLE001 - the dead letter is in the table either way
                log.exception("admin alert failed")
    return counts


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


def job_specs(store: CRMStore) -> list[JobSpec]:
    """Every job the schedules config asks for, with fixed ids."""
    cfg = load_schedules()
    specs: list[JobSpec] = []
    b = cfg["briefings"]
    with store.session() as s:
        csms = list(s.scalars(select(CSM).where(CSM.role == "csm").order_by(CSM.id)))
        managers = {c.team: c for c in s.scalars(select(CSM).where(CSM.role == "manager"))}
    for c in csms:
        sched = {**b["csm"], **(b.get("overrides") or {}).get(c.email, {})}
        hh, mm = sched["time"].split(":")
        specs.append(JobSpec(f"brief:csm:{c.id}", "integrations.jobs:briefing", ["csm", c.id], "cron",
                             {"hour": int(hh), "minute": int(mm), "day_of_week": sched.get("days", "mon-fri"),
                              "timezone": c.timezone or "UTC"}, f"Briefing for {c.name} ({sched['cadence']})"))
    for team, channel in (b.get("teams") or {}).items():
        mgr = managers.get(team)
        hh, mm = b.get("team_time", "08:30").split(":")
        specs.append(JobSpec(f"brief:team:{team}", "integrations.jobs:briefing", ["team", team], "cron",
                             {"hour": int(hh), "minute": int(mm), "day_of_week": "mon-fri",
                              "timezone": (mgr.timezone if mgr else None) or "UTC"},
                             f"Team roll-up {team} → {channel}"))
    sw = cfg["onboarding_sweep"]
    specs.append(JobSpec("onboarding:sweep", "integrations.jobs:onboarding_sweep", [], "interval",
                         {"minutes": int(sw["every_minutes"])}, "Onboarding follow-up sweep"))
    n = cfg["nightly"]
    hh, mm = n["time"].split(":")
    specs.append(JobSpec("nightly", "integrations.jobs:nightly", [], "cron",
                         {"hour": int(hh), "minute": int(mm), "timezone": n.get("timezone", "UTC")},
                         "Health snapshots and memory sync"))
    specs.append(JobSpec("outbox:deliver", "integrations.jobs:deliver_outbox", [], "interval",
                         {"seconds": int(cfg["outbox"]["every_seconds"])}, "Deliver the outbox"))
    return specs


class Scheduler:
    """APScheduler with Retain's job store, defaults and lease."""

    def __init__(self, runtime: Any, executor: str = "threadpool"):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.runtime = runtime
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        grace = int(load_schedules()["misfire_grace_s"])
        executors: dict[str, Any] = {"default": ThreadPoolExecutor(2)}
        if executor == "debug":
            from apscheduler.executors.debug import DebugExecutor

            executors = {"default": DebugExecutor()}
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=runtime.store.engine, tablename="apscheduler_jobs")},
            executors=executors, timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace})
        self._stop = threading.Event()
        self.missed: list[str] = []
        from apscheduler.events import EVENT_JOB_MISSED

        def on_missed(ev: Any) -> None:
            self.missed.append(ev.job_id)
            log.warning("job %s missed its %s run (beyond the %s s grace); skipped", ev.job_id,
                        ev.scheduled_run_time, grace)
        self.aps.add_listener(on_missed, EVENT_JOB_MISSED)

    def sync_jobs(self) -> list[JobSpec]:
        """Add or replace every configured job (fixed ids), drop jobs no longer configured."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        specs = job_specs(self.runtime.store)
        wanted = {s.id for s in specs}
        for s in specs:
            trigger = CronTrigger(**s.fields) if s.trigger == "cron" else IntervalTrigger(**s.fields)
            have = self.aps.get_job(s.id)
            if have is not None and str(have.trigger) == str(trigger) and list(have.args) == list(s.args):
                continue  # unchanged: keep its stored next run, so a run missed while down is not lost
            self.aps.add_job(s.func, trigger, args=s.args, id=s.id, name=s.name, replace_existing=True)
        for job in self.aps.get_jobs():
            if job.id not in wanted:
                job.remove()
        return specs

    def start(self, paused: bool = False) -> None:
        """Take the lease (or refuse), then start; the lease is renewed while running."""
        from integrations import jobs

        acquire_lease(self.runtime.store, self.holder)
        if jobs._STATE.get("runtime") is not self.runtime:
            jobs.configure(self.runtime)
        self.aps.start(paused=True)
        self.sync_jobs()
        if not paused:
            self.aps.resume()
        threading.Thread(target=self._renew, daemon=True, name="retain-lease").start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_TTL.total_seconds() / 3):
            try:
                acquire_lease(self.runtime.store, self.holder)
            except SchedulerBusy:
                log.error("lost the scheduler lease; stopping the scheduler")
                self.aps.shutdown(wait=False)
                return

    def shutdown(self) -> None:
        """Stop and give the lease up."""
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=True)
        release_lease(self.runtime.store, self.holder)


def today_in(tz: str) -> date:
    """Today's date in a timezone."""
    return datetime.now(ZoneInfo(tz)).date()
