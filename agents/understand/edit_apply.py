"""Applying conversation edits: the last plan with a follow-up's edits, and the rows the dialogue keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from agents.state import AccountRef, Dialogue, RowRef
from agents.understand.edit_ops import (
    _DATE_FIELD,
    TEXT_FIELDS,
    DrillGroup,
    DropFilters,
    Edit,
    ExcludeRows,
    GroupBy,
    Quote,
    Remeasure,
    Reorder,
    Resubject,
    SelectRow,
    SetFilters,
    SetPeriod,
    ShiftPeriod,
    ShowFields,
    Summarise,
    SwitchEntity,
    UsageOf,
)
from agents.understand.model import EACH_MARK, Plan, from_json
from agents.when import Span
from tools.query import ENTITIES, Aggregate, Filter, Query, Sort


def prev_shape(p: Plan | None) -> str | None:
    """The shape of the last plan (a correction keeps it)."""
    return p.shape if p is not None else None


def _has_window(p: Plan) -> bool:
    if p.query is None:
        return False
    return any(ENTITIES[p.query.entity].fields[f.field].kind == "date" and f.op == "between"
               for f in p.query.filters)


def _with_period(p: Plan, sp: Span) -> Plan:
    if p.shape == "metric" or p.query is None:
        return replace(p, period=sp) if p.shape == "metric" else p
    fld = _DATE_FIELD.get(p.query.entity)
    keep = [f for f in p.query.filters if not (ENTITIES[p.query.entity].fields[f.field].kind == "date"
                                               and f.op in ("between", "lt", "le", "gt", "ge"))]
    date_filter = next((f.field for f in p.query.filters if ENTITIES[p.query.entity].fields[f.field].kind == "date"
                        and f.op == "between"), fld)
    if date_filter is None:
        return p
    new = keep + [Filter(field=date_filter, op="between", value=[sp.start.isoformat(), sp.end.isoformat()])]
    return replace(p, query=p.query.model_copy(update={"filters": new}), period=None)


def current_period(p: Plan) -> Span | None:
    """The window a plan covers, if it has one."""
    if p.period is not None:
        return p.period
    for f in p.query.filters if p.query else []:
        if ENTITIES[p.query.entity].fields[f.field].kind == "date" and f.op == "between":  # type: ignore[union-attr]
            a, b = date.fromisoformat(str(f.value[0])[:10]), date.fromisoformat(str(f.value[1])[:10])
            return Span(a, b, f"{a.isoformat()} to {b.isoformat()}")
    return None


def _shifted(sp: Span, e: ShiftPeriod) -> Span:
    """The unit just before (or after) the window: "the quarter before" Mar-Aug is Dec-Feb."""
    if e.slide:  # "a year earlier": the same window moved back
        if e.days:
            return Span(sp.start + timedelta(days=e.days), sp.end + timedelta(days=e.days), e.text)
        return Span(sp.start + relativedelta(months=e.months), sp.end + relativedelta(months=e.months), e.text)
    if e.days:  # "the 60 after that": that many days right after (or before) this window
        if e.days > 0:
            return Span(sp.end + timedelta(days=1), sp.end + timedelta(days=e.days), e.text)
        return Span(sp.start + timedelta(days=e.days), sp.start - timedelta(days=1), e.text)
    if abs(e.months) >= 1000:  # "the period before": as long as this one, just before (or after) it
        days = (sp.end - sp.start).days + 1
        start = sp.start + timedelta(days=days if e.months > 0 else -days)
        return Span(start, start + timedelta(days=days - 1), e.text)
    if e.months < 0:
        return Span(sp.start + relativedelta(months=e.months), sp.start - timedelta(days=1), e.text)
    start = sp.end + timedelta(days=1)
    return Span(start, start + relativedelta(months=e.months, days=-1), e.text)


def _account_ids(d: Dialogue) -> list[int]:
    """The accounts of the last answer's rows (all of them when the router found them); [-1] when it had none."""
    if d.get("all_account_ids") is not None:
        return list(d["all_account_ids"] or []) or [-1]
    ids = list(dict.fromkeys(r["account_id"] for r in d.get("rows") or []))
    return ids or [a["account_id"] for a in d.get("accounts") or []] or [-1]


