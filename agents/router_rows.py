"""A record a follow-up names by a word its text holds ("the 503 one"), found among the last answer's accounts.

The last answer may have listed accounts (or other records) while the message points at a ticket, a note or a
survey answer of theirs by a word only that record carries: that one record is picked, in the asker's scope,
and answered about; several are asked about; none leaves the message to the usual reading.

Also the list behind rows: accounts listed for records of theirs narrowed by those records ("only the high
priority ones" after accounts with open tickets), and a bound of the list replaced after a pick from it.
"""

from __future__ import annotations

import re
from typing import Any

from agents.state import Dialogue, Route, RowRef
from agents.understand import edits
from agents.understand.edit_ops import RecordFilter
from agents.understand.model import from_json
from agents.understand.row_asks import record_word
from tools import crm
from tools.query import ENTITIES, Filter, Query, run

_TEXT = {"tickets": ("subject", "body"), "activities": ("subject", "body"), "surveys": ("comment",),
         "milestones": ("name",), "fine_tunes": ("base_model", "loss_summary")}
_ONE = {"activities": "activity", "surveys": "survey response", "fine_tunes": "fine-tune"}


def _found(ctx: crm.ToolContext, entity: str, ids: list[int], word: str, body: bool,
           row_ids: list[int] | None = None) -> list[RowRef]:
    """The records holding `word` (its name first); among `row_ids` only, when given (the rows listed)."""
    spec = ENTITIES[entity]
    said = re.compile(rf"(?<![a-z0-9]){re.escape(word.lower())}")  # "the coo one" is not a "cooperation"
    for col in _TEXT.get(entity, ())[:None if body else 1]:  # its name first: "the 503 one" is the ticket titled so
        q = Query(entity=entity, account_ids=[] if row_ids else ids, row_ids=row_ids or [],
                  filters=[Filter(field=col, op="contains", value=word)], fields=list(dict.fromkeys(
                      [*spec.default_fields, col])), limit=10)  # type: ignore[arg-type]
        hits = [r for r in run(ctx, q).rows if said.search(str(r.get(col) or "").lower())]
        rows = edits.rows_of(entity, hits)
        if rows:
            return rows
    return []


def record_pick(ctx: crm.ToolContext, question: str, d: Dialogue) -> tuple[Dialogue, edits.SelectRow] | Route | None:
    """The dialogue narrowed to the one record the message names by a word, with the pick; a question if several."""
    rows = d.get("rows") or []
    asked = record_word(question, rows, d.get("entity") or "accounts")
    if asked is None:
        return None
    ids = sorted({r["account_id"] for r in rows}) or [a["account_id"] for a in d.get("accounts") or []]
    own = str(d.get("entity")) if d.get("entity") in _TEXT and rows else None
    for entity in ([own] if own else []) + [e for e in asked.entities if e != own]:
        # the rows listed first, by any of their words ("the layoffs one" after notes); then the accounts' records
        listed = [r["id"] for r in rows] if entity == own else None
        hits = _found(ctx, entity, ids, asked.word, asked.distinct or listed is not None, listed)
        if listed is not None and not hits:
            continue
        if len(hits) == 1:
            how = f"the {asked.word} one"
            kept = rows if listed is not None else hits  # a row of the list: the list stays what a next pick is from
            return {**d, "entity": entity, "rows": kept}, edits.SelectRow(hits[0], how, fields=asked.fields)
        if hits:
            shown = ", ".join(f"{k}. {r['account']}: {r['label']}" + (f" ({r['date']})" if r.get("date") else "")
                              for k, r in enumerate(hits[:8], 1))
            return _ask(f"More than one {_ONE.get(entity, entity[:-1])} mentions \u2018{asked.word}\u2019 ({shown}). "
                        "Say which by its date or its words.")
    return None


def _ask(text: str) -> Route:
    out: dict[str, Any] = {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                           "window_days": None, "method": "edit: PickRecord", "plans": [], "clarify": text}
    return out  # type: ignore[return-value]


def by_records(ctx: crm.ToolContext, e: edits.Edit, d: Dialogue) -> edits.Edit:
    """"only the high priority ones" after accounts with open tickets: the listed accounts whose records match."""
    if not isinstance(e, RecordFilter) or not d.get("plan"):
        return e
    last = from_json(d["plan"])  # type: ignore[arg-type]
    if last.query is None:
        return e
    base = from_json((d.get("base") or {}).get("plan") or {}) if (d.get("base") or {}).get("plan") else None
    if base is not None and base.query is not None and base.query.entity == "accounts" and last.query.account_ids:
        last = base  # "only the normal ones" after "only the high priority ones": of the list both narrowed
    listed = run(ctx, last.query.model_copy(update={"limit": None, "offset": 0,  # type: ignore[union-attr]
                                                    "fields": ["account"]})).rows
    prior = list(dict.fromkeys(int(r["account_id"]) for r in listed))
    hits = {int(r["account_id"]) for r in run(ctx, Query(entity=e.entity, filters=e.filters,  # type: ignore[arg-type]
                                                         account_ids=prior or [-1], fields=["account"])).rows}
    return edits.SetFilters([], e.said, [i for i in prior if i in hits] or [-1])  # none: an empty answer, said so


def records_said(e: edits.Edit) -> str:
    """The reading's words for a narrowing by records ("Only the accounts whose open tickets include ...")."""
    return f"Only the accounts whose {e.of} include {' or '.join(e.said)} ones" if isinstance(e, RecordFilter) else ""


def rebound(found: list[edits.Edit], base: Dialogue) -> bool:
    """Whether edits replace a bound or value the list itself had ("what about under 7" after a pick).

    After a pick from the NPS answers under 5, the list is re-run with the new bound, never the picked row filtered.
    """
    p = from_json(base["plan"]) if base.get("plan") else None  # type: ignore[arg-type]
    had = {f.field for f in p.query.filters} if p is not None and p.query is not None else set()
    return bool(found) and all(isinstance(e, edits.SetFilters) and e.filters and not e.widen and
                               all(f.field in had for f in e.filters) for e in found)


def a_scope(found: list[edits.Edit]) -> bool:
    """Whether edits move a list to another team or CSM ("what about Noah's team, same thing", "same for Lena")."""
    return any(isinstance(e, edits.SetFilters) and any(f.field in ("team", "owner") for f in e.filters)
               for e in found)


def a_shift(found: list[edits.Edit]) -> bool:
    """Whether edits only move the window ("the 30 days before that", "a year earlier"): an edit of a list's period."""
    return bool(found) and all(isinstance(e, edits.ShiftPeriod) for e in found)
