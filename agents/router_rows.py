"""A record a follow-up names by a word its text holds ("the 503 one"), found among the last answer's accounts.

The last answer may have listed accounts (or other records) while the message points at a ticket, a note or a
survey answer of theirs by a word only that record carries: that one record is picked, in the asker's scope,
and answered about; several are asked about; none leaves the message to the usual reading.
"""

from __future__ import annotations

from typing import Any

from agents.state import Dialogue, Route, RowRef
from agents.understand import edits
from agents.understand.row_asks import record_word
from tools import crm
from tools.query import ENTITIES, Filter, Query, run

_TEXT = {"tickets": ("subject", "body"), "activities": ("subject", "body"), "surveys": ("comment",),
         "milestones": ("name",), "fine_tunes": ("base_model", "loss_summary")}


def _found(ctx: crm.ToolContext, entity: str, ids: list[int], word: str, body: bool) -> list[RowRef]:
    spec = ENTITIES[entity]
    for col in _TEXT.get(entity, ())[:None if body else 1]:  # its name first: "the 503 one" is the ticket titled so
        q = Query(entity=entity, account_ids=ids, filters=[Filter(field=col, op="contains", value=word)],
                  fields=list(spec.default_fields), limit=10)  # type: ignore[arg-type]
        rows = edits.rows_of(entity, run(ctx, q).rows)
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
    for entity in asked.entities:
        hits = _found(ctx, entity, ids, asked.word, asked.distinct)
        if len(hits) == 1:
            how = f"the {asked.word} one"
            return {**d, "entity": entity, "rows": hits}, edits.SelectRow(hits[0], how, fields=asked.fields)
        if hits:
            shown = ", ".join(f"{k}. {r['account']}: {r['label']}" + (f" ({r['date']})" if r.get("date") else "")
                              for k, r in enumerate(hits[:8], 1))
            return _ask(f"More than one {entity.replace('_', '-')[:-1]} mentions \u2018{asked.word}\u2019 ({shown}). "
                        "Say which by its date or its words.")
    return None


def _ask(text: str) -> Route:
    out: dict[str, Any] = {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                           "window_days": None, "method": "edit: PickRecord", "plans": [], "clarify": text}
    return out  # type: ignore[return-value]
