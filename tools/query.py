"""The typed query layer: one pydantic `Query` over the whole CRM, run with the asker's scope in code.

A `Query` names an entity (accounts, contacts, tickets, activities, renewals, telemetry, fine-tunes,
milestones, surveys), the fields wanted, filters, sort, limit and group-by aggregates. It is data,
never SQL: field names are checked against the entity's catalogue, and `run` builds the SQL itself,
restricted to the accounts the viewer may see. Every row carries its source reference.

Account rows join the CRM's own columns (SQL) with the day's scores (health, band, P(renew),
usage, last touch), which the tool context computes once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from core.errors import RetainError
from core.lazy import lazy, loaded
from integrations.crm.models import (
    Account,
    Contact,
    Contract,
    Milestone,
    OnboardingPlan,
    SurveyResponse,
    TelemetryDaily,
)
from tools import access
from tools.crm import Source, ToolContext, segments, src
from tools.entities import DERIVED, ENTITIES, OWNER, Col, EntitySpec, Kind
from tools.plain import scalar
from tools.query_rows import aggregate, is_gap, matches, sort_rows

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

Entity = Literal["accounts", "contacts", "tickets", "activities", "renewals", "telemetry", "fine_tunes",
                 "milestones", "surveys", "plans"]
Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "between", "is_null", "not_null"]


class QueryError(RetainError):
    """A query that names a field or value its entity does not have."""


__all__ = ["ENTITIES", "Aggregate", "Col", "EntitySpec", "Filter", "Kind", "Query", "QueryError", "QueryResult",
           "Sort", "run"]


class Filter(BaseModel):
    """One condition on a field."""

    field: str
    op: Op = "eq"
    value: Any = None


class Sort(BaseModel):
    """Order by a field."""

    field: str
    desc: bool = False


class Aggregate(BaseModel):
    """An aggregate over the matching rows (per group when `group_by` is set)."""

    fn: Literal["count", "sum", "avg", "min", "max"]
    field: str | None = None


class Query(BaseModel):
    """A question about the CRM as data: what to read, which rows, in which order, summed how."""

    entity: Entity
    fields: list[str] = Field(default_factory=list, max_length=12)
    filters: list[Filter] = Field(default_factory=list, max_length=8)
    account_ids: list[int] = Field(default_factory=list, max_length=500)
    row_ids: list[int] = Field(default_factory=list, max_length=500)  # records of a previous answer
    exclude_ids: list[int] = Field(default_factory=list, max_length=500)  # records of a previous answer left out
    sort: list[Sort] = Field(default_factory=list, max_length=3)
    limit: int | None = Field(None, ge=1, le=500)
    offset: int = Field(0, ge=0, le=500)  # ranks skipped before the limit: "the next 3" after a top 3
    group_by: str | None = None
    aggregates: list[Aggregate] = Field(default_factory=list, max_length=4)
    having: Filter | None = None  # a bound on each group's count or aggregate: "accounts with more than 3 tickets
    # this year" (field "count"), "accounts averaging p95 over 1,500 ms" (an aggregated field: its aggregate)
    reverse: bool = False  # the rows the sort and limit picked, shown the other way: "last 3 notes, oldest first"

    @model_validator(mode="after")
    def _known_fields(self) -> Query:
        known = ENTITIES[self.entity].fields
        named = [*self.fields, *(f.field for f in self.filters), *(s.field for s in self.sort),
                 *([self.group_by] if self.group_by else []), *(a.field for a in self.aggregates if a.field)]
        bad = [n for n in named if n not in known]
        if self.having is not None and (not self.group_by or self.having.field != "count" and
                                        not any(a.field == self.having.field for a in self.aggregates)):
            bad.append(f"having {self.having.field} (only a group's count or an aggregated field, with group_by)")
        if bad:
            raise ValueError(f"{self.entity} have no field {', '.join(map(repr, bad))}; "
                             f"known: {', '.join(sorted(known))}")
        return self


@dataclass
class QueryResult:
    """Rows (each with its `source`), the count before the limit, and group aggregates if asked."""

    query: Query
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    groups: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    def sources(self) -> list[Source]:
        """The source of every row, in order."""
        return [r["source"] for r in self.rows]


def _base_select(spec: EntitySpec, ctx: ToolContext, q: Query) -> Any:
    names = [k for k, c in spec.fields.items() if c.expr is not None]
    cols = [spec.fields[k].expr.label(k) for k in names]
    extra = [Account.id.label("account_id"), Account.owner_id.label("owner_id")]
    if spec.model is not Account:
        extra.append(spec.model.id.label("row_id") if hasattr(spec.model, "id") else Account.id.label("row_id"))
    stmt = select(*cols, *extra)
    if spec.model is Milestone:
        stmt = stmt.select_from(Milestone).join(OnboardingPlan, Milestone.plan_id == OnboardingPlan.id) \
            .join(Account, OnboardingPlan.account_id == Account.id)
    elif spec.model is Account:
        stmt = stmt.select_from(Account).outerjoin(
            Contract, (Contract.account_id == Account.id) & (Contract.status == "active"))
    else:
        stmt = stmt.select_from(spec.model).join(Account, spec.model.account_id == Account.id)
    if spec.model is SurveyResponse:
        stmt = stmt.outerjoin(Contact, SurveyResponse.contact_id == Contact.id)
    stmt = stmt.outerjoin(OWNER, Account.owner_id == OWNER.id)
    owners = access.visible_owner_ids(ctx.store, ctx.viewer)
    if owners is not None:  # the scope, in code: nothing outside it is ever read
        stmt = stmt.where(Account.owner_id.in_(sorted(owners)))
    if spec.live_only and not q.account_ids:  # accounts asked for by id (a list's own rows) are read as they are
        stmt = stmt.where(Account.lifecycle_stage != "churned")
    if q.account_ids:
        stmt = stmt.where(Account.id.in_(q.account_ids))
    if q.row_ids:
        ident = Account.id if spec.model is Account else getattr(spec.model, "id", None)
        if ident is None:
            raise QueryError(f"{q.entity} rows have no id to pick them by; ask for them by account and date.")
        stmt = stmt.where(ident.in_(q.row_ids))
    if q.exclude_ids:
        ident = Account.id if spec.model is Account else getattr(spec.model, "id", None)
        if ident is None:
            raise QueryError(f"{q.entity} rows have no id to leave them out by; ask for them by account and date.")
        stmt = stmt.where(ident.not_in(q.exclude_ids))
    if spec.model is TelemetryDaily:
        stmt = stmt.where(TelemetryDaily.day <= ctx.as_of)
    for f in q.filters:
        expr = spec.fields[f.field].expr
        if expr is not None:
            stmt = stmt.where(_sql_condition(expr, f, spec.fields[f.field].kind))
    return stmt


def _coerce(value: Any, kind: str, name: str) -> Any:
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise QueryError(f"{name} is a date: {value[:40]!r} is not one; write YYYY-MM-DD.") from None
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    if kind in ("number", "money", "ratio") and value is not None and not isinstance(value, int | float):
        try:
            return float(str(value).replace(",", "").strip())
        except ValueError:
            raise QueryError(f"{name} is a number: {str(value)[:40]!r} is not one.") from None
    return value


def _values(f: Filter, kind: str) -> Any:
    """A filter's value in its field's kind; a value that cannot be one is a QueryError naming the field."""
    if f.op == "between" and not (isinstance(f.value, list) and len(f.value) == 2):
        raise QueryError(f"between on {f.field} takes a list of two values, [from, to].")
    if isinstance(f.value, list):
        return [_coerce(x, kind, f.field) for x in f.value]
    return None if f.op in ("is_null", "not_null") else _coerce(f.value, kind, f.field)


def _sql_condition(expr: Any, f: Filter, kind: str) -> Any:
    v: Any = _values(f, kind)
    if kind == "date" and isinstance(expr.type.python_type, type) and expr.type.python_type is datetime:
        v = [datetime.combine(x, datetime.min.time()) for x in v] if isinstance(v, list) else \
            datetime.combine(v, datetime.min.time()) if isinstance(v, date) else v
        if f.op == "between":  # a window of days includes all of its last day
            return (expr >= v[0]) & (expr < v[1] + timedelta(days=1))
        if f.op == "le":
            return expr < v + timedelta(days=1)
    ops = {"eq": lambda: expr == v if kind != "text" else expr.ilike(str(v)),
           "ne": lambda: expr != v, "lt": lambda: expr < v, "le": lambda: expr <= v,
           "gt": lambda: expr > v, "ge": lambda: expr >= v,
           "contains": lambda: expr.ilike(f"%{v}%"), "in": lambda: expr.in_(v if isinstance(v, list) else [v]),
           "between": lambda: expr.between(v[0], v[1]), "is_null": lambda: expr.is_(None),
           "not_null": lambda: expr.is_not(None)}
    return ops[f.op]()


def _account_rows(ctx: ToolContext, rows: list[dict[str, Any]], named: bool = False) -> list[dict[str, Any]]:
    """Add the day's scores to account rows (accounts without scores are left out, unless asked for by id)."""
    h = ctx.health()
    scored = set(h.features.index)
    unscored = [r for r in rows if r["account_id"] not in scored] if named else []  # a churned one of a list
    rows = [r for r in rows if r["account_id"] in scored]
    if unscored:
        return _account_rows(ctx, rows) + unscored
    if not rows:
        return rows
    ids = [r["account_id"] for r in rows]
    feats = h.features.loc[ids]
    cols: dict[str, list[Any]] = {k: feats[col].tolist() for k, (col, _, _) in DERIVED.items()
                                  if col in feats.columns}
    score = h.table.score.loc[ids]
    cols["health"] = score.tolist()
    cols["band"] = h.table.band.loc[ids].tolist()
    cols["trend"] = (score - pd.Series(h.previous).reindex(ids)).tolist()
    cols["p_renew"] = ctx.model.predict(feats).round(3).tolist() if ctx.model is not None else [None] * len(ids)
    segs = segments(ctx, ids)
    cols["risk"] = [segs[i]["segment"] for i in ids]
    for j, r in enumerate(rows):
        for k, values in cols.items():
            r[k] = values[j]
    return rows


