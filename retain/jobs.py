"""The scheduled jobs, referenced by APScheduler as `retain.jobs:<name>`, and the list of them.

Each job is safe to run twice for the same slot: what it sends goes through the outbox, keyed by
(job, slot, recipient), so a repeated run writes nothing new and nothing is sent twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from agents import briefing as brief
from agents.assistant import Assistant
from agents.context import request_deps
from core.faults import fault
from integrations.crm.models import CSM, FollowUpState, Outbox
from integrations.crm.store import CRMStore
from integrations.outbox import deliver, enqueue
from integrations.scheduler import JobSpec, Scheduler, load_schedules, slot_for
from integrations.slack import blocks as kit
from integrations.slack import charts
from integrations.slack.client import client_for
from integrations.slack.safe import MAX_BLOCKS, SECTION_LIMIT, clean, cut
from tools import crm_sync
from tools.access import OPERATOR, delivery_refusal
from tools.health import save_snapshots
from tools.onboarding import OpenMilestone, open_milestones
from tools.services import Services

log = logging.getLogger("retain.jobs")
MESSAGE_LIMIT = 39000  # Slack truncates a message's text beyond 40,000 characters


@dataclass
class _Context:
    """What the jobs run with: APScheduler calls module functions, so the process configures them once."""

    services: Services
    client: Any = None
    assistant: Assistant | None = None
    clock: Callable[[], datetime] = datetime.utcnow


_CONTEXT: _Context | None = None


def configure(services: Services, client: Any = None, assistant: Assistant | None = None,
              clock: Callable[[], datetime] | None = None) -> None:
    """Give the jobs their services (and, in tests, a Web API client, an assistant, a clock)."""
    global _CONTEXT
    _CONTEXT = _Context(services, client, assistant, clock or datetime.utcnow)


def configured(services: Services) -> bool:
    """Whether the jobs already run with these services."""
    return _CONTEXT is not None and _CONTEXT.services is services


def reset() -> None:
    """Forget the configuration (tests)."""
    global _CONTEXT
    _CONTEXT = None


def _ctx() -> _Context:
    if _CONTEXT is None:
        raise RuntimeError("retain.jobs.configure() was not called")
    return _CONTEXT


def _rt() -> Services:
    return _ctx().services


def client() -> Any:
    """The Slack Web API client the jobs post with (built from the settings on first use)."""
    c = _ctx()
    if c.client is None:  # posts are not retried blindly: the outbox checks Slack before its next try
        c.client = client_for(c.services.settings, retry_posts=False)
    return c.client


def assistant() -> Assistant:
    """The assistant the jobs draft with (built from the settings on first use)."""
    c = _ctx()
    if c.assistant is None:
        from retain.deps import build_assistant

        c.assistant = build_assistant(c.services, warn=log.warning)
    return c.assistant


def _now() -> datetime:
    return _ctx().clock()  # naive UTC


def briefing(kind: str, ident: Any) -> dict[str, Any]:
    """Build one briefing (a CSM's, or a team roll-up), put it in the outbox for its slot, deliver."""
    rt = _rt()
    cfg = load_schedules()["briefings"]
    with rt.store.session() as s:
        if kind == "csm":
            person = s.get(CSM, int(ident))
            channel = person.slack_user_id if person else None
            sched = {**cfg["csm"], **(cfg.get("overrides") or {}).get(person.email if person else "", {})}
            who = person.email if person else ""
        else:
            person = s.scalars(select(CSM).where(CSM.role == "manager", CSM.team == ident)).first()
            channel = (cfg.get("teams") or {}).get(ident)
            sched = {"time": cfg.get("team_time", "08:30"), "cadence": "daily"}
            who = person.email if person else ""
    if person is None or not channel:
        log.warning("briefing %s %s: no recipient", kind, ident)
        return {"skipped": True}
    tz = person.timezone or "UTC"
    now = _now().replace(tzinfo=ZoneInfo("UTC"))
    slot = slot_for(now, tz, sched["time"], sched.get("cadence", "daily"))
    job = f"brief:{kind}:{ident}"
    with rt.store.session() as s:
        done = s.scalar(select(Outbox.key).where(Outbox.job == job, Outbox.slot == slot))
        last = s.scalar(select(Outbox.slot).where(Outbox.job == job, Outbox.status == "sent")
                        .order_by(Outbox.created_at.desc()))
    built = None
    if done is None:
        deps = request_deps(rt, assistant().chat, use_memory=False)
        since = date.fromisoformat(last) if last and len(last) == 10 else None
        built, _, text = brief.assemble(deps, who, since)
        blocks = _blocks(text)[:MAX_BLOCKS - 1] + [kit.feedback(f"briefing|{job}|{slot}")]
        named = ([c["account_id"] for c in built["changes"]] + [r["account_id"] for r in built["at_risk"]]
                 + [m["account_id"] for m in built["overdue"]]
                 + [n["account_id"] for part in built["renewals"].values() for n in part])
        enqueue(rt.store, job, slot, channel, channel, text[:MESSAGE_LIMIT], blocks, named)
        fault("after_outbox_write")
    key = f"{job}|{slot}|{channel}"

    def chart(sent_key: str, ts: str) -> None:  # by whichever run posted it, so once
        if built is not None and sent_key == key and ts:
            _chart(job, channel, ts, built)
    return {"slot": slot, **deliver_outbox(on_sent=chart)}


def _chart(job: str, channel: str, ts: str, b: Any) -> None:
    """The briefing's chart in its thread, once it was delivered (a failure loses only the picture)."""
    soon = [r for k in ("30", "60", "90") for r in b["renewals"][k]]
    try:
        png = charts.portfolio_png(b["at_risk"], soon, f"{b['who']}: portfolio on {b['as_of']}")
        client().files_upload_v2(channel=channel, thread_ts=ts, content=png, filename="portfolio.png",
                                 title=f"Portfolio: {b['who']}, {b['as_of']}")
    except Exception as exc:  # noqa: BLE001 - the briefing itself is delivered; the picture is optional
        log.warning("briefing chart for %s not uploaded: %s", job, type(exc).__name__)


def _blocks(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in text.split("\n\n"):
        if part.strip():
            out.append({"type": "section", "text": {"type": "mrkdwn", "text": cut(clean(part), SECTION_LIMIT)}})
    return out[:MAX_BLOCKS]


def onboarding_sweep() -> dict[str, Any]:
    """Overdue or stalled milestones get a drafted follow-up to the owning CSM, unless nagged or snoozed."""
    rt = _rt()
    cfg = load_schedules()["onboarding_sweep"]
    now = _now()
    today = rt.settings.as_of()
    quiet = timedelta(days=float(cfg["quiet_days"]))
    stalled = today - timedelta(days=int(cfg["stalled_days"]))
    drafted, quieted, failed = 0, 0, 0
    with rt.store.session() as s:
        states = {f.milestone_id: f for f in s.scalars(select(FollowUpState))}
    by_account: dict[int, tuple[OpenMilestone, CSM]] = {}  # the earliest-due late or stalled one per account
    for o in open_milestones(rt.store):
        if (o.milestone.due_date < today or o.stalled(stalled)) and o.owner is not None \
                and o.account_id not in by_account:
            by_account[o.account_id] = (o, o.owner)
    for o, csm in by_account.values():
        m = o.milestone
        state = f"{m.status}|{m.due_date}|{m.updated_on}"
        fs = states.get(m.id)
        if fs is not None and ((fs.snoozed_until and fs.snoozed_until > now)
                               or (fs.state == state and fs.nagged_at > now - quiet)):
            quieted += 1
            continue
        if not csm.slack_user_id:
            continue
        thread = f"followup:{m.id}:{uuid.uuid4().hex}"  # each draft its own thread, even from sweeps at once
        try:
            result = assistant().ask("draft a follow-up for the overdue onboarding milestone", csm.email, thread,
                                      preset={"intents": ["onboarding"],
                                              "accounts": [{"account_id": o.account_id, "name": o.account}]})
        except Exception as exc:  # noqa: BLE001 - one account's odd data must not stop the others
            log.exception("onboarding sweep: milestone %s failed: %s", m.id, type(exc).__name__)
            failed += 1
            continue
        for d in result.get("pending", []):
            text, bl = kit.approval(d, thread)
            enqueue(rt.store, "onboarding:sweep", f"{now:%Y-%m-%d}", f"{csm.slack_user_id}:{m.id}",
                    csm.slack_user_id, text, bl, [o.account_id])
            drafted += 1
        _nagged(rt.store, m.id, {"state": state, "nagged_at": now, "snoozed_until": None, "thread": thread})
    sent = deliver_outbox()
    return {"drafted": drafted, "quiet": quieted, "failed": failed, **sent}


def _nagged(store: CRMStore, milestone_id: int, values: dict[str, Any]) -> None:
    """Record a milestone's follow-up; another sweep running at once may be recording the same one."""
    mine = update(FollowUpState).where(FollowUpState.milestone_id == milestone_id).values(**values)
    try:
        with store.engine.begin() as conn:
            if not conn.execute(mine).rowcount:
                conn.execute(insert(FollowUpState).values(milestone_id=milestone_id, **values))
    except IntegrityError:  # the other sweep inserted it first
        with store.engine.begin() as conn:
            conn.execute(mine)


def nightly() -> dict[str, Any]:
    """Save today's health snapshots and sync the memory."""
    rt = _rt()
    n = save_snapshots(rt.store, rt.scores.get(rt.tool_context(OPERATOR)))  # also kept for every worker
    mem: dict[str, Any]
    try:
        mem = rt.memory.sync()
    except Exception as exc:  # noqa: BLE001 - no embedding model: snapshots still count
        mem = {"skipped": type(exc).__name__}
    return {"snapshots": n, "memory": mem}


def deliver_outbox(on_sent: Callable[[str, str], None] | None = None) -> dict[str, Any]:
    """Send what is due in the outbox, each message only if its recipient may still have it."""
    store = _rt().store
    return deliver(store, client(), gate=lambda channel, accounts: delivery_refusal(store, channel, accounts),
                   on_sent=on_sent)


def warehouse_sync() -> dict[str, Any]:
    """Read the warehouse's new rows (every source of the mapping file)."""
    from tools import warehouse

    rt = _rt()
    w = rt.settings.warehouse
    runs = warehouse.run(rt.store, w.mapping_file, w.url.get_secret_value())
    return {r["source"]: {k: r[k] for k in ("rows", "inserted", "updated", "rejected")} for r in runs}


def sync_crm(crm: str) -> dict[str, Any]:
    """Read what changed in a CRM (HubSpot or Salesforce) since the last run."""
    rt = _rt()
    source, mapping = crm_sync.connect(rt.settings, crm)
    out = crm_sync.run(rt.store, source, mapping, page_size=rt.settings.connectors.page_size,
                       max_pages=rt.settings.connectors.max_pages)
    return {"status": out["status"], **{k["kind"]: {n: k[n] for n in ("rows", "inserted", "updated", "rejected")}
                                        for k in out["kinds"]}}


def job_specs(store: CRMStore, settings: Any = None) -> list[JobSpec]:
    """Every job the schedules config (and the warehouse setting) asks for, with fixed ids."""
    cfg = load_schedules()
    specs: list[JobSpec] = []
    b = cfg["briefings"]
    with store.session() as s:
        csms = list(s.scalars(select(CSM).where(CSM.role == "csm", CSM.active.is_(True)).order_by(CSM.id)))
        managers = {c.team: c for c in s.scalars(select(CSM).where(CSM.role == "manager", CSM.active.is_(True)))}
    for c in csms:
        sched = {**b["csm"], **(b.get("overrides") or {}).get(c.email, {})}
        hh, mm = sched["time"].split(":")
        specs.append(JobSpec(f"brief:csm:{c.id}", "retain.jobs:briefing", ["csm", c.id], "cron",
                             {"hour": int(hh), "minute": int(mm), "day_of_week": sched.get("days", "mon-fri"),
                              "timezone": c.timezone or "UTC"}, f"Briefing for {c.name} ({sched['cadence']})"))
    for team, channel in (b.get("teams") or {}).items():
        mgr = managers.get(team)
        hh, mm = b.get("team_time", "08:30").split(":")
        specs.append(JobSpec(f"brief:team:{team}", "retain.jobs:briefing", ["team", team], "cron",
                             {"hour": int(hh), "minute": int(mm), "day_of_week": "mon-fri",
                              "timezone": (mgr.timezone if mgr else None) or "UTC"},
                             f"Team roll-up {team} → {channel}"))
    sw = cfg["onboarding_sweep"]
    specs.append(JobSpec("onboarding:sweep", "retain.jobs:onboarding_sweep", [], "interval",
                         {"minutes": int(sw["every_minutes"])}, "Onboarding follow-up sweep"))
    q = cfg.get("qbr_prep")
    if q:  # retain/qbr_prep.py: the owner's deck before a review or a renewal
        hh, mm = str(q["time"]).split(":")
        specs.append(JobSpec("qbr:prep", "retain.qbr_prep:run", [], "cron",
                             {"hour": int(hh), "minute": int(mm), "timezone": q.get("timezone", "UTC")},
                             f"QBR decks {q['meeting_days_before']} days before a review, "
                             f"{q['renewal_days_before']} before a renewal"))
    n = cfg["nightly"]
    hh, mm = n["time"].split(":")
    specs.append(JobSpec("nightly", "retain.jobs:nightly", [], "cron",
                         {"hour": int(hh), "minute": int(mm), "timezone": n.get("timezone", "UTC")},
                         "Health snapshots and memory sync"))
    specs.append(JobSpec("outbox:deliver", "retain.jobs:deliver_outbox", [], "interval",
                         {"seconds": int(cfg["outbox"]["every_seconds"])}, "Deliver the outbox"))
    if settings is not None and settings.warehouse.mapping_file:
        specs.append(JobSpec("sync:warehouse", "retain.jobs:warehouse_sync", [], "interval",
                             {"minutes": int(settings.warehouse.every_minutes)}, "Warehouse sync"))
    if settings is not None:
        for crm in crm_sync.configured(settings):
            specs.append(JobSpec(f"sync:{crm}", "retain.jobs:sync_crm", [crm], "interval",
                                 {"minutes": int(settings.connectors.every_minutes)},
                                 f"{'HubSpot' if crm == 'hubspot' else 'Salesforce'} sync"))
    return specs


def scheduler(services: Services, executor: str = "threadpool") -> Scheduler:
    """The scheduler for these services, its jobs configured to run with them."""
    if not configured(services):
        configure(services)
    return Scheduler(services.store, lambda: job_specs(services.store, services.settings), executor=executor,
                     lease_s=services.settings.scheduler.lease_s)
