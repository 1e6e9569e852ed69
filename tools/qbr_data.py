"""What a quarterly business review shows, read from the CRM for one account and one quarter.

Every figure comes with the record it came from (type, id, date), as the other CRM tools return
them, rounded as a slide shows it, so a slide, a chart and the speaker notes say the same number.
Access is checked on every call.
"""

from __future__ import annotations

import calendar
import re
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from sqlalchemy import String, cast, func, select

from core.errors import RetainError
from integrations.crm.models import Account, Activity, Contract, FineTuneJob, SurveyResponse, TelemetryDaily, Ticket
from tools import access
from tools.crm import Source, ToolContext, src

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*q([1-4])\s*$|^\s*q([1-4])\s*-?\s*(\d{4})\s*$", re.I)
PRIORITIES = ("urgent", "high", "normal", "low")


class QuarterError(RetainError):
    """A quarter that cannot be read, or one that has not started yet."""


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, and the part of it that has happened by the review's date."""

    year: int
    q: int
    start: date
    end: date  # the quarter's last day
    until: date  # the last day with data: the quarter's end, or the day before today

    @property
    def label(self) -> str:
        """'2026Q4'."""
        return f"{self.year}Q{self.q}"


def quarter(text: str | None, as_of: date) -> Quarter:
    """The quarter named by '2026Q4' (or 'Q4 2026'); None means the quarter `as_of` falls in."""
    if text is None or not text.strip():
        year, q = as_of.year, (as_of.month - 1) // 3 + 1
    else:
        m = _QUARTER.match(text)
        if not m:
            raise QuarterError(f"'{text}' is not a quarter. Write it as YEARQn, e.g. --quarter {as_of.year}Q"
                               f"{(as_of.month - 1) // 3 + 1}.")
        year, q = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
    if start > as_of:
        raise QuarterError(f"{year}Q{q} has not started yet (today is {as_of}). Pick this quarter or an earlier one.")
    return Quarter(year, q, start, end, min(end, as_of - timedelta(days=1)))


class Month(TypedDict):
    """A month of usage; `in_quarter` for the quarter's own months (the rest come before, for comparison)."""

    month: str  # YYYY-MM
    label: str  # "Dec 2026 (1-7)" while the month runs
    tokens_m: float
    requests_k: float
    active_seats: int
    days: int
    in_quarter: bool
    source: Source


class MonthlyUsage(TypedDict):
    """`monthly_usage`."""

    account_id: int
    name: str
    months: list[Month]


class Version(TypedDict):
    """A model version used in the quarter."""

    model: str
    version: str
    label: str
    requests: int
    p95_ms: int
    error_pct: float
    first: str
    last: str
    source: Source


class ModelVersions(TypedDict):
    """`model_versions`."""

    account_id: int
    name: str
    versions: list[Version]


class Job(TypedDict):
    """A fine-tune job."""

    id: int
    created: str
    status: str
    base_model: str
    eval_score: float | None
    source: Source


class FineTunes(TypedDict):
    """`fine_tunes`."""

    account_id: int
    name: str
    jobs: list[Job]


class Incident(TypedDict):
    """A notable (urgent or high) ticket of the quarter."""

    id: int
    priority: str
    subject: str
    status: str
    opened: str
    closed: str | None
    source: Source


class Support(TypedDict):
    """`support`: the quarter's tickets by priority, days to resolve, notable incidents."""

    account_id: int
    name: str
    total: int
    by_priority: dict[str, int]
    closed: int
    median_days: float | None
    still_open: int
    sources: list[Source]
    notable: list[Incident]


class NpsAnswer(TypedDict):
    """An NPS answer with its comment."""

    id: int
    score: int
    date: str
    comment: str
    category: str
    source: Source


class NpsTrend(TypedDict):
    """`nps_trend`: the year's NPS answers to the quarter's end, oldest first."""

    account_id: int
    name: str
    responses: list[NpsAnswer]


class Review(TypedDict):
    """An account with a review meeting or a renewal ahead."""

    account_id: int
    account: str
    owner_id: int | None
    what: str  # review | renewal
    when: date
    source: Source


def _account(ctx: ToolContext, account_id: int) -> str:
    """The account's name, once the viewer is allowed to see it."""
    access.check(ctx.store, ctx.viewer, account_id, "That account")
    with ctx.store.session() as s:
        return str(s.scalar(select(Account.name).where(Account.id == account_id)))


