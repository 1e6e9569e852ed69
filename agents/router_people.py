"""Another person named after a contact was shown ("and Riley's email?"), found in the asker's scope.

The name is looked up among the contacts of the conversation's accounts when it was found there, otherwise
among every contact the asker may see (the query layer applies the scope). One contact: the follow-up is about
that person. Several: one line asks which, listing them. None: one line says so.
"""

from __future__ import annotations

import re
from typing import Any

from agents.state import Dialogue, Route
from agents.understand import edits
from tools import crm
from tools.query import Filter, Query, run


def person_pick(ctx: crm.ToolContext, sw: edits.SwitchPerson, d: Dialogue) -> tuple[Dialogue, edits.SelectRow] | Route:
    """The dialogue holding the one contact the name means, with the pick; a question when several or none."""
    rows = [*(d.get("rows") or []), *((d.get("base") or {}).get("rows") or [])]
    ids = sorted({r["account_id"] for r in rows} | {a["account_id"] for a in d.get("accounts") or []})
    hits = []
    for where in ([ids] if sw.local else [ids, []]) if ids else [[]]:  # the conversation's accounts, then the scope
        q = Query(entity="contacts", account_ids=where, filters=[Filter(field="name", op="in", value=list(sw.names))],
                  fields=["name", "role", "email", "account", "left_on"], limit=20)
        hits = edits.rows_of("contacts", run(ctx, q).rows)
        if hits:
            break
    name = sw.said.title()
    if len(hits) == 1:
        return {**d, "entity": "contacts", "rows": hits}, edits.SelectRow(hits[0], edits.NAMED, fields=sw.fields)
    if not hits:
        return _ask(f"I found no contact named {name} at the accounts you can see. Say their full name, or the "
                    "account they are at.")
    shown = "; ".join(f"{r['label']} ({r['account']}" + (f", {r['values']['role']}" if r["values"].get("role")
                                                          else "") + ")" for r in hits[:8])
    return _ask(f"Which {name} do you mean: {shown}? Say the account or the full name.")


def _ask(text: str) -> Route:
    out: dict[str, Any] = {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                           "window_days": None, "method": "edit: SwitchPerson", "plans": [], "clarify": text}
    return out  # type: ignore[return-value]


_UNHELD = re.compile(r"\b(?:(?:cell|mobile|office|direct|work)\s+)?(?:phone|cell|mobile)(?:\s+(?:number|no\.?|#))?s?\b|"
                     r"\b(?:linkedin|twitter|home address|birthday)\b")


def unheld(question: str, plan: dict[str, Any] | None) -> list[str]:
    """What a question about a person asks that the CRM does not hold ("her phone number?"): said as not applied."""
    query = (plan or {}).get("query") or {}
    if query.get("entity") != "contacts":
        return []
    return [m.group(0) for m in _UNHELD.finditer(question.lower())]


def not_held(phrase: str) -> str | None:
    """Why a person's field asked for is left out, when the CRM does not hold it ("her phone number")."""
    if not _UNHELD.fullmatch(phrase.lower()):
        return None
    return (f"I did not apply \u2018{phrase}\u2019: the CRM keeps no {phrase} for contacts (it keeps their email, "
            "title and last engagement), so the answer below shows what it does hold.")
