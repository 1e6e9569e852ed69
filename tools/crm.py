"""The CRM tools agents call about accounts. Each returns plain JSON with `sources` an answer can cite.

The tool context and source references live in `tools.context`, account names in `tools.names`;
both are re-exported here, so `crm.find_account`, `crm.ToolContext` and `crm.src` keep working.

Access is checked here, in code, on every call: a tool never returns an account the viewer may
not see, whatever the caller (model, router, CLI) asked for.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from core import figures
from core.errors import NotFoundError
from core.lazy import lazy
from integrations.crm.models import CSM, Contact, Milestone, OnboardingPlan, SurveyResponse, Ticket
from tools import access
from tools.context import Source, ToolContext, src
from tools.detectors import detect, telemetry
from tools.names import IN_TEXT_CUTOFF, LOOKUP_CUTOFF, find_account, live_account_names, looks_like_name
from tools.plain import scalar as _clean
from tools.renewal_model import FEATURES
from tools.results import (
    AccountOverview,
    Component,
    ContactBrief,
    Driver,
    HealthBreakdown,
    MilestoneItem,
    ModelPerformance,
    NpsItem,
    NpsSummary,
    OnboardingStatus,
    Portfolio,
    PortfolioRow,
    RenewalDriver,
    RenewalOutlook,
    Segment,
    TicketItem,
    Tickets,
    UsageTrend,
    Week,
)
from tools.score_view import ScoreView

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

__all__ = ["IN_TEXT_CUTOFF", "LOOKUP_CUTOFF", "Source", "ToolContext", "account_overview", "find_account",
           "health_breakdown", "list_tickets", "live_account_names", "looks_like_name", "model_performance",
           "nps_summary", "onboarding_status", "portfolio", "renewal_outlook", "segments", "src", "usage_trend"]


def _view(ctx: ToolContext, account_id: int) -> ScoreView:
    """The day's scores, read per account (no pandas for a stored run), once the account is known and visible."""
    v = ctx.view()
    if account_id not in v:
        raise NotFoundError(f"Account {account_id} is not a live account.")
    access.check(ctx.store, ctx.viewer, account_id, "That account")  # no name: the asker may not see it
    return v


def health_breakdown(ctx: ToolContext, account_id: int) -> HealthBreakdown:
    """Health score, band and trend with each component's value and contribution, and the top drivers."""
    v = _view(ctx, account_id)
    comps: list[Component] = []
    for cname, comp in ctx.card.components.items():
        comps.append({"component": cname, "label": comp.label, "weight": comp.weight,
                      "value": _clean(v.component(account_id, cname)),
                      "points": _clean(v.contribution(account_id, cname))})
    prev = v.previous(account_id)
    d = v.drivers(account_id)
    row = v.row(account_id)
    score = v.score(account_id)
    return {
        "account_id": account_id, "name": row["name"], "score": score,
        "band": v.band(account_id), "score_30d_ago": _clean(prev),
        "trend": _clean(score - prev), "components": comps,
        "drivers": d["negative"], "strengths": d["positive"],
        "sources": [src("health_score", account_id, ctx.as_of, f"Health score {row['name']}")]
        + _driver_sources(account_id, row, d["negative"]),
    }