def monthly_usage(ctx: ToolContext, account_id: int, q: Quarter, months_before: int = 3) -> MonthlyUsage:
    """Tokens (millions), requests (thousands) and peak active seats by month, this quarter and `months_before`."""
    name = _account(ctx, account_id)
    first = date(q.start.year - (q.start.month <= months_before), (q.start.month - months_before - 1) % 12 + 1, 1)
    t = TelemetryDaily
    month = func.substr(cast(t.day, String), 1, 7)
    stmt = (select(month.label("month"), func.sum(t.input_tokens + t.output_tokens), func.sum(t.api_requests),
                   func.max(t.seats_used), func.max(t.day), func.count())
            .where(t.account_id == account_id, t.day >= first, t.day <= q.until).group_by(month).order_by(month))
    with ctx.store.session() as s:
        rows = s.execute(stmt).all()
    months: list[Month] = []
    for m, tokens, requests, seats, last, days in rows:
        last_day = last if isinstance(last, date) else date.fromisoformat(str(last)[:10])
        label = last_day.strftime("%b %Y")
        if last_day.day < calendar.monthrange(last_day.year, last_day.month)[1]:  # a month still running
            label += f" (1-{last_day.day})"  # so its lower total is not read as a drop
        months.append({"month": str(m), "label": label, "tokens_m": round(float(tokens) / 1e6, 1),
                       "requests_k": round(float(requests) / 1e3, 1), "active_seats": int(seats),
                       "days": int(days), "in_quarter": last_day >= q.start,
                       "source": src("telemetry", f"{account_id}:usage:{m}", last_day,
                                     f"Daily usage, {label} ({days} days)")})
    return {"account_id": account_id, "name": name, "months": months}


def model_versions(ctx: ToolContext, account_id: int, q: Quarter) -> ModelVersions:
    """Per model and version used in the quarter: requests, mean daily p95 latency and error rate."""
    name = _account(ctx, account_id)
    t = TelemetryDaily
    stmt = (select(t.model_name, t.model_version, func.sum(t.api_requests), func.avg(t.p95_latency_ms),
                   func.sum(t.error_rate * t.api_requests), func.min(t.day), func.max(t.day))
            .where(t.account_id == account_id, t.day >= q.start, t.day <= q.until)
            .group_by(t.model_name, t.model_version).order_by(func.min(t.day)))
    with ctx.store.session() as s:
        rows = s.execute(stmt).all()
    out: list[Version] = []
    for model, version, requests, p95, errors, first, last in rows:
        out.append({"model": model, "version": version, "label": f"{model} {version}", "requests": int(requests),
                    "p95_ms": round(float(p95)), "error_pct": round(100 * float(errors) / max(1, int(requests)), 2),
                    "first": str(first)[:10], "last": str(last)[:10],
                    "source": src("telemetry", f"{account_id}:{model}:{version}", last,
                                  f"{model} {version}, {str(first)[:10]} to {str(last)[:10]}")})
    return {"account_id": account_id, "name": name, "versions": out}


def fine_tunes(ctx: ToolContext, account_id: int, q: Quarter) -> FineTunes:
    """Fine-tune jobs of the last year up to the quarter's end, newest first, with their eval scores."""
    name = _account(ctx, account_id)
    f = FineTuneJob
    with ctx.store.session() as s:
        jobs = s.scalars(select(f).where(f.account_id == account_id, f.created_on > q.until - timedelta(days=365),
                                         f.created_on <= q.until).order_by(f.created_on.desc())).all()
    items: list[Job] = [{"id": j.id, "created": j.created_on.isoformat(), "status": j.status,
                         "base_model": j.base_model,
                         "eval_score": None if j.eval_score is None else round(float(j.eval_score), 2),
                         "source": src("fine_tune", j.id, j.created_on, f"Fine-tune of {j.base_model}")}
                        for j in jobs]
    return {"account_id": account_id, "name": name, "jobs": items}


