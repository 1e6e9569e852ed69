"""Parts of a message the router answers one by one, and picks that several rows share (split from router.py).

"who owns the second one and how healthy is it?" asks two things: each part is answered by a field lookup
or an agent, or named as not applied. "the biggest" when two rows share the top value shows both and says so.
"""

from __future__ import annotations

from datetime import date

from agents import understand
from agents.router_edits import _intents
from agents.specs import SPECS
from agents.state import AccountRef, Route
from tools import access, crm
from tools.query import ENTITIES, run


def unlooked(low: str, accounts: list[AccountRef], today: date) -> list[str]:
    """The agents that answer a part of the message no field lookup covers ("... and how healthy is it?")."""
    return [i for i, _ in parts(low, accounts, today) if i]


def parts(low: str, accounts: list[AccountRef], today: date) -> list[tuple[str, str]]:
    """The parts of a compound question about one account no lookup covers, each with the agent that answers it."""
    parts = understand.clauses(low)
    if len(accounts) != 1 or len(parts) < 2:
        return []
    out: list[tuple[str, str]] = []
    for part in parts:
        if understand.lookup(part, accounts[0], today):
            continue
        found = [i for i in _intents(part) if i in SPECS and SPECS[i].per_account]
        out += [(i, part) for i in found if i not in [x for x, _ in out]] or [("", part.strip(" ?!."))]
    return out


def tie(ctx: crm.ToolContext, r: Route) -> None:
    """A pick by a measure ("the biggest") that several rows share: all of them, and the reading says so."""
    p = understand.from_json(r["plans"][0]) if r["plans"] and "query" in r["intents"] else None
    if p is None or p.shape != "list" or p.query is None or p.query.limit != 1 or not p.query.sort:
        return
    key = p.query.sort[0].field
    res = run(ctx, p.query.model_copy(update={"limit": None}))
    vals = [row.get(key) for row in res.rows]
    if len(vals) < 2 or vals[0] is None or vals[1] != vals[0]:
        return
    n = sum(1 for v in vals if v == vals[0])
    label = ENTITIES[p.query.entity].fields[key].label or key.replace("_", " ")
    v = vals[0]
    shown = f"${float(v):,.0f}" if ENTITIES[p.query.entity].fields[key].kind == "money" else \
        f"{v:g}" if isinstance(v, float) else str(v)[:10]
    p.query = p.query.model_copy(update={"limit": min(n, 25)})
    r["plans"] = [understand.to_json(p), *r["plans"][1:]]
    r["tie"] = f"{n} tie for the {'highest' if p.query.sort[0].desc else 'lowest'} {label} ({shown}) of {res.total}"


def outside(ctx: crm.ToolContext, r: Route) -> None:
    """A question about a team or CSM wholly outside the asker's scope is refused in one line, never counted as 0."""
    p = understand.from_json(r["plans"][0]) if r["plans"] and "query" in r["intents"] else None
    if p is None or p.query is None:
        return
    named = {k: [v for f in p.query.filters if f.field == k and f.op in ("eq", "in")
                 for v in (f.value if isinstance(f.value, list) else [f.value]) if isinstance(v, str)]
             for k in ("team", "owner")}
    why = access.outside_scope(ctx.store, ctx.viewer, named["team"], named["owner"])
    if why:
        r["refused"] = why