def apply(d: Dialogue, edits: list[Edit]) -> Plan | None:
    """The last plan with `edits` applied; None when the edit has no plan to act on (an agent's card)."""
    if not d.get("plan"):
        return None
    p = from_json(d["plan"] or {})
    if p.query is None and not (p.shape == "metric" and all(
            isinstance(e, SetPeriod | ShiftPeriod | Resubject | SetFilters | GroupBy) for e in edits)):
        return None  # "today's priorities" or a comparison: nothing to edit, the message is read afresh
    drilled = False  # a group drilled into: its rows are that group's, not the grouped answer's
    for e in edits:
        if isinstance(e, SetPeriod):
            p = _with_period(p, e.span)
        elif isinstance(e, ShiftPeriod):
            cur = current_period(p)
            if cur is not None:
                p = _with_period(p, _shifted(cur, e))
        elif isinstance(e, Resubject):
            ids = [a["account_id"] for a in e.accounts]
            q = p.query.model_copy(update={"account_ids": ids, "row_ids": []}) if p.query is not None and \
                (p.query.account_ids or p.shape == "lookup") else p.query
            q = q.model_copy(update={"exclude_ids": []}) if q is not None else q  # rows left out of another subject
            title = p.title
            for old in p.accounts:
                title = title.replace(old["name"], e.accounts[0]["name"])
            p = replace(p, accounts=list(e.accounts), query=q, title=title)
        elif isinstance(e, SwitchEntity):
            carried = p.query.account_ids if p.query is not None and not p.query.row_ids else []
            ids = list(carried) if carried and not p.accounts or drilled else _account_ids(d)  # the thread's set
            spec = ENTITIES[e.entity]
            fields = ["account", "owner", "team", "health", "arr"] if e.owners else list(spec.default_fields)
            keep = [f for f in (p.query.filters if p.query else []) if f.field in ("owner", "team", "segment",
                                                                                  "industry")]
            kept_order = p.query.sort if p.query is not None and p.query.entity == e.entity == "accounts" else []
            q = Query(entity=e.entity, account_ids=ids, fields=fields, filters=keep,  # type: ignore[arg-type]
                      limit=25 if e.entity != "accounts" else None, sort=kept_order)  # the list's order
            if e.entity == "tickets":
                q = q.model_copy(update={"filters": [*keep, Filter(field="status", op="ne", value="closed")]})
            what = {"accounts": "owners" if e.owners else "accounts", "fine_tunes": "fine-tunes"}.get(e.entity,
                                                                                                 e.entity)
            what += EACH_MARK if e.each else ""  # "who's the champion at each?": said per row in the reading
            p = Plan("list", f"{what} of the last answer's accounts", q, what=what)
        elif isinstance(e, SelectRow):
            ent = d.get("entity") or "accounts"
            spec = ENTITIES[ent]
            fields = [k for k in spec.fields if k not in ("hyperparameters",)][:12]
            if e.change:  # "how much did that one grow by?": that renewal, or the account's latest one, as a change
                q = Query(entity="renewals", account_ids=[e.row["account_id"]], limit=1,
                          sort=[Sort(field="renewal_date", desc=True)],
                          fields=["renewal_date", "outcome", "arr_before", "arr_after", "account"])
                if ent == "renewals":
                    q = q.model_copy(update={"row_ids": [e.row["id"]], "account_ids": []})
            elif ent == "accounts":
                q = Query(entity="accounts", account_ids=[e.row["account_id"]],
                          fields=["account", "health", "band", "arr", "renewal_date", "p_renew", "owner"])
            elif ent == "plans":  # a plan picked from a list: its steps not done yet, what is stuck first
                q = Query(entity="milestones", account_ids=[e.row["account_id"]],
                          fields=["name", "status", "owner", "due_date", "plan"],
                          filters=[Filter(field="status", op="ne", value="done")], sort=[Sort(field="due_date")])
            elif ent == "contacts" and e.fields:  # "her email?": the fields asked, then who she is and if she left
                q = Query(entity=ent, row_ids=[e.row["id"]], fields=list(dict.fromkeys(  # type: ignore[arg-type]
                    [*e.fields, "name", "account", "role", "is_champion", "left_on"])))
            else:
                q = Query(entity=ent, row_ids=[e.row["id"]], fields=fields)  # type: ignore[arg-type]
            ref: AccountRef = {"account_id": e.row["account_id"], "name": e.row["account"]}
            person = ent == "contacts" and bool(e.fields)
            p = Plan("lookup", e.row["label"] if person else f"{ref['name']}: {e.row['label']}", q, accounts=[ref],
                     what=("ARR change at the latest renewal" if ent != "renewals" else "ARR change at the renewal "
                           "picked") if e.change else "person" if person else "record")
        elif isinstance(e, Summarise) and p.query is not None:
            q = p.query
            money_elsewhere = any(a.field == "arr" for a in e.aggregates) and "arr" not in ENTITIES[q.entity].fields
            if money_elsewhere:
                q = Query(entity="accounts", account_ids=_account_ids(d), fields=["account", "arr", "health"])
            base = [f for f in q.filters if f.field not in {x.field for x in e.filters}]
            rows = d.get("rows") or []
            if q.limit and q.limit < 25 and rows and not money_elsewhere:  # "add those up" after a top 3: those 3
                q = q.model_copy(update={"row_ids": [r["id"] for r in rows]} if q.entity != "accounts"
                                 else {"account_ids": [r["account_id"] for r in rows]})
            q = q.model_copy(update={"filters": base + list(e.filters), "aggregates": list(e.aggregates),
                                     "limit": None, "group_by": q.group_by,
                                     **({"account_ids": e.account_ids} if e.account_ids is not None else {})})
            p = replace(p, shape="aggregate", query=q)
        elif isinstance(e, UsageOf):  # "total cost of those": the rows' accounts' usage, one line per account
            q = Query(entity="telemetry", account_ids=_account_ids(d), fields=["day", e.field, "account"],
                      filters=[Filter(field="day", op="between", value=[e.span.start.isoformat(),
                                                                       e.span.end.isoformat()])],
                      aggregates=[Aggregate(fn=e.fn, field=e.field)], group_by="account")  # type: ignore[arg-type]
            p = Plan("aggregate", f"days of usage, {e.span.describe()}", q, what="days of usage",
                     period=e.span)  # the window and how it was chosen, for the reading
        elif isinstance(e, Quote) and p.query is not None:  # "what did they complain about?": their own words
            ent, rows = p.query.entity, d.get("rows") or []
            cols = [k for k in (ENTITIES[ent].label_field, *TEXT_FIELDS[ent], ENTITIES[ent].date_field, "score",
                                "contact", "account") if k and k in ENTITIES[ent].fields]
            q = p.query.model_copy(update={"fields": list(dict.fromkeys(cols)), "aggregates": [], "group_by": None,
                                           "limit": None if len(rows) < int(d.get("total") or 0) else p.query.limit})
            capped = p.query.limit is not None and len(rows) >= p.query.limit  # "the last call": that one, not all
            if rows and (capped or len(rows) >= int(d.get("total") or len(rows))) and ent != "accounts":
                q = q.model_copy(update={"row_ids": [r["id"] for r in rows], "limit": None})  # those rows exactly
            p = replace(p, shape="list", query=q, what="what they said")
        elif isinstance(e, ExcludeRows) and p.query is not None:  # "besides that one": the query without it
            ids = [r["account_id"] if p.query.entity == "accounts" else r["id"] for r in e.rows]
            p = replace(p, query=p.query.model_copy(update={
                "exclude_ids": list(dict.fromkeys([*p.query.exclude_ids, *ids])), "row_ids": []}))
        elif isinstance(e, DrillGroup) and p.query is not None and p.query.group_by and e.value is not None:
            by = p.query.group_by  # "list his" after red accounts by owner: his red accounts, as rows
            others = [f for f in p.query.filters if f.field != by]
            sort = [s for s in p.query.sort if s.field in ENTITIES[p.query.entity].fields] or \
                ([Sort(field="health")] if p.query.entity == "accounts" else [])  # groups ranked by size: worst first
            p = replace(p, shape="list", query=p.query.model_copy(update={
                "filters": [*others, Filter(field=by, value=e.value)], "group_by": None, "aggregates": [],
                "having": None, "limit": None, "sort": sort}))
            drilled = True
        elif isinstance(e, Remeasure) and p.query is not None:  # "same for error rate": that measure, all else kept
            olds = {a.field for a in p.query.aggregates if a.field}
            p = replace(p, query=p.query.model_copy(update={
                "aggregates": [Aggregate(fn=e.fn, field=e.field)],  # type: ignore[arg-type]
                "fields": list(dict.fromkeys(e.field if f in olds else f for f in p.query.fields)),
                "sort": [s.model_copy(update={"field": e.field}) if s.field in olds else s for s in p.query.sort],
                "having": None if p.query.having is not None and p.query.having.field in olds else p.query.having}))
        elif isinstance(e, DropFilters) and p.query is not None:
            kept = p.query.having if p.query.having is None or p.query.having.field not in e.fields else None
            p = replace(p, query=p.query.model_copy(update={"filters": [f for f in p.query.filters
                                                                        if f.field not in e.fields],
                                                            "having": kept}), period=None)
        elif isinstance(e, ShowFields) and p.query is not None:
            known = ENTITIES[p.query.entity].fields
            if all(f in known for f in e.fields):
                rest = [f for f in p.query.fields or ENTITIES[p.query.entity].default_fields if f not in e.fields]
                label = ENTITIES[p.query.entity].label_field
                head = [f for f in (label, "account") if f in rest or f == label]
                fields = list(dict.fromkeys([*head, *e.fields, *rest]))[:12]
                p = replace(p, query=p.query.model_copy(update={"fields": fields, "aggregates": [],
                                                                "group_by": None}),
                            shape="list" if p.shape == "aggregate" else p.shape)
            else:  # a field of the rows' accounts ("and their ARR?" after tickets): those accounts, with it
                shown = [f for f in e.fields if f in ENTITIES["accounts"].fields]
                q = Query(entity="accounts", account_ids=_account_ids(d),
                          fields=list(dict.fromkeys(["account", *shown, "health"]))[:12])
                p = Plan("list", "accounts of the last answer", q, what="accounts")
        elif isinstance(e, GroupBy):
            if p.query is None and p.shape == "metric":
                p = replace(p, query=Query(entity="surveys" if p.metric in ("nps", "avg_nps", "avg_csat")
                                           else "renewals"))
            if p.query is not None and e.field in ENTITIES[p.query.entity].fields:
                aggs = p.query.aggregates or [Aggregate(fn="count")]
                p = replace(p, shape=p.shape if p.shape == "metric" else "aggregate", top=e.top,
                            query=p.query.model_copy(update={"group_by": e.field, "aggregates": aggs
                                                             if p.shape != "metric" else [], "limit": None,
                                                             **({"sort": [], "offset": 0} if e.top else {})}))
        elif isinstance(e, SetFilters):
            if p.query is None and p.shape == "metric":  # "and East?" after "NRR last quarter": the metric, per team
                p = replace(p, query=Query(entity="surveys" if p.metric in ("nps", "avg_nps", "avg_csat")
                                           else "renewals"))
            if p.query is None:
                continue
            ent = p.query.entity
            known = ENTITIES[ent].fields
            new = [f for f in e.filters if f.field in known]
            named = {f.field for f in new}
            if named & {"team", "owner"}:  # "what about Marcus?" after West's: the new scope, not both
                named |= {"team", "owner"}
            if e.widen:  # "include the red ones too" after the green ones: green or red
                new = [w for f in new if (w := _widened(f, p.query.filters)) is not None]
            base = [f for f in p.query.filters if f.field not in named]
            q = p.query
            moved = e.account_ids
            if moved is None and named & {"team", "owner"} and p.accounts and p.query.account_ids:
                moved = []  # "what about Sam's notes" after Acme's: Sam's accounts, no longer Acme's
                p = replace(p, accounts=[], shape="list" if p.shape == "lookup" else p.shape,
                            title=f"{p.what or ent}")
            having = next((f for f in new if q.group_by and any(a.field == f.field for a in q.aggregates)), q.having)
            p = replace(p, query=q.model_copy(update={  # a bound on a group's figure is on the groups
                "filters": base + [f for f in new if f is not having], "having": having,
                **({"account_ids": moved} if moved is not None else {})}))
            if p.shape == "metric":  # "no, I meant West": the figure's label names the new scope, not the old one
                p = replace(p, what=" ".join(f"{f.value} team" if f.field == "team" else str(f.value)
                                             for f in base + new if f.field in ("team", "owner", "segment", "industry")
                                             and isinstance(f.value, str)))
        elif isinstance(e, Reorder) and p.query is not None:
            upd: dict[str, Any] = {}
            same = bool(p.query.sort) and e.sort is not None and e.sort.field == p.query.sort[0].field and \
                e.limit is None and not e.unlimited and bool(p.query.limit)
            if same and e.sort is not None:  # "oldest first" after "the last 3 notes": those 3, shown the other way
                upd["reverse"] = e.sort.desc != p.query.sort[0].desc
            elif e.sort is not None and e.sort.field in ENTITIES[p.query.entity].fields:
                upd["sort"] = [e.sort]
            if e.limit is not None or e.unlimited:
                upd["limit"] = e.limit
            if e.page:  # "the next 3": the ranks right after the ones shown
                seen = 1 if e.after_first else p.query.limit or len(d.get("rows") or []) or 10
                upd["offset"] = min(500, p.query.offset + seen)
                upd["limit"] = e.limit or p.query.limit or 10
            if e.lowest and p.query.sort and p.query.sort[0].desc:
                upd["sort"] = [p.query.sort[0].model_copy(update={"desc": False})]
            grouped = e.sort is not None and bool(p.query.group_by) and \
                not any(a.field == e.sort.field for a in p.query.aggregates)  # "and the most?" keeps the ranking
            if grouped:  # "oldest first" after "by priority": the records themselves, in that order
                upd |= {"group_by": None, "aggregates": []}
            p = replace(p, shape="list" if grouped else p.shape, query=p.query.model_copy(update=upd))
    return p