def support(ctx: ToolContext, account_id: int, q: Quarter, notable: int = 3) -> Support:
    """Tickets opened in the quarter by priority, days to resolve the closed ones, the notable incidents."""
    name = _account(ctx, account_id)
    tk = Ticket
    with ctx.store.session() as s:
        rows = s.scalars(select(tk).where(tk.account_id == account_id, tk.opened_at >= q.start,
                                          tk.opened_at < q.until + timedelta(days=1))
                         .order_by(tk.opened_at)).all()
    by_priority = {p: sum(1 for r in rows if r.priority == p) for p in PRIORITIES}
    closed = [r for r in rows if r.closed_at is not None and r.closed_at.date() <= q.until]
    days = [(r.closed_at - r.opened_at).total_seconds() / 86400 for r in closed if r.closed_at is not None]
    top = sorted((r for r in rows if r.priority in ("urgent", "high")),
                 key=lambda r: (PRIORITIES.index(r.priority), r.opened_at))[:notable]
    return {"account_id": account_id, "name": name, "total": len(rows), "by_priority": by_priority,
            "closed": len(closed), "median_days": round(statistics.median(days), 1) if days else None,
            "still_open": sum(1 for r in rows if r.status != "closed"),
            "sources": [src("ticket", r.id, r.opened_at.date(), r.subject) for r in rows],
            "notable": [{"id": r.id, "priority": r.priority, "subject": r.subject, "status": r.status,
                         "opened": r.opened_at.date().isoformat(),
                         "closed": r.closed_at.date().isoformat() if r.closed_at else None,
                         "source": src("ticket", r.id, r.opened_at.date(), r.subject)} for r in top]}


def nps_trend(ctx: ToolContext, account_id: int, q: Quarter) -> NpsTrend:
    """NPS answers of the year up to the quarter's end, oldest first, with their comments."""
    name = _account(ctx, account_id)
    r = SurveyResponse
    with ctx.store.session() as s:
        rows = s.scalars(select(r).where(r.account_id == account_id, r.kind == "nps",
                                         r.responded_on > q.until - timedelta(days=365), r.responded_on <= q.until)
                         .order_by(r.responded_on, r.id)).all()
    return {"account_id": account_id, "name": name, "responses": [
        {"id": x.id, "score": int(x.score), "date": x.responded_on.isoformat(), "comment": (x.comment or "").strip(),
         "category": "detractor" if x.score <= 6 else ("passive" if x.score <= 8 else "promoter"),
         "source": src("nps", x.id, x.responded_on, f"NPS {x.score}")} for x in rows]}


REVIEW_WORDS = r"\b(qbr|ebr|business review|quarterly review)\b"


def upcoming_reviews(ctx: ToolContext, meeting_days: int, renewal_days: int) -> list[Review]:
    """Accounts the viewer sees with a review meeting or a renewal ahead: (account, what, when, source).

    A review meeting is a CRM activity of kind meeting dated today or later whose subject names a
    QBR/EBR/business review, within `meeting_days`; a renewal is an active contract renewing within
    `renewal_days`. One row per account and event; the earliest event first.
    """
    today = ctx.as_of
    owners = access.visible_owner_ids(ctx.store, ctx.viewer)
    a, act, c = Account, Activity, Contract
    live = (a.lifecycle_stage != "churned") if owners is None else \
        (a.lifecycle_stage != "churned") & a.owner_id.in_(owners)
    with ctx.store.session() as s:
        meetings = s.execute(select(a.id, a.name, a.owner_id, act.id, act.occurred_on, act.subject).join(
            act, act.account_id == a.id).where(live, act.kind == "meeting", act.occurred_on >= today,
                                               act.occurred_on <= today + timedelta(days=meeting_days))).all()
        renewals = s.execute(select(a.id, a.name, a.owner_id, c.id, c.renewal_date).join(c, c.account_id == a.id)
                             .where(live, c.status == "active", c.renewal_date >= today,
                                    c.renewal_date <= today + timedelta(days=renewal_days))).all()
    out: list[Review] = [{"account_id": r[0], "account": r[1], "owner_id": r[2], "what": "review", "when": r[4],
            "source": src("activity", r[3], r[4], r[5])} for r in meetings if re.search(REVIEW_WORDS, r[5], re.I)]
    out += [{"account_id": r[0], "account": r[1], "owner_id": r[2], "what": "renewal", "when": r[4],
             "source": src("contract", r[3], r[4], "Contract renewal")} for r in renewals]
    out.sort(key=lambda e: (e["when"], e["account_id"]))
    return out


__all__ = ["PRIORITIES", "FineTunes", "Job", "ModelVersions", "Month", "MonthlyUsage", "NpsTrend", "Quarter",
           "QuarterError", "Review", "Source", "Support", "Version", "fine_tunes", "model_versions", "monthly_usage",
           "nps_trend", "quarter", "support", "upcoming_reviews"]
