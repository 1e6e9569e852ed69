"""The `Plan`: what a message asks for, as data the query tools can run (and its JSON form in the route)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from agents.state import AccountRef
from agents.when import Span
from tools.query import Query

Shape = Literal["lookup", "list", "aggregate", "compare", "metric", "today", "signals"]
EACH_MARK = " at each"
"""The end of a plan's `what` when it is asked of every row of the last answer ("who's the champion at each?")."""


@dataclass
class Plan:
    """What a message asks for, as data the tools can run."""

    shape: Shape
    title: str
    query: Query | None = None
    what: str = ""  # the field or list asked for, in words ("champion", "open tickets")
    metric: str | None = None
    period: Span | None = None
    accounts: list[AccountRef] = field(default_factory=list)
    top: bool = False  # grouped counts: only the group(s) with the most records ("which account had the most")



def to_json(p: Plan) -> dict[str, Any]:
    """A plan as the checkpointed route holds it."""
    return {"shape": p.shape, "title": p.title, "what": p.what, "metric": p.metric,
            "query": p.query.model_dump(mode="json") if p.query else None,
            "period": None if p.period is None else [p.period.start.isoformat(), p.period.end.isoformat(),
                                                     p.period.text],
            "accounts": list(p.accounts), **({"top": True} if p.top else {})}


def from_json(d: dict[str, Any]) -> Plan:
    """A plan back from the route."""
    per = d.get("period")
    return Plan(d["shape"], d["title"], Query(**d["query"]) if d.get("query") else None, what=d.get("what", ""),
                metric=d.get("metric"), accounts=list(d.get("accounts") or []),
                period=Span(date.fromisoformat(per[0]), date.fromisoformat(per[1]), per[2]) if per else None,
                top=bool(d.get("top")))
