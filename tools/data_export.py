"""Export every kind in the shape `retain import` reads back (CSV or Parquet, native column names).

References are by external id (`account_external_id`, `plan_external_id`, a person's email), so a
folder written by `export_dir` imports into an empty CRM and gives the same answers. A record
without an external id gets a stable one from its table and row id (e.g. `retain-tickets-17`).
A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is written
with a leading `'` (OWASP's CSV-injection advice); `retain import` removes exactly that quote again.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import aliased

from core.errors import RetainError
from integrations.crm.files import spreadsheet_safe
from integrations.crm.models import (
    CSM,
    Account,
    Activity,
    Contact,
    Contract,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    RenewalEvent,
    SurveyResponse,
    TelemetryDaily,
    Ticket,
)
from integrations.crm.store import CRMStore
from tools.access import Viewer, visible_owner_ids
from tools.data_import import ORDER
from tools.product_import import _TELEMETRY_COLS

Cell = str | int | float | bool | date | datetime | None
"""One exported value (dates become ISO text when written)."""
Row = dict[str, Cell]
"""One record as an import row: Retain's field names to values, the columns `retain import` reads."""


def _ext(table: str, ext: str | None, rid: int) -> str:
    return ext or f"retain-{table}-{rid}"


def rows(store: CRMStore, kind: str, viewer: Viewer | None = None) -> list[Row]:
    """The kind's records as import rows; with a viewer, only what they may see.

    A viewer sees the accounts of their scope (`tools.access`) and every record of those accounts,
    and of the people, those whose accounts they see (themselves, a manager's team); an admin sees all.
    """
    out = _rows(store, kind)
    owners = visible_owner_ids(store, viewer) if viewer is not None else None
    if owners is None:
        return out
    with store.session() as s:
        accounts = list(s.execute(select(Account.id, Account.external_id).where(Account.owner_id.in_(owners))))
        emails = set(s.scalars(select(CSM.email).where(CSM.id.in_(owners))))
        mine = {_ext("accounts", e, i) for i, e in accounts}
        plans = {_ext("onboarding_plans", e, i) for i, e in s.execute(
            select(OnboardingPlan.id, OnboardingPlan.external_id)
            .where(OnboardingPlan.account_id.in_([i for i, _ in accounts])))}
    if kind == "csms":
        return [r for r in out if r["email"] in emails]
    if kind == "accounts":
        return [r for r in out if r["external_id"] in mine]
    if kind == "milestones":
        return [r for r in out if r["plan_external_id"] in plans]
    return [r for r in out if r["account_external_id"] in mine]


