"""The query agent: runs a `Plan` through the typed query layer and states what came back, cited.

A field lookup becomes one sentence per record; a list becomes a table (one cited line per row); an
aggregate gives its totals and groups; a metric gives its value with the formula's inputs and the
period; "what needs me today" is the briefing's own priorities.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from agents import arr_change, crm_activity, crm_rows, crm_today, record_facts, risk, row_text, top_count
from agents.context import Deps
from agents.state import Finding, RowRef, Table
from agents.understand import EACH_MARK, Plan, activity_words, one_activity, seniority, to_json
from agents.understand.edits import rows_of
from core import figures
from tools import access, crm, metrics
from tools.query import ENTITIES, Filter, QueryResult, run

_PCT = {"seat_utilization", "usage_change_30d", "error_rate", "onboarding_progress"}


def fmt(name: str, value: Any, kind: str = "") -> str:
    """One value the way every answer writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in _PCT:
        return figures.percent(value)
    if kind == "money" or name in ("arr", "contract_value", "arr_before", "arr_after", "spend", "spend_30d"):
        return f"${float(value):,.0f}"
    if name == "p_renew":
        return f"{float(value):.2f}"
    if name in ("eval_score", "loss_final"):
        return f"{float(value):.3f}"
    if name in ("requests_30d", "tokens_30d", "api_requests", "input_tokens", "output_tokens", "tokens"):
        return f"{float(value):,.0f}"
    if name == "health":
        return figures.score(value)
    if name in ("p95_ms", "p95_latency_ms", "p50_latency_ms", "days_to_renewal", "days_since_touch",
                "seats_used", "nps", "open_tickets", "open_high_tickets", "trend"):
        return f"{float(value):.0f}"
    if isinstance(value, bool) or kind == "bool":
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return str(value)


def _label(entity: str, name: str) -> str:
    col = ENTITIES[entity].fields.get(name)
    if name == "arr":
        return "ARR"
    return (col.label if col and col.label else name.replace("_", " ")) if name != "account" else "account"


def _line(res: QueryResult, row: dict[str, Any], full: bool = False) -> str:
    ent = res.query.entity
    kinds = {k: c.kind for k, c in ENTITIES[ent].fields.items()}
    head = row.get("account") if ent == "accounts" else None
    parts = []
    gone = row.get("left_on") if ent == "contacts" else None
    for c in res.columns:
        if c in ("account", "band", "body", "comment", "loss_summary") or row.get(c) is None:
            continue
        if gone and c in ("name", "is_champion", "left_on"):  # never shown as if still there
            if c == "name":
                parts.append(f"name {row['name']} (left on {fmt('left_on', gone)})")
            elif c == "is_champion" and row.get(c):
                parts.append("former champion")
            continue
        if c == "health":
            band = f" ({row['band']})" if row.get("band") else ""
            parts.append(f"health {fmt(c, row[c])}{band}")
        else:
            parts.append(f"{_label(ent, c)} {fmt(c, row.get(c), kinds.get(c, ''))}")
    text = ", ".join(parts)
    for long in ("comment", "loss_summary", "body"):
        if row.get(long) and long in res.columns:
            text += f": \u201c{str(row[long])[:1200 if full else 220]}\u201d"
    if head:
        return f"{head}: {text}"
    return f"{row['account']}: {text}" if "account" in res.columns or ent != "accounts" else text


def table(res: QueryResult) -> Table:
    """The rows as a table (columns, formatted cells, source per row) for the terminal and Slack."""
    kinds = {k: c.kind for k, c in ENTITIES[res.query.entity].fields.items()}
    cols = [c for c in res.columns if c not in ("body",)]
    if "account" not in cols:
        cols = ["account", *cols]
    return {"columns": [_label(res.query.entity, c) for c in cols],
            "rows": [[fmt(c, r.get(c), kinds.get(c, ""))[:120] for c in cols] for r in res.rows]}


