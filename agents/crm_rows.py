"""One record stated the way it was asked: a person's fields, the latest record of a kind, who has left.

Split from `agents.crm_query`: "what's her email?" after a contact is that contact's email (and that she left,
if she did), never the whole record again; "when did they last open a ticket?" is the newest ticket's date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.state import Finding
from agents.understand import Plan
from agents.understand.edits import rows_of
from tools import crm
from tools.query import ENTITIES, Filter, Query, QueryResult, run

_PERSON_WORDS = {"email": "email", "role": "title", "last_engaged": "last engaged", "is_champion": "champion",
                 "left_on": "still there"}


_LONG = ("body", "comment", "loss_summary")


def left(f: Finding, former: list[dict[str, Any]]) -> None:
    """The contacts left out because they have left the company, each named with the day they left."""
    for r in former[:8]:
        role = f" ({r['role']}{', champion' if r.get('is_champion') else ''})" if r.get("role") else ""
        f.fact(f"Left the company: {r['account']}: {r['name']}{role}, left on {r['left_on']}", r["source"],
               kind="left")
    if len(former) > 8:
        f.fact(f"{len(former) - 8} more contacts on record have left the company", kind="left")


def _ago(v: Any, today: date) -> str:
    d = v if isinstance(v, date) else date.fromisoformat(str(v)[:10]) if v else None
    return f", {(today - d).days} days ago" if d is not None and d <= today else ""


def person(f: Finding, p: Plan, res: QueryResult, today: date) -> None:
    """The fields asked of one contact, and, first, that they left if the CRM says so (never shown as current)."""
    fields = res.query.fields
    asked = [c for c in fields[:fields.index("name")] if c in _PERSON_WORDS] if "name" in fields else []
    for r in res.rows:
        who, where = r["name"], r.get("account") or p.accounts[0]["name"]
        role = f" ({r['role']})" if r.get("role") and "role" not in asked else ""
        if r.get("left_on"):
            was = ", who was its champion," if r.get("is_champion") else ""
            f.fact(f"{who}{role}{was} left {where} on {r['left_on']}: not a current contact", r["source"],
                   kind="lookup")
        elif "left_on" in asked:
            f.fact(f"{who}{role} is still at {where} (no leaving date on record)", r["source"], kind="lookup")
        for c in asked:
            if c == "email":
                f.fact(f"{who}'s email: {r.get('email') or 'not on record'}", r["source"], kind="lookup")
            elif c == "role":
                f.fact(f"{who}'s title: {r.get('role') or 'not on record'}", r["source"], kind="lookup")
            elif c == "last_engaged":
                seen = r.get("last_engaged")
                f.fact(f"{who} last engaged with us on {seen}{_ago(seen, today)}" if seen else
                       f"No engagement with {who} on record", r["source"], kind="lookup")
            elif c == "is_champion" and not r.get("left_on"):
                f.fact(f"{who} is {'' if r.get('is_champion') else 'not '}{where}'s champion", r["source"],
                       kind="lookup")
    if not res.rows:
        f.fact(f"That contact is no longer on record at {p.accounts[0]['name']}",
               crm.src("account", p.accounts[0]["account_id"], None, p.accounts[0]["name"]), kind="lookup")


def newest(f: Finding, p: Plan, res: QueryResult, today: date) -> None:
    """"when did they last open a ticket?": the newest record by that verb's date, whatever its status now."""
    name = p.accounts[0]["name"]
    whose = name + ("'" if name.endswith("s") else "'s")
    q = res.query
    field = q.sort[0].field if q.sort else ""
    kind = p.what.removeprefix("latest ")
    for r in res.rows:
        rest = ", ".join(f"{c.replace('_', ' ')} {str(r[c])[:10] if c.endswith(('_at', '_on', '_date')) else r[c]}"
                         for c in q.fields[2:] if r.get(c) is not None and c not in (field, *_LONG))
        label = next((str(r[c]) for c in q.fields[1:2] if r.get(c)), "")
        said = next((str(r[c]) for c in _LONG if r.get(c) and c in q.fields), "")
        what = f"\u201c{label}\u201d" + (f" ({rest})" if rest else "")
        if q.entity == "surveys" and r.get("score") is not None:  # "NPS 3", as a survey score is written elsewhere
            what = f"{(r.get('kind') or 'survey').upper()} {r['score']}"
        f.fact(f"{whose} latest {kind}: {str(r[field])[:10]}{_ago(r[field], today)}, {what}"
               + (f": \u201c{said[:300]}\u201d" if said else ""), r["source"], kind="lookup")
    if not res.rows:  # "No NPS response on record for X, so none was answered"
        f.fact(f"No {kind.rsplit(' ', 1)[0]} on record for {name}, so none was {kind.rsplit(' ', 1)[-1]}",
               crm.src("account", p.accounts[0]["account_id"], None, name), kind="lookup")


