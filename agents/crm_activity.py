"""One activity stated in full: the note, call, meeting or email of the day asked, or the nearest ones if none.

The plan (`agents.understand.one_activity`) holds the account, the kind, the day or window and a person's name as
a word the text should carry. The records of that day (of that kind) are quoted whole, the ones naming the
person first; a day with none says so and quotes the nearest records of that kind (of any kind when it has
none), each with its date, so a CSM never reads another day's notes as the day they asked about.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.state import Finding
from agents.understand.edits import rows_of
from tools import crm
from tools.query import Filter, Query, Sort, run

_SHOWN = 3


def _day(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def _says(f: Finding, r: dict[str, Any], name: str) -> None:
    f.fact(f"{str(r['kind']).capitalize()} with {name} on {_day(r['occurred_on']).isoformat()} ({r['author']}), "
           f"\u201c{r['subject']}\u201d: \u201c{str(r.get('body') or '')[:1500]}\u201d", r["source"], kind="lookup")


def _mentions(r: dict[str, Any], who: str) -> bool:
    return who.lower() in " ".join(str(r.get(k) or "") for k in ("body", "subject", "author")).lower()


def state(f: Finding, ctx: crm.ToolContext, q: Query, name: str) -> None:
    """The records of the plan's day (or the latest / the nearest), quoted, and kept as the answer's rows."""
    kind = next((x.value for x in q.filters if x.field == "kind"), None)
    when = next((x.value for x in q.filters if x.field == "occurred_on" and x.op == "between"), None)
    who = next((str(x.value) for x in q.filters if x.field == "body" and x.op == "contains"), None)
    base = Query(entity="activities", account_ids=q.account_ids, fields=q.fields,
                 filters=[Filter(field="kind", value=kind)] if kind else [], sort=[Sort(field="occurred_on",
                                                                                        desc=True)])
    rows = run(ctx, base).rows
    every = rows if kind is None else run(ctx, base.model_copy(update={"filters": []})).rows
    start, end = (date.fromisoformat(str(when[0])[:10]), date.fromisoformat(str(when[1])[:10])) if when else \
        (None, None)
    that = [r for r in rows if start is None or start <= _day(r["occurred_on"]) <= end]  # type: ignore[operator]
    named = [r for r in that if who and _mentions(r, who)]
    what = kind or "activity"
    span = "" if start is None else f" on {start.isoformat()}" if start == end else \
        f" from {start.isoformat()} to {end.isoformat()}"  # type: ignore[union-attr]
    shown: list[dict[str, Any]] = []
    if named:
        shown = named if when else named[:1]  # no day said: the latest one that names them
    elif that:
        shown = that if when else that[:1]
        if who:
            f.fact(f"No {what} with {name}{span} mentions \u2018{who}\u2019; "
                   f"{'the one' if len(shown) == 1 else 'the ones'} logged then:",
                   crm.src("account", q.account_ids[0], None, name), kind="lookup")
    if shown:
        for r in shown[:_SHOWN]:
            _says(f, r, name)
        if len(shown) > _SHOWN:
            f.fact(f"{len(shown) - _SHOWN} more {what} records{span}", kind="lookup")
    else:
        pool = rows or every
        f.fact(f"No {what} logged with {name}{span}" + (" (none at all on record)" if not rows and kind else ""),
               crm.src("account", q.account_ids[0], None, name), kind="lookup")
        if start is not None and pool:
            near = sorted(pool, key=lambda r: (min(abs((_day(r["occurred_on"]) - start).days),  # type: ignore
                                                   abs((_day(r["occurred_on"]) - end).days)),  # type: ignore
                                               -_day(r["occurred_on"]).toordinal()))[:_SHOWN]
            f.fact(f"The nearest {what if rows else 'activity'} records logged with {name}: " +
                   ", ".join(_day(r["occurred_on"]).isoformat() for r in near), *[r["source"] for r in near],
                   kind="lookup")
            for r in near:
                _says(f, r, name)
            shown = near
    f.data["entity"] = "activities"
    f.data["rows"] = rows_of("activities", shown[:_SHOWN])  # "who wrote it?" next is about the one quoted
    f.data["total"] = len(shown[:_SHOWN])
    f.data["accounts"] = [{"account_id": q.account_ids[0], "name": name}]