def _gap(v: Any) -> bool:
    """Whether a feature value marks a gap (None or NaN), as `pd.isna` says for a scalar."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def _driver_sources(account_id: int, row: Any, items: list[Driver]) -> list[Source]:
    out = []
    for it in items:
        m = it["metric"]
        if m == "nps" and not _gap(row.get("nps_id")):
            out.append(src("nps", int(row["nps_id"]), row.get("nps_date"), f"NPS {int(row['nps'])}"))
        elif m in ("usage_change_30d", "seat_utilization", "p95_ratio", "error_rate"):
            out.append(src("telemetry", f"{account_id}:{m}", row.get("last_usage_day"), m))
        elif m == "champion_present" and isinstance(row.get("champion_left_on"), date):
            out.append(src("contact", row["champion_left_name"], row["champion_left_on"],
                           f"{row['champion_left_name']} left"))
        elif m == "days_to_renewal":
            out.append(src("contract", int(row["contract_id"]), row["renewal_date"], "Contract"))
        elif m == "note_tone" and isinstance(row.get("tone_turn_on"), date) and not _gap(row.get("tone_turn_ref")):
            kind = str(row["tone_turn_kind"])
            out.append(src(kind, int(row["tone_turn_ref"]), row["tone_turn_on"],
                           {"ticket": "Ticket", "nps": "Survey comment"}.get(kind, "Note")))
    return out


def account_overview(ctx: ToolContext, account_id: int) -> AccountOverview:
    """Who the customer is: segment, ARR, owner, plan, renewal date, contacts and champion."""
    v = _view(ctx, account_id)
    row = v.row(account_id)
    with ctx.store.session() as s:
        owner = s.scalar(select(CSM.name).where(CSM.id == int(row["owner_id"])))
        contacts = s.execute(select(Contact).where(Contact.account_id == account_id)).scalars().all()
        people: list[ContactBrief] = [{"name": c.name, "role": c.role, "champion": c.is_champion,
                   "left_on": c.left_on.isoformat() if c.left_on else None} for c in contacts]
    return {
        "account_id": account_id, "name": row["name"], "segment": row["segment"],
        "industry": row["industry"], "arr": float(row["arr"]), "owner": owner,
        "lifecycle_stage": row["lifecycle_stage"], "plan": row.get("plan"),
        "seats": _clean(row.get("seats")), "renewal_date": _iso(row.get("renewal_date")),
        "days_to_renewal": _clean(row.get("days_to_renewal")),
        "health_score": v.score(account_id), "band": v.band(account_id),
        "contacts": people,
        "sources": [src("account", account_id, None, row["name"]),
                    src("contract", _clean(row.get("contract_id")), row.get("renewal_date"), "Contract")],
    }


def _iso(v: Any) -> str | None:
    return v.isoformat() if isinstance(v, date) else None


def usage_trend(ctx: ToolContext, account_id: int, days: int = 90) -> UsageTrend:
    """Weekly API requests, active users and seats used over the last `days` days."""
    row = _view(ctx, account_id).row(account_id)
    tel = telemetry(ctx.store, account_id, ctx.as_of, days)
    if tel.empty:
        return {"account_id": account_id, "name": row["name"], "weeks": [], "sources": []}
    tel["week"] = pd.to_datetime(tel["day"]).dt.to_period("W").dt.start_time.dt.date
    weekly = tel.groupby("week").agg(requests=("api_requests", "sum"),
                                     active_users=("active_users", "max"),
                                     seats_used=("seats_used", "max"), spend=("spend", "sum"))
    weeks: list[Week] = [{"week": w.isoformat(), "requests": _clean(r["requests"]),
                          "active_users": _clean(r["active_users"]), "seats_used": _clean(r["seats_used"]),
                          "spend": _clean(r["spend"])} for w, r in weekly.iterrows()]
    return {"account_id": account_id, "name": row["name"],
            "usage_change_30d": _clean(row["usage_change_30d"]),
            "seat_utilization": _clean(row["seat_utilization"]), "weeks": weeks,
            "sources": [src("telemetry", f"{account_id}:usage", tel["day"].iloc[-1],
                            f"Daily usage {tel['day'].iloc[0]} to {tel['day'].iloc[-1]}")]}


def model_performance(ctx: ToolContext, account_id: int) -> ModelPerformance:
    """Latency, error rate, tokens and cost per request, model versions and fine-tune findings."""
    row = _view(ctx, account_id).row(account_id)
    tel = telemetry(ctx.store, account_id, ctx.as_of, 60)
    recent = tel.tail(14)
    req = max(1, int(recent["api_requests"].sum())) if not recent.empty else 1
    findings = (ctx.scores.detected(ctx, [account_id])[account_id] if ctx.scores
                else detect(ctx.store, account_id, ctx.as_of))
    srcs = [s for f in findings for s in f["sources"]]
    return {
        "account_id": account_id, "name": row["name"], "model_now": row.get("model_now"),
        "p50_ms": _clean(recent["p50_latency_ms"].mean()) if not recent.empty else None,
        "p95_ms": _clean(recent["p95_latency_ms"].mean()) if not recent.empty else None,
        "error_rate": _clean(row.get("error_rate")),
        "input_tokens_per_request": round(float(recent["input_tokens"].sum()) / req) if not recent.empty else None,
        "cost_per_request": round(float(recent["spend"].sum()) / req, 5) if not recent.empty else None,
        "eval_score": _clean(row.get("eval_score")), "findings": findings,
        "sources": srcs or [src("telemetry", f"{account_id}:performance", ctx.as_of, "Telemetry")],
    }


def list_tickets(ctx: ToolContext, account_id: int, status: str = "open", limit: int = 10) -> Tickets:
    """Support tickets of an account (open, closed or all), newest first."""
    name = _view(ctx, account_id).value(account_id, "name")
    stmt = select(Ticket).where(Ticket.account_id == account_id).order_by(Ticket.opened_at.desc())
    if status == "open":
        stmt = stmt.where(Ticket.status != "closed")
    elif status == "closed":
        stmt = stmt.where(Ticket.status == "closed")
    with ctx.store.session() as s:
        tickets = s.scalars(stmt.limit(limit)).all()
    items: list[TicketItem] = [{"id": t.id, "priority": t.priority, "status": t.status,
              "opened": t.opened_at.date().isoformat(), "subject": t.subject, "body": t.body}
             for t in tickets]
    return {"account_id": account_id, "name": name, "tickets": items,
            "sources": [src("ticket", t["id"], t["opened"], t["subject"]) for t in items]}


def nps_summary(ctx: ToolContext, account_id: int) -> NpsSummary:
    """NPS answers of the last year with comments, and the latest score."""
    name = _view(ctx, account_id).value(account_id, "name")
    with ctx.store.session() as s:
        rs = s.scalars(select(SurveyResponse).where(
            SurveyResponse.account_id == account_id, SurveyResponse.kind == "nps",
            SurveyResponse.responded_on > ctx.as_of - timedelta(days=365),
            SurveyResponse.responded_on <= ctx.as_of).order_by(SurveyResponse.responded_on.desc())).all()
    items: list[NpsItem] = [{"id": r.id, "score": r.score, "date": r.responded_on.isoformat(),
              "comment": r.comment,
              "category": "detractor" if r.score <= 6 else ("passive" if r.score <= 8 else "promoter")}
             for r in rs]
    return {"account_id": account_id, "name": name, "responses": items,
            "latest": items[0] if items else None,
            "sources": [src("nps", r["id"], r["date"], f"NPS {r['score']}") for r in items]}


def onboarding_status(ctx: ToolContext, account_id: int) -> OnboardingStatus:
    """The onboarding plan's milestones: done, overdue, blocked, and what is next."""
    name = _view(ctx, account_id).value(account_id, "name")
    with ctx.store.session() as s:
        plan = s.scalars(select(OnboardingPlan).where(OnboardingPlan.account_id == account_id)
                         .order_by(OnboardingPlan.started_on.desc())).first()
        if plan is None:
            return {"account_id": account_id, "name": name, "plan": None, "milestones": [],
                    "sources": []}
        ms = s.scalars(select(Milestone).where(Milestone.plan_id == plan.id)
                       .order_by(Milestone.seq)).all()
    items: list[MilestoneItem] = []
    for m in ms:
        done = m.completed_date is not None and m.completed_date <= ctx.as_of
        overdue = not done and m.due_date < ctx.as_of
        items.append({"id": m.id, "name": m.name, "owner": m.owner, "due": m.due_date.isoformat(),
                      "completed": m.completed_date.isoformat() if m.completed_date else None,
                      "status": m.status, "overdue": overdue,
                      "days_overdue": (ctx.as_of - m.due_date).days if overdue else 0})
    nxt = next((m for m in items if not m["completed"]), None)
    return {
        "account_id": account_id, "name": name,
        "plan": {"id": plan.id, "name": plan.name, "started": plan.started_on.isoformat(),
                 "target": plan.target_date.isoformat(), "status": plan.status},
        "progress": round(sum(1 for m in items if m["completed"]) / max(1, len(items)), 2),
        "milestones": items, "overdue": [m for m in items if m["overdue"]], "next": nxt,
        "sources": [src("onboarding_plan", plan.id, plan.started_on, plan.name)]
        + [src("milestone", m["id"], m["due"], m["name"]) for m in items if m["overdue"]],
    }