def current(ctx: crm.ToolContext, q: Query) -> tuple[Query, list[dict[str, Any]]]:
    """A contacts question reads the people still there; the ones who left come back apart, to be named as such.

    A question that names a person, asks about leaving or picks rows of an earlier answer reads as asked.
    """
    if q.entity != "contacts":
        return q, []
    if q.row_ids or len(q.filters) >= 8 or any(x.field in ("left_on", "name", "email") for x in q.filters):
        fields = q.fields or ENTITIES["contacts"].default_fields
        if "left_on" not in fields and len(fields) < 12:
            q = q.model_copy(update={"fields": [*fields, "left_on"]})
        return q, []
    gone = q.model_copy(update={"filters": [*q.filters, Filter(field="left_on", op="not_null")], "limit": 20,
                                "aggregates": [], "group_by": None, "sort": [],
                                "fields": ["name", "role", "email", "is_champion", "left_on"]})
    return q.model_copy(update={"filters": [*q.filters, Filter(field="left_on", op="is_null")]}), run(ctx, gone).rows


def other_kinds(f: Finding, ctx: crm.ToolContext, q: Query) -> None:
    """Notes asked for are the notes (kind note); the other kinds logged in the same scope and window are counted.

    "Notes" may mean every activity: the answer says which it used and how many calls, meetings and emails it
    left out, so the asker can widen it ("all activities ...") rather than miss them.
    """
    kinds = [x for x in q.filters if x.field == "kind" and x.op == "eq" and x.value == "note"]
    if q.entity != "activities" or not kinds or q.row_ids or q.group_by:
        return
    rest = run(ctx, q.model_copy(update={"filters": [x for x in q.filters if x not in kinds], "limit": None,
                                         "fields": ["kind", "occurred_on"], "sort": []}))
    count: dict[str, int] = {}
    for r in rest.rows:
        if r.get("kind") != "note":
            count[str(r.get("kind"))] = count.get(str(r.get("kind")), 0) + 1
    if count:
        said = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(count.items(), key=lambda kv: -kv[1]))
        f.fact(f"Read \u201cnotes\u201d as CSM notes (activities of kind note); also logged in the same scope and "
               f"window: {said} (say \u201call kinds\u201d to see them)", kind="count")


def nobody_in_role(f: Finding, ctx: crm.ToolContext, p: Plan, res: QueryResult) -> None:
    """A contact asked by role that no current contact fills: who is there instead (and the rows say them)."""
    q = res.query
    if p.shape != "lookup" or q.entity != "contacts" or res.rows or not p.accounts or \
            not any(x.field == "role" for x in q.filters):
        return
    there = run(ctx, Query(entity="contacts", account_ids=q.account_ids, filters=[Filter(field="left_on",
                                                                                          op="is_null")],
                           fields=["name", "role", "email", "is_champion", "left_on", "last_engaged"], limit=12))
    name = p.accounts[0]["name"]
    if not there.rows:
        f.fact(f"{name} has no current contacts on record", crm.src("account", p.accounts[0]["account_id"], None,
                                                                    name), kind="lookup")
        return
    f.fact(f"Current contacts at {name}: " + "; ".join(
        f"{r['name']} ({r.get('role') or 'title not recorded'}{', champion' if r.get('is_champion') else ''})"
        for r in there.rows), *[r["source"] for r in there.rows], kind="lookup")
    f.data["rows"] = rows_of("contacts", there.rows)  # "her email?" next: which of them
    f.data["total"] = there.total
