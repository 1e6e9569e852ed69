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

import math
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, TypedDict

import numpy as np
from pydantic import ValidationError
from sqlalchemy import Table, and_, select, tuple_, update

from integrations.crm.cells import lookalikes, misfit
from integrations.crm.importer import _describe as describe
from integrations.crm.importer import chunks, count_cleared, overlay
from integrations.crm.models import (
    Account,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    RenewalEvent,
    TelemetryDaily,
)
from tools.product_rows import SCHEMAS, RenewalRow, RequestRow, TelemetryRow
from tools.stored_rows import raw_key

__all__ = ["SCHEMAS", "key", "references", "validate", "write"]


def key(kind: str, rec: Any) -> Any:
    """What makes a row the same row on a re-import (a repeat in one file is an error)."""
    if kind == "telemetry":
        return (rec.account_external_id, rec.day)
    if kind == "renewals":
        return (rec.account_external_id, rec.renewal_date)
    if kind == "requests":
        return None  # events repeat freely; they are counted
    return rec.external_id


_TABLES: dict[str, Any] = {"telemetry": TelemetryDaily, "requests": TelemetryDaily, "fine_tunes": FineTuneJob,
                           "plans": OnboardingPlan, "milestones": Milestone, "renewals": RenewalEvent}


def check(kind: str, rec: Any, accounts: dict[str, int], plans: dict[str, int]) -> str | None:
    """What is wrong with a valid row beyond its own cells (a value too big to store, a missing reference)."""
    why = misfit(rec.model_dump(), _TABLES[kind].__table__)
    if why:
        return why
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


class ValidationReport(TypedDict, total=False):
    """What `validate` read: rows, blank cells emptying a stored value (per column), look-alike text (by row)."""

    rows: int
    cleared: dict[str, int]
    warnings: list[tuple[int, str]]


def validate(kind: str, rows: Iterable[tuple[int, dict[str, Any]]], accounts: dict[str, int],
             plans: dict[str, int], unit: str = "line", repeats: str = "error",
             stored: Callable[[list[tuple[int, dict[str, Any]]]], dict[Any, dict[str, Any]]] | None = None,
             all_or_nothing: bool = False,
             report: ValidationReport | None = None) -> tuple[list[Any], list[tuple[int, str]]]:
    """The good records and the bad rows (number, why) of one kind, reading `rows` a chunk at a time.

    A repeated key is an error in one file (`repeats="error"`); from a warehouse the last row wins
    (`repeats="last"`). Events without a key (`requests`) are all kept. `stored(chunk)` (see
    `tools.stored_rows`): the stored records a chunk's rows name, each row checked laid over its
    record. `all_or_nothing`: after the first bad row good ones are only checked, not kept. `report`
    gets `rows` (how many), `cleared` (blank cells emptying a stored value, per column) and `warnings`
    (look-alike text, by row).
    """
    schema = SCHEMAS[kind]
    keyed: dict[Any, tuple[int, Any]] = {}
    lines: dict[Any, int] = {}
    events: list[Any] = []
    bad: list[tuple[int, str]] = []
    report = report if report is not None else {}
    report["rows"], report["cleared"], report["warnings"] = 0, {}, []
    for chunk in chunks(rows):
        before_by_key = stored(chunk) if stored else {}
        for n, fields in chunk:
            report["rows"] += 1
            before = before_by_key.get(raw_key(kind, fields))
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
            if k is not None and k in lines and repeats == "error":
                bad.append((n, f"{_name(k)} repeats {unit} {lines[k]}"))
                continue
            if k is not None:
                lines[k] = n
            if bad and all_or_nothing:
                continue  # nothing will be written: check the rest, keep nothing
            present = {c: v for c, v in fields.items() if c in schema.model_fields}
            count_cleared(report["cleared"], before, present)
            report["warnings"].extend((n, w) for w in lookalikes(present))
            if k is None:
                events.append(rec)
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