def renewal_outlook(ctx: ToolContext, account_id: int) -> RenewalOutlook:
    """Renewal date, ARR, health, P(renew) with its drivers, and the account's segment."""
    v = _view(ctx, account_id)
    row = v.row(account_id)
    p_renew: float | None = None
    model_drivers: list[RenewalDriver] = []
    if ctx.model is not None:
        one = v.numbers(FEATURES, [account_id])
        p_renew = round(float(ctx.model.predict(one)[0]), 3)
        model_drivers = ctx.model.drivers(one)[0]
    seg = segments(ctx, [account_id])[account_id]
    return {
        "account_id": account_id, "name": row["name"], "renewal_date": _iso(row.get("renewal_date")),
        "days_to_renewal": _clean(row.get("days_to_renewal")), "arr": float(row["arr"]),
        "health_score": v.score(account_id), "band": v.band(account_id),
        "p_renew": p_renew, "p_renew_drivers": model_drivers,
        "risk_drivers": v.drivers(account_id)["negative"],
        "segment": seg["segment"], "segment_reason": seg["reason"],
        "sources": [src("contract", _clean(row.get("contract_id")), row.get("renewal_date"),
                        f"Contract renewing {_iso(row.get('renewal_date'))}"),
                    src("health_score", account_id, ctx.as_of, "Health score")],
    }


