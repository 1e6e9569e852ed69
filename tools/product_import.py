"""The AI vendor's own product signals as importable kinds.

Telemetry, raw request events, fine-tune jobs, onboarding plans and milestones, renewal history.
Each kind has a row schema (validated like the CRM kinds), a key that makes re-imports idempotent,
and a writer that upserts a whole file in the caller's transaction:

- `telemetry`: one row per account and day (key: account, day).
- `requests`: raw request events (timestamp, tokens, latency, error, cost, model, user), aggregated to
  the same daily rows: requests counted, tokens and cost summed, p50/p95 of latency, error share,
  distinct users, the day's most used model. A day present in the file replaces that day's row.
- `fine_tunes`: jobs keyed by the vendor's job id, with hyperparameters (a JSON column, or `hp_*`
  columns), the loss curve's summary and the eval score.
- `plans` / `milestones`: onboarding plans keyed by their id; milestones name their plan's id.
- `renewals`: past renewals keyed by (account, renewal date). The renewal model learns from the
  account's features 90 days before each renewal: given as a `features` JSON column, or as one
  column per feature, else computed from the CRM data already imported.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Table, and_, select, tuple_, update

from integrations.crm.importer import _date, overlay
from integrations.crm.importer import _describe as describe
from integrations.crm.models import (
    Account,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    RenewalEvent,
    TelemetryDaily,
)
from tools.stored_rows import raw_key


def _datetime(v: Any) -> Any:
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            try:
                return float(s)  # epoch seconds
            except ValueError:
                raise ValueError(f"'{s}' is not a timestamp (use ISO 8601, e.g. 2026-11-02T14:03:11Z)") from None
    return v


def _share(v: Any) -> Any:
    """0.012, '1.2%' -> 0.012."""
    if isinstance(v, str) and v.strip().endswith("%"):
        return float(v.strip()[:-1].replace(",", "")) / 100
    return v


def _number(v: Any) -> Any:
    if isinstance(v, str):
        return v.replace(",", "").replace("$", "").strip() or None
    return v


class TelemetryRow(BaseModel):
    """One account's use of the product on one day."""

    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    account_external_id: str = Field(min_length=1)
    day: date
    api_requests: int = Field(ge=0)
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    active_users: int = Field(0, ge=0)
    seats_used: int | None = Field(None, ge=0)
    p50_latency_ms: float = Field(ge=0)
    p95_latency_ms: float = Field(ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    spend: float = Field(0.0, ge=0)
    model_name: str = Field(min_length=1)
    model_version: str = ""

    _d = field_validator("day", mode="before")(_date)
    _s = field_validator("error_rate", mode="before")(_share)
    _n = field_validator("api_requests", "input_tokens", "output_tokens", "spend", "active_users",
                         "p50_latency_ms", "p95_latency_ms", mode="before")(_number)

    @field_validator("model_version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return "" if v is None else str(v)

    @model_validator(mode="after")
    def _check(self) -> TelemetryRow:
        if self.p95_latency_ms < self.p50_latency_ms:
            raise ValueError(f"p95_latency_ms {self.p95_latency_ms:g} is below p50_latency_ms {self.p50_latency_ms:g}")
        if self.seats_used is None:
            self.seats_used = self.active_users
        return self


class RequestRow(BaseModel):
    """One API request as the vendor's metering logs it."""

    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    account_external_id: str = Field(min_length=1)
    timestamp: datetime
    user_id: str | None = None
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    latency_ms: float = Field(ge=0)
    error: bool = False
    cost: float = Field(0.0, ge=0)
    model_name: str = Field(min_length=1)
    model_version: str = ""

    _n = field_validator("input_tokens", "output_tokens", "latency_ms", "cost", mode="before")(_number)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts(cls, v: Any) -> Any:
        v = _datetime(v)
        return datetime.utcfromtimestamp(v) if isinstance(v, int | float) else v

    @field_validator("error", mode="before")
    @classmethod
    def _error(cls, v: Any) -> Any:
        """true/false/yes/no/1/0, or an HTTP status (>= 400 is an error)."""
        if v is None or v == "":
            return False
        s = str(v).strip().lower()
        if s.isdigit() and len(s) == 3:
            return int(s) >= 400
        if s in ("1", "true", "yes", "y", "error", "failed"):
            return True
        if s in ("0", "false", "no", "n", "ok", "success"):
            return False
        raise ValueError(f"'{v}' is not an error flag (true/false, or an HTTP status)")

    @field_validator("model_version", "user_id", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v is None else str(v)


class FineTuneRow(BaseModel):
    """A fine-tuning job."""

    model_config = {"extra": "allow", "str_strip_whitespace": True}
    external_id: str = Field(min_length=1)
    account_external_id: str = Field(min_length=1)
    created_on: date
    status: Literal["succeeded", "failed", "running"]
    base_model: str = Field(min_length=1)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    loss_start: float | None = None
    loss_min: float | None = None
    loss_final: float | None = None  # NaN when the run diverged
    loss_summary: str | None = None
    eval_score: float | None = None

    _d = field_validator("created_on", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "").strip().lower()
        return {"completed": "succeeded", "success": "succeeded", "done": "succeeded", "cancelled": "failed",
                "canceled": "failed", "error": "failed", "queued": "running", "validating_files": "running",
                "in_progress": "running"}.get(s, s)

    @field_validator("hyperparameters", mode="before")
    @classmethod
    def _hp(cls, v: Any) -> Any:
        if v is None or v == "":
            return {}
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                raise ValueError('hyperparameters is not JSON (e.g. {"learning_rate": 2e-5, "epochs": 3})') from None
        return v

    @model_validator(mode="after")
    def _hp_columns(self) -> FineTuneRow:
        """`hp_learning_rate`, `hp_epochs`, ... columns join the hyperparameters."""
        for k, v in (self.model_extra or {}).items():
            if k.startswith("hp_") and v not in (None, ""):
                try:
                    num = float(v)
                    self.hyperparameters[k[3:]] = int(num) if num.is_integer() and "." not in str(v) else num
                except (TypeError, ValueError):
                    self.hyperparameters[k[3:]] = v
        return self


class PlanRow(BaseModel):
    """An onboarding plan."""

    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    external_id: str = Field(min_length=1)
    account_external_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    started_on: date
    target_date: date
    status: Literal["active", "completed"] = "active"

    _d = field_validator("started_on", "target_date", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "active").strip().lower()
        return {"done": "completed", "complete": "completed", "in progress": "active", "open": "active"}.get(s, s)


class MilestoneRow(BaseModel):
    """A step of an onboarding plan."""

    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    external_id: str = Field(min_length=1)
    plan_external_id: str = Field(min_length=1)
    seq: int = Field(ge=0)
    name: str = Field(min_length=1)
    owner: str = "CSM"
    due_date: date
    completed_date: date | None = None
    status: Literal["pending", "in_progress", "blocked", "done"] = "pending"
    updated_on: date | None = None

    _d = field_validator("due_date", "completed_date", "updated_on", mode="before")(_date)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        s = str(v or "pending").strip().lower().replace(" ", "_").replace("-", "_")
        return {"not_started": "pending", "todo": "pending", "open": "pending", "started": "in_progress",
                "complete": "done", "completed": "done", "stuck": "blocked"}.get(s, s)

    @model_validator(mode="after")
    def _check(self) -> MilestoneRow:
        if self.status == "done" and self.completed_date is None:
            raise ValueError("a done milestone needs its completed_date")
        return self


class RenewalRow(BaseModel):
    """A past renewal and how it went."""

    model_config = {"extra": "allow", "str_strip_whitespace": True}
    account_external_id: str = Field(min_length=1)
    renewal_date: date
    outcome: Literal["renewed", "churned", "contracted", "expanded"]
    arr_before: float = Field(ge=0)
    arr_after: float = Field(ge=0)
    features: dict[str, Any] | None = None

    _d = field_validator("renewal_date", mode="before")(_date)
    _n = field_validator("arr_before", "arr_after", mode="before")(_number)

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome(cls, v: Any) -> Any:
        s = str(v or "").strip().lower()
        return {"renew": "renewed", "churn": "churned", "lost": "churned", "downsell": "contracted",
                "contraction": "contracted", "upsell": "expanded", "expansion": "expanded"}.get(s, s)

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        if isinstance(v, str):
            try:
                return json.loads(v)
            except json.JSONDecodeError:
                raise ValueError("features is not JSON") from None
        return v

    @model_validator(mode="after")
    def _columns(self) -> RenewalRow:
        """One column per feature (usage_change_30d, nps, ...) instead of a JSON column."""
        from tools.renewal_model import FEATURES

        extra = self.model_extra or {}
        given = {f: extra[f] for f in FEATURES if f in extra and extra[f] not in (None, "")}
        if given:
            try:
                self.features = {**(self.features or {}), **{k: float(v) for k, v in given.items()}}
            except (TypeError, ValueError):
                raise ValueError("feature columns must be numbers") from None
        if self.outcome == "churned" and self.arr_after:
            raise ValueError("a churned renewal has arr_after 0")
        return self


SCHEMAS: dict[str, type[BaseModel]] = {
    "telemetry": TelemetryRow, "requests": RequestRow, "fine_tunes": FineTuneRow, "plans": PlanRow,
    "milestones": MilestoneRow, "renewals": RenewalRow,
}


def key(kind: str, rec: Any) -> Any:
    """What makes a row the same row on a re-import (a repeat in one file is an error)."""
    if kind == "telemetry":
        return (rec.account_external_id, rec.day)
    if kind == "renewals":
        return (rec.account_external_id, rec.renewal_date)
    if kind == "requests":
        return None  # events repeat freely; they are counted
    return rec.external_id


def check(kind: str, rec: Any, accounts: dict[str, int], plans: dict[str, int]) -> str | None:
    """A reference the row names that does not exist, in words."""
    if kind == "milestones":
        return None if rec.plan_external_id in plans else (
            f"plan '{rec.plan_external_id}' does not exist; import plans first")
    if rec.account_external_id not in accounts:
        return f"account '{rec.account_external_id}' does not exist; import accounts first"
    if kind == "plans" and rec.target_date < rec.started_on:
        return "target_date is before started_on"
    return None


def references(store: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Accounts and onboarding plans by external id: what rows may name."""
    with store.session() as s:
        accounts = {e: i for e, i in s.execute(select(Account.external_id, Account.id)) if e}
        plans = {e: i for e, i in s.execute(select(OnboardingPlan.external_id, OnboardingPlan.id)) if e}
    return accounts, plans


def validate(kind: str, rows: list[tuple[int, dict[str, Any]]], accounts: dict[str, int], plans: dict[str, int],
             unit: str = "line", repeats: str = "error",
             stored: dict[Any, dict[str, Any]] | None = None) -> tuple[list[Any], list[tuple[int, str]]]:
    """The good records and the bad rows (number, why) of one kind.

    A repeated key is an error in one file (`repeats="error"`); from a warehouse the last row wins
    (`repeats="last"`). Events without a key (`requests`) are all kept. `stored` (from
    `tools.stored_rows`): a row for an existing record is checked laid over that record's values.
    """
    schema = SCHEMAS[kind]
    keyed: dict[Any, tuple[int, Any]] = {}
    events: list[Any] = []
    bad: list[tuple[int, str]] = []
    for n, fields in rows:
        before = stored.get(raw_key(kind, fields)) if stored else None
        try:
            rec = schema.model_validate(overlay(before, fields))
        except ValidationError as exc:
            bad.append((n, describe(exc)))
            continue
        problem = check(kind, rec, accounts, plans)
        if problem:
            bad.append((n, problem))
            continue
        k = key(kind, rec)
        if k is None:
            events.append(rec)
        elif k in keyed and repeats == "error":
            bad.append((n, f"{_name(k)} repeats {unit} {keyed[k][0]}"))
        else:
            keyed[k] = (n, rec)
    return events + [rec for _, rec in keyed.values()], bad


def _name(k: Any) -> str:
    if isinstance(k, tuple):
        return "(" + ", ".join(str(x) for x in k) + ")"
    return f"id '{k}'"


def aggregate_requests(recs: list[RequestRow]) -> list[TelemetryRow]:
    """Raw request events to one telemetry row per account and day."""
    groups: dict[tuple[str, date], list[RequestRow]] = {}
    for r in recs:
        groups.setdefault((r.account_external_id, r.timestamp.date()), []).append(r)
    out = []
    for (acc, day), rows in sorted(groups.items()):
        lat = np.asarray([r.latency_ms for r in rows], dtype=float)
        users = {r.user_id for r in rows if r.user_id}
        (model, version), _ = Counter((r.model_name, r.model_version) for r in rows).most_common(1)[0]
        out.append(TelemetryRow(
            account_external_id=acc, day=day, api_requests=len(rows),
            input_tokens=sum(r.input_tokens for r in rows), output_tokens=sum(r.output_tokens for r in rows),
            active_users=len(users), seats_used=len(users),
            p50_latency_ms=round(float(np.percentile(lat, 50)), 1),
            p95_latency_ms=round(float(np.percentile(lat, 95)), 1),
            error_rate=round(sum(r.error for r in rows) / len(rows), 4), spend=round(sum(r.cost for r in rows), 4),
            model_name=model, model_version=version))
    return out


def write(s: Any, kind: str, recs: list[Any], accounts: dict[str, int], plans: dict[str, int],
          store: Any = None, present: set[str] | None = None) -> tuple[int, int]:
    """Upsert the rows in the session's transaction; (inserted, updated).

    A record that exists changes only in the `present` columns (the file's; all when None).
    """
    keep = None if present is None else {_REF_COLUMNS.get(c, c) for c in present} | (
        {"hyperparameters"} if any(c.startswith("hp_") for c in present) else set()) | (
        {"features"} if kind == "renewals" and present & set(_renewal_features()) else set())
    if kind == "requests":
        return write(s, "telemetry", aggregate_requests(recs), accounts, plans)
    if kind == "telemetry":
        return _telemetry(s, recs, accounts, keep)
    if kind == "renewals":
        return _renewals(s, recs, accounts, store, keep)
    model: Any
    model, values = {
        "fine_tunes": (FineTuneJob, lambda r: {
            "external_id": r.external_id, "account_id": accounts[r.account_external_id], "created_on": r.created_on,
            "status": r.status, "base_model": r.base_model, "hyperparameters": r.hyperparameters,
            "loss_start": r.loss_start, "loss_min": r.loss_min, "loss_final": r.loss_final,
            "loss_summary": r.loss_summary, "eval_score": r.eval_score}),
        "plans": (OnboardingPlan, lambda r: {
            "external_id": r.external_id, "account_id": accounts[r.account_external_id], "name": r.name,
            "started_on": r.started_on, "target_date": r.target_date, "status": r.status}),
        "milestones": (Milestone, lambda r: {
            "external_id": r.external_id, "plan_id": plans[r.plan_external_id], "seq": r.seq, "name": r.name,
            "owner": r.owner, "due_date": r.due_date, "completed_date": r.completed_date, "status": r.status,
            "updated_on": r.updated_on}),
    }[kind]
    have = {o.external_id: o for o in s.scalars(select(model).where(
        model.external_id.in_([r.external_id for r in recs])))} if recs else {}
    inserted = updated = 0
    for r in recs:
        vals = values(r)
        obj = have.get(r.external_id)
        if obj is None:
            obj = model(**vals)
            s.add(obj)
            inserted += 1
            if kind == "plans":
                s.flush()
                plans[r.external_id] = obj.id
        else:
            changed = False
            for k, v in vals.items():
                if keep is not None and k not in keep:
                    continue
                if not _same(getattr(obj, k), v):
                    setattr(obj, k, v)
                    changed = True
            updated += changed
    return inserted, updated


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


_TELEMETRY_COLS = ["api_requests", "input_tokens", "output_tokens", "active_users", "seats_used", "p50_latency_ms",
                   "p95_latency_ms", "error_rate", "spend", "model_name", "model_version"]


def _telemetry(s: Any, recs: list[TelemetryRow], accounts: dict[str, int],
               keep: set[str] | None = None) -> tuple[int, int]:
    """Daily rows: new (account, day) pairs inserted in bulk, changed ones updated, unchanged left alone."""
    rows = {(accounts[r.account_external_id], r.day): {c: getattr(r, c) for c in _TELEMETRY_COLS} for r in recs}
    have: dict[tuple[int, date], dict[str, Any]] = {}
    keys = list(rows)
    t: Table = TelemetryDaily.__table__  # type: ignore[assignment]
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        q = select(t.c.account_id, t.c.day, *[t.c[c] for c in _TELEMETRY_COLS]).where(
            tuple_(t.c.account_id, t.c.day).in_(chunk))
        for row in s.execute(q):
            have[(row[0], row[1])] = dict(zip(_TELEMETRY_COLS, row[2:], strict=True))
    new = [{"account_id": a, "day": d, **v} for (a, d), v in rows.items() if (a, d) not in have]
    if keep is not None:  # an existing day changes only in the file's columns
        rows = {k: ({c: x for c, x in v.items() if c in keep} if k in have else v) for k, v in rows.items()}
    changed = [(a, d, v) for (a, d), v in rows.items()
               if (a, d) in have and v and any(have[(a, d)][c] != x for c, x in v.items())]
    if new:
        s.execute(t.insert(), new)
    for a, d, v in changed:
        s.execute(update(t).where(and_(t.c.account_id == a, t.c.day == d)).values(**v))
    return len(new), len(changed)


def _renewals(s: Any, recs: list[RenewalRow], accounts: dict[str, int], store: Any,
              keep: set[str] | None = None) -> tuple[int, int]:
    from tools.renewal_model import FEATURES

    missing = [r for r in recs if not r.features]
    if missing and store is not None:  # the features 90 days before, from what the CRM already holds
        from tools.features import compute_features

        by_day: dict[date, list[RenewalRow]] = {}
        for r in missing:
            by_day.setdefault(r.renewal_date - timedelta(days=90), []).append(r)
        for day, rs in by_day.items():
            df = compute_features(store, day, [accounts[r.account_external_id] for r in rs])
            for r in rs:
                aid = accounts[r.account_external_id]
                row = df.loc[aid] if aid in df.index else None
                r.features = {f: (None if row is None or f not in row or _nan(row[f]) else float(row[f]))
                              for f in FEATURES}
    inserted = updated = 0
    for r in recs:
        aid = accounts[r.account_external_id]
        obj = s.scalars(select(RenewalEvent).where(RenewalEvent.account_id == aid,
                                                   RenewalEvent.renewal_date == r.renewal_date)).first()
        vals = {"outcome": r.outcome, "arr_before": r.arr_before, "arr_after": r.arr_after,
                "features": r.features or {}}
        if obj is not None and keep is not None:
            vals = {k: v for k, v in vals.items() if k in keep}
        if obj is None:
            s.add(RenewalEvent(account_id=aid, renewal_date=r.renewal_date, **vals))
            inserted += 1
        elif any(getattr(obj, k) != v for k, v in vals.items()):
            for k, v in vals.items():
                setattr(obj, k, v)
            updated += 1
    return inserted, updated


_REF_COLUMNS = {"account_external_id": "account_id", "plan_external_id": "plan_id"}


def _renewal_features() -> list[str]:
    from tools.renewal_model import FEATURES

    return list(FEATURES)


def _nan(v: Any) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True