def _lookup(f: Finding, p: Plan, res: QueryResult, former: list[dict[str, Any]], today: date) -> None:
    name = p.accounts[0]["name"]
    rows = res.rows
    if p.what.startswith("latest "):  # "when did they last open a ticket?": the newest one's date, any status
        crm_rows.newest(f, p, res, today)
        return
    if p.what == "person":  # "what's her email?" after a contact: the fields asked, and whether they left
        crm_rows.person(f, p, res, today)
        return
    if p.what == "economic buyer":
        rows = sorted(rows, key=lambda r: seniority(r.get("role")))[:1]
        f.data["rows"] = rows_of("contacts", rows)  # "his email?" next: the one named
        for r in rows:
            f.fact(f"{name}'s economic buyer is most likely {r['name']} ({r.get('role') or 'role not recorded'}), "
                   f"the most senior current contact on record", r["source"], kind="lookup")
    elif p.what == "champion":
        for r in rows:
            if r.get("left_on"):  # asked by name or about who left: never presented as current
                f.fact(f"{name}'s former champion {r['name']} ({r.get('role') or 'role not recorded'}) left on "
                       f"{r['left_on']}", r["source"], kind="lookup")
                continue
            email = f", {r['email']}" if r.get("email") else ""
            f.fact(f"{name}'s champion: {r['name']} ({r.get('role') or 'role not recorded'}{email})", r["source"],
                   kind="lookup")
        gone = [r for r in former if r.get("is_champion")]
        if gone and not rows:  # "what's her email?" next is about the former champion (said to have left)
            f.data["rows"] = rows_of("contacts", gone[:1])
            r = gone[0]
            f.fact(f"{name} has no current champion on record: {r['name']} ({r.get('role') or 'role not recorded'}), "
                   f"its champion, left on {r['left_on']}", r["source"], kind="lookup")
        elif gone:
            f.fact("Previous champion: " + "; ".join(f"{r['name']} ({r.get('role') or 'role not recorded'}), left on "
                                                     f"{r['left_on']}" for r in gone[:3]),
                   *[r["source"] for r in gone[:3]], kind="lookup")
        former = []
    elif p.what == "owner":
        for r in rows:
            team = f" ({r['team']} team)" if r.get("team") else ""
            f.fact(f"{name} is owned by {r.get('owner') or 'nobody'}{team}", r["source"], kind="lookup")
    elif p.what in ("last meeting", "last touch"):
        for r in rows:
            what = f"Last {r['kind']}" if r.get("kind") else "Last touch"
            ago = f", {(today - r['occurred_on']).days} days ago" if isinstance(r.get("occurred_on"), date) else ""
            f.fact(f"{what} with {name}: {r['occurred_on']}{ago} ({r['kind']}, {r['author']}), "
                   f"\u201c{r['subject']}\u201d: "
                   f"{str(r.get('body') or '')[:400]}", r["source"], kind="lookup")
    elif p.what == "tickets":
        still_open = any(x.field == "status" and x.op == "ne" and x.value == "closed" for x in res.query.filters)
        pri = next((x.value for x in res.query.filters if x.field == "priority"), None)
        kind = ("open " if still_open else "") + ("high-priority " if pri and "high" in pri else "")
        f.fact(f"{name} has {res.total} {kind}ticket{'s' if res.total != 1 else ''}",
               *[r["source"] for r in rows[:1]], kind="count")
        for r in rows:
            said = f": \u201c{str(r['body'])[:600]}\u201d" if r.get("body") else ""  # asked what it is about
            f.fact(f"{r['subject']} ({r['priority']}, {r['status']}, opened {r['opened_at']}){said}", r["source"],
                   kind="lookup")
    elif p.what == "milestones":
        if rows and rows[0].get("plan_target"):
            done = sum(1 for r in rows if r.get("status") == "done")
            f.fact(f"{name}'s onboarding plan targets go-live on {rows[0]['plan_target']}; {done} of {len(rows)} "
                   "milestones done", rows[0]["source"], kind="lookup")
        for r in rows:
            f.fact(f"{r['name']}: {r['status']}, due {r['due_date']}, owner {r['owner']}", r["source"], kind="lookup")
    elif p.what.startswith("ARR change"):  # "how much did that one grow by?": the renewal's change
        return arr_change.one(f, name, rows, latest=p.what.endswith("latest renewal"))
    elif p.what == "survey":
        for r in rows:
            who = f" from {r['contact']}" if r.get("contact") else ""
            note = f": \u201c{r['comment']}\u201d" if r.get("comment") else ""
            f.fact(f"{name}: {str(r['kind']).upper()} {r['score']} on {r['responded_on']}{who}{note}", r["source"],
                   kind="lookup")
    else:
        for r in rows:
            f.fact(_line(res, r, full=p.what == "record"), r["source"], kind="lookup")
    if former:
        crm_rows.left(f, former)
    elif not rows and p.what != "tickets" and not (p.what == "champion" and f.facts):  # tickets: the count says 0
        f.fact(activity_words.none_logged(res.query.filters, name) if p.what == "activities" else
               f"No {p.what} on record for {name}", crm.src("account", p.accounts[0]["account_id"], None, name),
               kind="lookup")
    if len(res.rows) > 1 and p.what not in ("economic buyer",):
        f.data["table"] = table(res)