def _widened(new: Filter, kept: list[Filter]) -> Filter | None:
    """A value said with "too" / "as well", joined to the values a filter on the same field kept.

    None when it is the value the filter left out ("the closed ones too" after open tickets): any value then.
    """
    if any(f.field == new.field and f.op == "ne" and new.op == "eq" and str(f.value) == str(new.value)
           for f in kept):
        return None
    old = next((f for f in kept if f.field == new.field and f.op in ("eq", "in")), None)
    if old is None and not any(f.field == new.field for f in kept) and new.field not in ("team", "owner"):
        return None  # the list kept every value of that field: the ones asked are in it already
    if old is None or new.op not in ("eq", "in"):
        return new
    values = [*(old.value if isinstance(old.value, list) else [old.value]),
              *(new.value if isinstance(new.value, list) else [new.value])]
    return Filter(field=new.field, op="in", value=list(dict.fromkeys(values)))


def rows_of(entity: str, result_rows: list[dict[str, Any]]) -> list[RowRef]:
    """The rows of a query result as the dialogue keeps them (ids in order, figures for "the biggest")."""
    spec = ENTITIES[entity]
    out: list[RowRef] = []
    for r in result_rows[:50]:
        src = r.get("source") or {}
        ident = r["account_id"] if entity == "accounts" else src.get("id")
        try:
            rid = int(str(ident))
        except (TypeError, ValueError):
            continue
        when = r.get(spec.date_field) if spec.date_field else r.get("renewal_date")
        values = {k: v for k, v in r.items() if k != "source" and (isinstance(v, (int, float)) and not
                                                                   isinstance(v, bool) or
                                                                   isinstance(v, str) and len(v) <= 60)}
        out.append({"id": rid, "account_id": int(r["account_id"]), "account": str(r.get("account", "")),
                    "label": str(src.get("label") or r.get(spec.label_field) or r.get("account", "")),
                    "date": str(when)[:10] if when else None, "values": values})
    return out