def _rows(store: CRMStore, kind: str) -> list[Row]:
    with store.session() as s:
        acc = {i: _ext("accounts", e, i) for i, e in s.execute(select(Account.id, Account.external_id))}
        if kind == "csms":
            mgr = aliased(CSM)
            q = select(CSM, mgr.email).outerjoin(mgr, CSM.manager_id == mgr.id).where(CSM.active.is_(True))
            return [{"name": c.name, "email": c.email, "role": c.role, "team": c.team or "", "manager_email": m or "",
                     "slack_user_id": c.slack_user_id or "", "timezone": c.timezone} for c, m in s.execute(q)]
        if kind == "accounts":
            owners = dict(s.execute(select(CSM.id, CSM.email)).all())
            return [{"external_id": acc[a.id], "name": a.name, "domain": a.domain, "segment": a.segment,
                     "industry": a.industry, "arr": a.arr,
                     "owner_email": owners.get(a.owner_id) if a.owner_id else None,
                     "lifecycle_stage": a.lifecycle_stage, "created_on": a.created_on}
                    for a in s.scalars(select(Account).order_by(Account.id))]
        if kind == "contacts":
            return [{"external_id": _ext("contacts", c.external_id, c.id), "account_external_id": acc[c.account_id],
                     "name": c.name, "email": c.email, "role": c.role, "is_champion": c.is_champion,
                     "last_engaged": c.last_engaged, "left_on": c.left_on}
                    for c in s.scalars(select(Contact).order_by(Contact.id))]
        if kind == "contracts":
            return [{"external_id": _ext("contracts", c.external_id, c.id), "account_external_id": acc[c.account_id],
                     "plan": c.plan, "start_date": c.start_date, "renewal_date": c.renewal_date, "arr": c.arr,
                     "seats": c.seats, "status": c.status} for c in s.scalars(select(Contract).order_by(Contract.id))]
        if kind == "tickets":
            return [{"external_id": _ext("tickets", t.external_id, t.id), "account_external_id": acc[t.account_id],
                     "priority": t.priority, "status": t.status, "opened_at": t.opened_at, "closed_at": t.closed_at,
                     "subject": t.subject, "body": t.body} for t in s.scalars(select(Ticket).order_by(Ticket.id))]
        if kind == "notes":
            return [{"external_id": _ext("activities", a.external_id, a.id), "account_external_id": acc[a.account_id],
                     "kind": a.kind, "occurred_on": a.occurred_on, "author": a.author, "subject": a.subject,
                     "body": a.body} for a in s.scalars(select(Activity).order_by(Activity.id))]
        if kind == "nps":
            contacts = {i: _ext("contacts", e, i) for i, e in s.execute(select(Contact.id, Contact.external_id))}
            return [{"external_id": _ext("survey_responses", r.external_id, r.id),
                     "account_external_id": acc[r.account_id], "kind": r.kind, "score": r.score, "comment": r.comment,
                     "responded_on": r.responded_on,
                     "contact_external_id": contacts.get(r.contact_id) if r.contact_id else None}
                    for r in s.scalars(select(SurveyResponse).order_by(SurveyResponse.id))]
        if kind == "telemetry":
            t: Table = TelemetryDaily.__table__  # type: ignore[assignment]
            tq = select(t.c.account_id, t.c.day, *[t.c[c] for c in _TELEMETRY_COLS]).order_by(t.c.account_id, t.c.day)
            return [{"account_external_id": acc[row[0]], "day": row[1],
                     **dict(zip(_TELEMETRY_COLS, row[2:], strict=True))} for row in s.execute(tq)]
        if kind == "fine_tunes":
            return [{"external_id": _ext("fine_tune_jobs", j.external_id, j.id),
                     "account_external_id": acc[j.account_id],
                     "created_on": j.created_on, "status": j.status, "base_model": j.base_model,
                     "hyperparameters": json.dumps(j.hyperparameters, sort_keys=True), "loss_start": j.loss_start,
                     "loss_min": j.loss_min, "loss_final": j.loss_final, "loss_summary": j.loss_summary,
                     "eval_score": j.eval_score} for j in s.scalars(select(FineTuneJob).order_by(FineTuneJob.id))]
        if kind == "plans":
            return [{"external_id": _ext("onboarding_plans", p.external_id, p.id),
                     "account_external_id": acc[p.account_id],
                     "name": p.name, "started_on": p.started_on, "target_date": p.target_date, "status": p.status}
                    for p in s.scalars(select(OnboardingPlan).order_by(OnboardingPlan.id))]
        if kind == "milestones":
            plans = {i: _ext("onboarding_plans", e, i) for i, e in s.execute(select(OnboardingPlan.id,
                                                                                  OnboardingPlan.external_id))}
            return [{"external_id": _ext("milestones", m.external_id, m.id), "plan_external_id": plans[m.plan_id],
                     "seq": m.seq, "name": m.name, "owner": m.owner, "due_date": m.due_date,
                     "completed_date": m.completed_date, "status": m.status, "updated_on": m.updated_on}
                    for m in s.scalars(select(Milestone).order_by(Milestone.id))]
        if kind == "renewals":
            return [{"account_external_id": acc[r.account_id], "renewal_date": r.renewal_date, "outcome": r.outcome,
                     "arr_before": r.arr_before, "arr_after": r.arr_after,
                     "features": json.dumps(_features(r.features), sort_keys=True)}
                    for r in s.scalars(select(RenewalEvent).order_by(RenewalEvent.account_id,
                                                                     RenewalEvent.renewal_date))]
    raise RetainError(f"Unknown kind '{kind}'. Use one of: {', '.join(ORDER)}.")


def _features(v: Any) -> dict[str, object]:
    return dict(v) if isinstance(v, dict) else json.loads(v or "{}")


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep="T") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return "" if v is None else v


def write(path: Path, records: list[Row]) -> None:
    """CSV, or Parquet when the name ends in .parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = list(records[0]) if records else []
        table = pa.table({c: [_cell(r[c]) if isinstance(r[c], date | datetime) else r[c] for r in records]
                          for c in cols})
        pq.write_table(table, path)
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        if not records:
            return
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        for r in records:
            w.writerow({k: spreadsheet_safe(c) if isinstance(c := _cell(v), str) else c for k, v in r.items()})


def export_dir(store: CRMStore, folder: Path, kinds: list[str] | None = None, fmt: str = "csv",
               viewer: Viewer | None = None) -> dict[str, int]:
    """Write `<kind>.<fmt>` for each kind (default all), only the viewer's scope if given; rows per kind."""
    out = {}
    for kind in kinds or ORDER:
        recs = rows(store, kind, viewer)
        out[kind] = len(recs)
        if recs:  # an empty kind has no file (an empty file would not import)
            write(folder / f"{kind}.{fmt}", recs)
    return out