def _aggregate(f: Finding, ctx: crm.ToolContext, p: Plan, res: QueryResult, scope: str,
               counted: int | None = None) -> None:
    t = res.totals
    if res.query.entity == "renewals" and not res.groups and "sum_arr_before" in t and "sum_arr_after" in t:
        rows = res.rows if len(res.rows) >= res.total else run(ctx, res.query.model_copy(update={"limit": None})).rows
        arr_change.state(f, f"{t.get('count', res.total)} {p.title.split(', with total')[0]} in {scope}", rows)
        if res.rows:
            f.data["table"] = table(res)
        return
    aggs = [a for a in res.query.aggregates if a.fn != "count" and a.field]
    extra = "; ".join(f"{'total' if a.fn == 'sum' else a.fn} {_label(res.query.entity, a.field or '')} "
                      f"{fmt(a.field or '', t.get(f'{a.fn}_{a.field}'))}" for a in aggs)
    srcs = [r["source"] for r in res.rows[:1 if res.query.entity == "telemetry" else 10]]
    if t.get("sum_arr_before") is not None and t.get("sum_arr_after") is not None:  # renewals: what changed
        delta = float(t["sum_arr_after"]) - float(t["sum_arr_before"])
        extra += f"; net ARR change {'-' if delta < 0 else '+'}${abs(delta):,.0f} (" + \
            (f"ARR lost ${-delta:,.0f})" if delta < 0 else f"ARR gained ${delta:,.0f})")
    head = f"{p.title[:1].upper()}{p.title[1:]}" if res.query.entity == "telemetry" and p.period is not None else \
        f"{t.get('count', res.total)} {p.title}"  # a usage total of the last accounts: its measure, not its days
    f.fact(top_count.head(p, res, counted, scope) if counted is not None else
           f"{head} in {scope}" + (f"; {extra}" if extra else ""), *srcs, kind="aggregate")
    for g in res.groups:
        parts = "; ".join(f"{'total' if a.fn == 'sum' else a.fn} {_label(res.query.entity, a.field or '')} "
                          f"{fmt(a.field or '', g.get(f'{a.fn}_{a.field}'))}" for a in aggs)
        gsrc = [r["source"] for r in res.rows if r["account_id"] in g["account_ids"]][
            :1 if res.query.entity == "telemetry" else 3]
        what = p.what.removesuffix(EACH_MARK)  # "Acme: 3 tickets", asked of each account
        if g["count"] == 1 and what.endswith("s"):  # "1 ticket", "1 activity"
            what = what[:-3] + "y" if what.endswith("ies") else what[:-1]
        f.fact(f"{g['group']}: {g['count']} {what}" + (f"; {parts}" if parts else ""), *gsrc, kind="group")
    if res.groups:
        f.data["table"] = {"columns": [res.query.group_by or "group", "count", *[
            f"{'total' if a.fn == 'sum' else a.fn} {_label(res.query.entity, a.field or '')}" for a in aggs]],
            "rows": [[str(g["group"]), str(g["count"]), *[fmt(a.field or '', g.get(f"{a.fn}_{a.field}"))
                                                         for a in aggs]] for g in res.groups]}
    elif res.rows and res.query.entity != "telemetry":  # a usage total is its figure, not a list of days
        for r in res.rows[:10]:
            f.fact(_line(res, r), r["source"], kind="row")
        f.data["table"] = table(res)
    # "tickets filed in May by priority": the records too
    if res.groups and res.query.entity not in ("accounts", "telemetry") and res.rows:
        group = res.query.group_by or ""
        for r in sorted(res.rows, key=lambda x: str(x.get(group) or ""))[:25]:
            f.fact(_line(res, r), r["source"], kind="row")


