"""What the store already holds for the rows of a product-data file, as import rows (partial re-imports).

A file that names existing records but lacks some columns (a `telemetry` file with only `spend`, a
`milestones` file with only `status`) must change only what it has. `product_import.validate` checks
each row laid over the stored record's values from here; `product_import.write` then writes only the
file's columns to records that exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, select, tuple_

from integrations.crm.importer import as_row
from integrations.crm.models import FineTuneJob, Milestone, OnboardingPlan, RenewalEvent, TelemetryDaily
from integrations.crm.rows import _date

_MODELS: dict[str, Any] = {"fine_tunes": FineTuneJob, "plans": OnboardingPlan, "milestones": Milestone}


def raw_key(kind: str, fields: dict[str, Any]) -> Any:
    """The key a row will have once validated (`product_import.key`), from its raw cells; None if unreadable."""
    try:
        if kind in ("telemetry", "renewals"):
            when = _date(fields.get("day" if kind == "telemetry" else "renewal_date"))
            return (str(fields.get("account_external_id") or "").strip(), when) if isinstance(when, date) else None
        if kind == "requests":
            return None
        return str(fields.get("external_id") or "").strip() or None
    except (TypeError, ValueError):
        return None


def stored(s: Any, kind: str, schema: type[BaseModel], rows: list[tuple[int, dict[str, Any]]],
           accounts: dict[str, int], plans: dict[str, int]) -> dict[Any, dict[str, Any]]:
    """Key -> the stored record as an import row, for the rows whose record exists."""
    keys = sorted({k for _, f in rows if (k := raw_key(kind, f)) is not None}, key=str)
    if not keys:
        return {}
    account_ext = {i: e for e, i in accounts.items()}
    refs = {"account_external_id": ("account_id", account_ext),
            "plan_external_id": ("plan_id", {i: e for e, i in plans.items()})}
    fields = list(schema.model_fields)
    out: dict[Any, dict[str, Any]] = {}
    for k in range(0, len(keys), 500):
        chunk = keys[k:k + 500]
        if kind in ("telemetry", "renewals"):
            pairs = [(accounts[a], d) for a, d in chunk if a in accounts]
            if not pairs:
                continue
            if kind == "telemetry":
                t: Table = TelemetryDaily.__table__  # type: ignore[assignment]
                found = list(s.execute(select(t).where(tuple_(t.c.account_id, t.c.day).in_(pairs))))
            else:
                found = list(s.scalars(select(RenewalEvent).where(
                    tuple_(RenewalEvent.account_id, RenewalEvent.renewal_date).in_(pairs))))
            day = "day" if kind == "telemetry" else "renewal_date"
            for obj in found:
                out[(account_ext[obj.account_id], getattr(obj, day))] = as_row(obj, fields, refs)
        else:
            model = _MODELS[kind]
            for obj in s.scalars(select(model).where(model.external_id.in_(chunk))):
                out[obj.external_id] = as_row(obj, fields, refs)
    return out
