"""The scheduled jobs, referenced by APScheduler as `integrations.jobs:<name>`.

Each job is safe to run twice for the same slot: what it sends goes through the outbox, keyed by
(job, slot, recipient), so a repeated run writes nothing new and nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from integrations.crm.models import CSM, Account, FollowUpState, Milestone, OnboardingPlan, Outbox
from integrations.scheduler import deliver, enqueue, load_schedules, slot_for
from retain.faults import fault

log = logging.getLogger("retain.jobs")
_STATE: dict[str, Any] = {}


def configure(runtime: Any, client: Any = None, assistant: Any = None, clock: Any = None) -> None:
    """Give the jobs their runtime (and, in tests, a Web API client, an assistant, a clock)."""
    _STATE.update(runtime=runtime, client=client, assistant=assistant, clock=clock or datetime.utcnow)


def _rt() -> Any:
    if "runtime" not in _STATE:
        raise RuntimeError("integrations.jobs.configure() was not called")
    return _STATE["runtime"]


def _client() -> Any:
    if _STATE.get("client") is None:
        from integrations.slack.app import load_slack_config, secrets
        from integrations.slack.client import make_client

        rt = _rt()
        _STATE["client"] = make_client(secrets(rt.settings)["bot_token"], rt.settings.slack.base_url,
                                       load_slack_config(rt.settings.slack.config_file).link_hosts)
    return _STATE["client"]


def _assistant() -> Any:
    if _STATE.get("assistant") is None:
        from agents.graph import build_assistant

        _STATE["assistant"] = build_assistant(_rt(), warn=log.warning)
    return _STATE["assistant"]


def _now() -> datetime:
    return _STATE.get("clock", datetime.utcnow)()  # naive UTC


def briefing(kind: str, ident: Any) -> dict[str, Any]:
    """Build one briefing (a CSM's, or a team roll-up), put it in the outbox for its slot, deliver."""
    from zoneinfo import ZoneInfo

    from agents import briefing as brief
    from agents.state import Deps

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
    if done is None:
        deps = Deps(runtime=rt, chat=_assistant().chat, use_memory=False)
        since = None
        if last and len(last) == 10:
            from datetime import date

            since = date.fromisoformat(last)
        b = brief.build(deps, who, since)
        with rt.store.session() as s:
            names = list(s.scalars(select(Account.name)))
        opening = brief.summary(deps, b, names)
        text = brief.render_text(b, opening)
        blocks = _blocks(text)
        enqueue(rt.store, job, slot, channel, channel, text[:39000], blocks)
        fault("after_outbox_write")
    return {"slot": slot, **deliver(rt.store, _client())}


def _blocks(text: str) -> list[dict[str, Any]]:
    from integrations.slack.safe import clean, cut

    out: list[dict[str, Any]] = []
    for part in text.split("\n\n"):
        if part.strip():
            out.append({"type": "section", "text": {"type": "mrkdwn", "text": cut(clean(part), 3000)}})
    return out[:50]


def onboarding_sweep() -> dict[str, Any]:
    """Overdue or stalled milestones get a drafted follow-up to the owning CSM, unless nagged or snoozed."""
    from integrations.slack import blocks as kit

    rt = _rt()
    cfg = load_schedules()["onboarding_sweep"]
    now = _now()
    today = rt.settings.as_of()
    quiet = timedelta(days=float(cfg["quiet_days"]))
    stalled = today - timedelta(days=int(cfg["stalled_days"]))
    drafted, quieted, failed = 0, 0, 0
    with rt.store.session() as s:
        rows = s.execute(select(Milestone, OnboardingPlan.account_id, Account.name, CSM)
                         .join(OnboardingPlan, Milestone.plan_id == OnboardingPlan.id)
                         .join(Account, Account.id == OnboardingPlan.account_id)
                         .join(CSM, CSM.id == Account.owner_id)
                         .where(Milestone.completed_date.is_(None), Account.lifecycle_stage != "churned")
                         .order_by(Milestone.due_date)).all()
        states = {f.milestone_id: f for f in s.scalars(select(FollowUpState))}
    by_account: dict[int, tuple[Any, str, Any]] = {}
    for m, aid, name, csm in rows:
        late = m.due_date < today
        stuck = m.status in ("in_progress", "blocked") and (m.updated_on or m.due_date) < stalled
        if (late or stuck) and aid not in by_account:
            by_account[aid] = (m, name, csm)
    for m, name, csm in by_account.values():
        state = f"{m.status}|{m.due_date}|{m.updated_on}"
        fs = states.get(m.id)
        if fs is not None and ((fs.snoozed_until and fs.snoozed_until > now)
                               or (fs.state == state and fs.nagged_at > now - quiet)):
            quieted += 1
            continue
        if not csm.slack_user_id:
            continue
        thread = f"followup:{m.id}:{now:%Y%m%d%H%M}"
        try:
            result = _assistant().ask(f"draft a follow-up for {name}'s onboarding", csm.email, thread)
        except Exception as exc:  # noqa: BLE001 - one account's odd data must not stop the others
            log.exception("onboarding sweep: milestone %s failed: %s", m.id, type(exc).__name__)
            failed += 1
            continue
        for d in result.get("pending", []):
            text, bl = kit.approval(d, thread)
            enqueue(rt.store, "onboarding:sweep", f"{now:%Y-%m-%d}", f"{csm.slack_user_id}:{m.id}",
                    csm.slack_user_id, text, bl)
            drafted += 1
        with rt.store.session() as s:
            row = s.get(FollowUpState, m.id) or FollowUpState(milestone_id=m.id)
            row.state, row.nagged_at, row.snoozed_until, row.thread = state, now, None, thread
            s.merge(row)
            s.commit()
    sent = deliver(rt.store, _client())
    return {"drafted": drafted, "quiet": quieted, "failed": failed, **sent}


def nightly() -> dict[str, Any]:
    """Save today's health snapshots and sync the memory."""
    from tools.health import save_snapshots, score_portfolio

    rt = _rt()
    n = save_snapshots(rt.store, score_portfolio(rt.store, rt.card, rt.settings.as_of()))
    try:
        mem = rt.memory.sync()
    except Exception as exc:  # noqa: BLE001 - no embedding model: snapshots still count
        mem = {"skipped": type(exc).__name__}
    return {"snapshots": n, "memory": mem}


def deliver_outbox() -> dict[str, Any]:
    """Send what is due in the outbox."""
    return deliver(_rt().store, _client())