def _metric(f: Finding, ctx: crm.ToolContext, p: Plan, scope: str) -> None:
    assert p.metric is not None and p.period is not None
    ids = [a["account_id"] for a in p.accounts]
    filters = list(p.query.filters) if p.query is not None else []
    group = p.query.group_by if p.query is not None else None
    if group:  # one figure per CSM / team / segment, each over its own accounts
        values = sorted({str(r[group]) for r in run(ctx, p.query.model_copy(update={  # type: ignore[union-attr]
            "group_by": None, "fields": [group], "filters": filters})).rows if r.get(group)})
        for v in values:
            sub = Plan("metric", p.title, None, what=v, metric=p.metric, period=p.period, accounts=p.accounts)
            sub.query = p.query.model_copy(update={"group_by": None,  # type: ignore[union-attr]
                                                  "filters": [*filters, Filter(field=group, value=v)]})
            _metric(f, ctx, sub, f"{v}")
        return
    m = metrics.compute(ctx, p.metric, p.period.start, p.period.end, ids, filters)  # type: ignore[arg-type]
    name = metrics.NAMES[p.metric]
    where = p.accounts[0]["name"] if p.accounts else (f"{scope} ({p.what})" if p.what and scope.startswith("your")
                                                      else scope)
    period = p.period.describe()
    i = m.inputs
    if m.value is None:
        f.fact(f"{name} for {where}, {period}: no data (no {'responses' if 'responses' in i else 'renewals'} "
               f"in the period)", crm.src("metric", p.metric, p.period.end, name), kind="metric")
        return
    unit = "%" if p.metric in ("nrr", "grr", "logo_retention", "churn_rate") else ""
    if "start_arr" in i:
        detail = (f"start ARR ${i['start_arr']:,.0f}, expansion ${i['expansion']:,.0f}, contraction "
                  f"${i['contraction']:,.0f}, churned ARR ${i['churned_arr']:,.0f}; {i['renewals']} renewals, "
                  f"{i['churned']} churned")
    elif "promoters" in i:
        detail = (f"{i['responses']} responses: {i['promoters']} promoters, {i['passives']} passives, "
                  f"{i['detractors']} detractors")
    else:
        detail = f"{i['responses']} responses"
    f.fact(f"{name} for {where}, {period}: {m.value:g}{unit} = {m.formula} ({detail})",
           crm.src("metric", p.metric, p.period.end, f"{name} {p.period.start} to {p.period.end}"), *m.sources[:8],
           kind="metric")
    f.data["metric"] = {"metric": p.metric, "value": m.value, "inputs": i, "start": p.period.start.isoformat(),
                        "end": p.period.end.isoformat(), "formula": m.formula}


SHOWN = 50
"""The rows a list answer shows; a longer list says how many it has and how to narrow it."""


def _usage_rows(res: QueryResult) -> list[RowRef]:
    """A usage answer's rows as the dialogue keeps them: its accounts with their figures (days are not picked)."""
    if res.query.group_by != "account":
        return []
    return [{"id": g["account_ids"][0], "account_id": g["account_ids"][0], "account": str(g["group"]),
             "label": str(g["group"]), "date": None,
             "values": {str(a.field): g.get(f"{a.fn}_{a.field}") for a in res.query.aggregates if a.field}}
            for g in res.groups if len(g["account_ids"]) == 1]


def _outside(ctx: crm.ToolContext, p: Plan) -> str | None:
    """A team or CSM the question names that the asker may not see (said so, never counted as 0)."""
    if p.query is None:
        return None
    named = {k: [v for flt in p.query.filters if flt.field == k and flt.op in ("eq", "in")
                 for v in (flt.value if isinstance(flt.value, list) else [flt.value]) if isinstance(v, str)]
             for k in ("team", "owner")}
    return access.outside_scope(ctx.store, ctx.viewer, named["team"], named["owner"])