def segments(ctx: ToolContext, account_ids: list[int] | None = None) -> dict[int, Segment]:
    """Each account's planning segment (at risk, growth potential, high-value, healthy) and why.

    Every rule reads only the account itself and fixed settings (`labels.high_value_arr`), so an
    account's segment is the same for every asker and moves only when that account does.
    """
    v = ctx.view()
    ids = v.ids if account_ids is None else account_ids
    p = ctx.model.predict(v.numbers(FEATURES, ids)) if ctx.model is not None else np.full(len(ids), np.nan)
    out: dict[int, Segment] = {}
    for k, aid in enumerate(ids):
        band, s = v.band(aid), v.score(aid)
        util, usage, arr = v.value(aid, "seat_utilization"), v.value(aid, "usage_change_30d"), v.value(aid, "arr")
        if band == "red" or (not math.isnan(p[k]) and p[k] < 0.6):
            why = f"health {figures.score(s)} ({band})" + (f", P(renew) {p[k]:.2f}" if not math.isnan(p[k]) else "")
            out[aid] = {"segment": "at risk", "reason": why}
        elif (not _gap(util) and util >= 0.9) or (not _gap(usage) and usage >= 0.2):
            why = (f"{figures.percent(util)} of seats in use" if not _gap(util) and util >= 0.9
                   else f"usage up {figures.percent(usage)} in 30 days")
            out[aid] = {"segment": "growth potential", "reason": why}
        elif arr >= ctx.high_value_arr:
            out[aid] = {"segment": "high-value",
                        "reason": f"ARR ${arr:,.0f} (high-value from ${ctx.high_value_arr:,.0f})"}
        else:
            out[aid] = {"segment": "healthy", "reason": f"health {figures.score(s)} ({band})"}
    return out


def portfolio(ctx: ToolContext, csm: str | None = None, band: str | None = None,
              segment: str | None = None, renewal_within_days: int | None = None,
              limit: int = 200) -> Portfolio:
    """The viewer's accounts, filtered by owner, band, segment or renewal window, worst first."""
    h = ctx.health()
    frame = ctx.visible(h.frame())
    with ctx.store.session() as s:
        owners: dict[int, str] = {i: n for i, n in s.execute(select(CSM.id, CSM.name))}
    if csm:
        ids = [i for i, n in owners.items() if csm.casefold() in n.casefold()]
        frame = frame[frame["owner_id"].isin(ids)]
    if band:
        frame = frame[frame["band"] == band]
    if renewal_within_days is not None:
        frame = frame[frame["days_to_renewal"].between(0, renewal_within_days)]
    segs = segments(ctx, frame.index.tolist()) if len(frame) else {}
    if segment:
        frame = frame.loc[[a for a in frame.index if segs[a]["segment"] == segment]]  # empty stays a frame
    frame = frame.sort_values("score")
    p = ctx.model.predict(h.features.loc[frame.index]) if ctx.model is not None and len(frame) else None
    rows: list[PortfolioRow] = []
    for k, (aid, r) in enumerate(frame.head(limit).iterrows()):
        rows.append({
            "account_id": int(aid), "name": r["name"], "owner": owners.get(int(r["owner_id"])),
            "segment": segs[aid]["segment"], "segment_reason": segs[aid]["reason"],
            "arr": float(r["arr"]), "score": float(r["score"]), "band": r["band"],
            "trend": _clean(r["trend"]), "renewal_date": _iso(r["renewal_date"]),
            "days_to_renewal": _clean(r["days_to_renewal"]),
            "p_renew": None if p is None else round(float(p[k]), 3),
        })
    return {"count": len(frame), "accounts": rows, "ids": [int(a) for a in frame.index],
            "sources": [src("health_score", r["account_id"], ctx.as_of, r["name"]) for r in rows[:20]]}