def run(ctx: ToolContext, q: Query) -> QueryResult:
    """Run a query within the viewer's scope; rows carry their sources."""
    spec = ENTITIES[q.entity]
    with ctx.store.session() as s:
        found = [dict(r._mapping) for r in s.execute(_base_select(spec, ctx, q))]
    if q.entity == "accounts":
        first: dict[int, dict[str, Any]] = {}
        for r in found:  # an account with several active contracts: its first row
            first.setdefault(r["account_id"], r)
        found = _account_rows(ctx, list(first.values()), named=bool(q.account_ids))
    for f in q.filters:
        if spec.fields[f.field].expr is None and found:
            kind = spec.fields[f.field].kind
            value = _values(f, kind)
            found = [r for r in found if matches(r.get(f.field), f.op, kind, value)]
    aggs, rank = [(a.fn, a.field) for a in q.aggregates], (q.sort[0].field, q.sort[0].desc) if q.sort else None
    groups, totals = aggregate(found, aggs, q.group_by, rank)
    if q.having is not None and q.group_by:  # only the groups whose count (or aggregate) passes, and their rows
        key = "count" if q.having.field == "count" else \
            next(f"{a.fn}_{a.field}" for a in q.aggregates if a.field == q.having.field)
        bound = _values(q.having, "number")
        kept = {g["group"] for g in groups if g.get(key) is not None and matches(g[key], q.having.op, "number", bound)}
        found = [r for r in found if scalar(r.get(q.group_by)) in kept or (is_gap(r.get(q.group_by)) and
                                                                          "(none)" in kept)]
        groups, totals = aggregate(found, aggs, q.group_by, rank)
    total = len(found)
    if q.limit and q.sort and any(a.field == q.sort[0].field for a in q.aggregates):
        groups = groups[:q.limit]  # groups ranked by the aggregate the sort names: "the top 5 accounts by spend"
    if q.sort:
        found = sort_rows(found, [(x.field, x.desc) for x in q.sort])
    elif spec.date_field:
        found = sort_rows(found, [(spec.date_field, True)])
    if q.offset:
        found = found[q.offset:]
    if q.limit:
        found = found[: q.limit]
    if q.reverse:
        found.reverse()
    columns = list(dict.fromkeys(q.fields or spec.default_fields))
    rows = []
    for rec in found:
        row = {c: scalar(_day(rec.get(c))) for c in columns}
        row["account_id"] = int(rec["account_id"])
        row["account"] = rec["account"]
        ident = rec["account_id"] if q.entity == "accounts" else rec["row_id"]
        when = rec.get(spec.date_field) if spec.date_field else None
        label = rec.get(spec.label_field) or rec["account"]
        stype = "nps" if q.entity == "surveys" and rec.get("kind") == "nps" else \
            "csat" if q.entity == "surveys" else spec.source
        row["source"] = {**src(stype, ident, _day(when), label), "account": rec["account"]}
        rows.append(row)
    return QueryResult(q, columns, rows, total, groups, totals)


def _day(v: Any) -> Any:
    if is_gap(v):
        return None
    if loaded("pandas") and isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    return v.date() if isinstance(v, datetime) else v