def run_plan(deps: Deps, ctx: crm.ToolContext, p: Plan, who: str) -> Finding:
    """Run one plan within the asker's scope; the finding cites every record it states."""
    account = p.accounts[0] if p.shape == "lookup" else None
    f = Finding("query", account)
    scope = "your portfolio" if ctx.viewer.role == "csm" else "your scope"
    f.data = {"shape": p.shape, "title": p.title}
    outside = _outside(ctx, p)
    if outside:  # "what about west" from an East manager: outside their scope, never "0 accounts" as a fact
        f.fact(outside)
        return f
    if p.shape == "metric":
        _metric(f, ctx, p, scope)
        return f
    if p.shape == "today" and p.what == "changes":
        crm_today.changes(f, deps, who, p)
        return f
    if p.shape == "today":
        crm_today.today(f, deps, who)
        return f
    assert p.query is not None
    if p.shape == "signals" and p.period is not None:  # risk signals over a book, in the window asked
        rows = run(ctx, p.query).rows
        f.data["accounts"] = []
        risk.book(deps, ctx, f, {int(r["account_id"]): str(r["account"]) for r in rows}, p.period.start,
                  p.period.end, p.what or "your accounts")
        return f
    if p.shape == "lookup" and p.what == one_activity.WHAT:  # "what did hank say on the 11-15 call?"
        crm_activity.state(f, ctx, p.query, p.accounts[0]["name"])
        return f
    p, counted = top_count.narrow(ctx, p) if p.top and p.query.group_by else (p, None)  # "which account had the most"
    assert p.query is not None
    query, former = crm_rows.current(ctx, p.query)
    res = run(ctx, query)
    f.data["entity"] = p.query.entity
    f.data["rows"] = rows_of(p.query.entity, res.rows) if p.query.entity != "telemetry" else \
        _usage_rows(res)  # the dialogue keeps them for "the second one"
    if p.query.entity == "telemetry" and f.data["rows"]:
        f.data["entity"] = "accounts"  # "who owns the second one?" after usage per account: that account
    f.data["total"] = res.total  # a pick asked of a list cut short is asked of the query
    seen: dict[int, str] = {}
    for r in res.rows:
        seen.setdefault(int(r["account_id"]), str(r["account"]))
    f.data["accounts"] = [{"account_id": k, "name": v} for k, v in seen.items()]
    if p.query.entity == "telemetry" and f.data["rows"]:  # the ranked accounts, not the accounts of some days
        f.data["accounts"] = [{"account_id": r["account_id"], "name": r["account"]} for r in f.data["rows"]]
    kinds = [x for x in p.query.filters if x.field == "kind" and p.query.entity == "activities"]
    if p.shape == "lookup" and not res.rows and kinds and (p.what in ("last meeting", "last touch") or
                                                           p.what.startswith("latest ")):
        kind = kinds[0].value
        res = run(ctx, p.query.model_copy(update={"filters": [x for x in p.query.filters if x not in kinds]}))
        f.fact(f"No {kind} on record for {p.accounts[0]['name']}",  # no such activity: say what the last one was
               crm.src("account", p.accounts[0]["account_id"], None, p.accounts[0]["name"]), kind="lookup")
        p = Plan(p.shape, p.title, res.query, what="latest activity logged" if p.what.startswith("latest ") else
                 "last touch", accounts=p.accounts)
        f.data["rows"], f.data["total"] = rows_of(res.query.entity, res.rows), res.total  # what "what did it say?"
        f.data["plan"] = to_json(p)  # picks next: the activity shown, not the kind that had none
    newer: list[dict[str, Any]] = []
    if p.shape == "lookup" and res.rows and len(kinds) == 1 and p.what in ("last meeting", "last touch"):
        newer = [r for r in run(ctx, res.query.model_copy(update={"filters": [x for x in res.query.filters
                                                                               if x not in kinds]})).rows
                 if r.get("occurred_on") and r["occurred_on"] > res.rows[0]["occurred_on"]]
    if p.shape == "lookup":
        _lookup(f, p, res, former, ctx.as_of)
        if p.what == "record" and query.entity == "fine_tunes" and len(res.rows) == 1:  # its settings, and the last
            record_facts.fine_tune(f, ctx, res.rows[0])  # good run's: "why did the November one fail?"
        crm_rows.nobody_in_role(f, ctx, p, res)  # "who's their procurement contact?" and nobody is: who is there
        for nw in newer[:1]:  # "the latest note": notes only, and a newer activity of another kind is named
            f.fact(f"Only {kinds[0].value}s are counted here; the newest activity of any kind with "
                   f"{p.accounts[0]['name']} is {'an' if nw['kind'][0] in 'aeiou' else 'a'} {nw['kind']} on "
                   f"{nw['occurred_on']} (\u201c{nw['subject']}\u201d)", nw["source"], kind="lookup")
        return f
    if p.shape == "aggregate":
        _aggregate(f, ctx, p, res, scope, counted)
    elif p.what == "what they said":  # "what did they complain about?": the rows' own words, quoted
        row_text.state(f, res, scope)
    else:
        label = p.title
        n = min(len(res.rows), SHOWN)  # a long list shows its first rows and says how to reach the rest
        stated = bool(res.query.limit) and n == len(res.rows)  # "top 3": the three asked for
        shown = "" if n >= res.total else f" (showing {n} of {res.total})" if stated else \
            f" (showing the first {n} of {res.total} in this order; narrow it, by a window, an owner or a status, " \
            "to see the rest)"
        f.fact(f"{res.total} {label} in {scope}{shown}" if p.shape == "list" else f"Side by side: {label}",
               *[r["source"] for r in res.rows[:1]], kind="count")
        for r in res.rows[:SHOWN]:
            f.fact(_line(res, r), r["source"], kind="row")
        f.data["table"] = table(res)
        crm_rows.other_kinds(f, ctx, res.query)  # "notes": the notes, and how many calls and meetings beside
    crm_rows.left(f, former)
    return f
