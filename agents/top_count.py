"""The account with the most records of a kind: "which account had the most tickets closed in Q3?".

The plan counts the records per account (its window on the date the verb names); this keeps only the
account(s) with the highest count, every tied one with it, and states them with the count and the total.
"""

from __future__ import annotations

from dataclasses import replace

from agents.understand import Plan
from tools import crm
from tools.query import Filter, QueryResult, run


def narrow(ctx: crm.ToolContext, p: Plan) -> tuple[Plan, int | None]:
    """The plan cut to its top group(s), and how many records were counted in all (None: nothing to cut)."""
    assert p.query is not None
    q = p.query.model_copy(update={"having": None, "limit": None})
    res = run(ctx, q)
    groups = [g for g in res.groups if g["group"] != "(none)"]
    if not groups:
        return p, None
    most = max(int(g["count"]) for g in groups)
    return replace(p, query=q.model_copy(update={"having": Filter(field="count", op="eq", value=most)})), res.total


def head(p: Plan, res: QueryResult, total: int, scope: str) -> str:
    """"Horizon Data and Redwood Energy tie for the most tickets ... (5 each, of 40 in your portfolio)"."""
    names = [str(g["group"]) for g in res.groups]
    n = int(res.groups[0]["count"]) if res.groups else 0
    what = p.title.split(", by account")[0].split(" by account")[0]  # an edited plan's title is its reading
    if len(names) > 1:
        said = ", ".join(names[:-1]) + f" and {names[-1]}"
        return f"{len(names)} accounts tie for the most {what}: {said}, {n} each (of {total} in {scope})"
    return f"{names[0] if names else 'No account'} had the most {what}: {n} (of {total} in {scope})"
