"""The router: which accounts, which intents, which time window. Deterministic first.

Patterns find the intents, fuzzy matching over account names finds the accounts (through
`find_account`, so access and ambiguity are handled in one place), pronouns reuse the accounts of
the previous turn. Only when that leaves Retain unsure, and a chat model is configured, is the
LLM asked, with JSON-schema-constrained output.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from agents import requests, understand
from agents.router_model import FieldName, QueryOut, RouteOut, system_prompt
from agents.router_model import grounded as _grounded
from agents.router_model import proposed_plan as _proposed_plan
from agents.router_text import nearest_example, window_days
from agents.router_text import spans as _spans
from agents.specs import CATALOGUE, INTENTS, SPECS
from agents.state import AccountRef, Deps, Dialogue, Route
from agents.understand import edits, picks, reading
from core.errors import AccessDenied, AmbiguousName, NotFoundError
from integrations.llm import LLMError, structured
from tools import access, crm, records
from tools.query import ENTITIES, Filter, Query, run

log = logging.getLogger(__name__)
__all__ = ["FieldName", "QueryOut", "RouteOut", "link_accounts", "nearest_example", "query_route", "route",
           "system_prompt", "window_days"]

_PORTFOLIO = re.compile(
    r"\bmy (accounts|portfolio|book|renewals|customers|team)|which (of my |of our )?(accounts|customers|renewals)|"
    r"\ball (my |our )?accounts\b|portfolio|who (is|are) at risk|what renews|renewals? (this|next|in|within|due)|"
    r"\b(list|show) (me )?(the |my |every |all )?(accounts?|renewals|customers)|at[- ]risk accounts|accounts at risk")
_PREP = re.compile(r"\bqbr\b|\bebr\b|prep me|prepare (me )?for|get me ready|brief me on|meeting with|"
                   r"before (my|our|the) (call|meeting|sync|check-?in|visit) with|what do i need to know before")
_FOLLOW = re.compile(r"\b(their|they|them|theirs|its|it|this account|that account|the account|"
                     r"this customer|that customer|and the|what about)\b|(?<!is )(?<!are )(?<!was )\bthere\b"
                     r"(?! (is|are|was|were|any|anything|been)\b)")
def _named_in(ctx: crm.ToolContext, question: str, name: str) -> AccountRef | None:
    """An account a model proposed, kept only if the message names it and the asker may see it."""
    spans = [sp for _, _, sp in _spans(question)]
    if not any(crm.looks_like_name(sp, [name]) for sp in spans) and name.casefold() not in question.casefold():
        return None
    try:
        hit = crm.find_account(ctx, name)
    except (AmbiguousName, AccessDenied, NotFoundError):
        return None  # never a disambiguation or refusal built from a model's guess
    if not any(crm.looks_like_name(sp, [hit["name"], hit["name"].split()[0]]) for sp in spans):
        return None
    return {"account_id": hit["account_id"], "name": hit["name"]}


_CRM_WORDS = re.compile(
    r"account|customer|client|renew|churn|risk|health|ticket|\bnps\b|csat|survey|onboard|milestone|champion|"
    r"contact|\barr\b|revenue|contract|seat|usage|latenc|model|fine[- ]?tun|portfolio|\bbook\b|\bteam\b|csm|"
    r"\bqbr\b|\bebr\b|\bplans?\b|meeting|\bnotes?\b|expan|upsell|priorit|urgent|briefing|\btoday\b|week|"
    r"status|logo|retention|\bnrr\b|\bgrr\b|spend|cost|error|sso|blocked|stuck|escalat|owner|sponsor|"
    r"draft|email|remind|follow|deal|pipeline|purchas")

def _alone(intents: list[str]) -> bool:
    """A message that is only help, or only something to remember: no records to find or read for it."""
    return len(intents) == 1 and intents[0] in SPECS and SPECS[intents[0]].standalone


def _intents(low: str) -> list[str]:
    found = [s.intent for s in CATALOGUE if s.patterns and re.search(s.patterns, low)]
    if "remember" in found:
        return ["remember"]
    if "help" in found and len(low) < 40:
        return ["help"]
    found = [f for f in found if f != "help"]
    if _PREP.search(low):
        found = [s.intent for s in CATALOGUE if s.in_prep]
    return found


def link_accounts(deps: Deps, ctx: crm.ToolContext, question: str) -> dict[str, Any]:
    """Accounts named in the message: found, ambiguous, denied, unknown."""
    names = crm.live_account_names(ctx.store)
    firsts = {n.split()[0] for n in names if len(n.split()[0]) >= 4}
    pool = names + sorted(firsts - set(names))
    taken: list[tuple[int, int]] = []
    found: list[dict[str, Any]] = []
    ambiguous: list[dict[str, Any]] = []
    denied: list[str] = []
    for start, end, span in _spans(question):
        if any(start < e and end > s for s, e in taken):
            continue
        if not crm.looks_like_name(span, pool):
            continue
        try:
            hit = crm.find_account(ctx, span)
        except AmbiguousName as exc:
            ambiguous.append({"text": span, "candidates": exc.candidates})
        except AccessDenied:
            denied.append(span)  # what the person typed: an out-of-scope account's name is never revealed
        except NotFoundError:
            continue
        else:
            if all(f["account_id"] != hit["account_id"] for f in found):
                found.append({"account_id": hit["account_id"], "name": hit["name"]})
        taken.append((start, end))
    return {"accounts": found, "ambiguous": ambiguous, "denied": denied}


def _picked(ctx: crm.ToolContext, low: str, last_ids: list[int]) -> list[AccountRef]:
    """"that one", "the first one": the account of the previous list it points at (if still visible)."""
    aid = understand.pick(low, last_ids)
    if aid is None or not access.can_see(ctx.store, ctx.viewer, aid):
        return []
    name = records.account_name(ctx, aid)
    return [{"account_id": aid, "name": str(name)}] if name else []


def _plain_portfolio(p: understand.Plan) -> bool:
    """A list the portfolio agent answers as well (at-risk/growth and a renewal window, nothing more)."""
    q = p.query
    return bool(p.shape == "list" and q is not None and q.entity == "accounts" and not q.limit
                and all(x.field in ("renewal_date", "health") and not x.desc for x in q.sort)
                and not q.account_ids and not q.aggregates and q.filters
                and all(f.field in ("risk", "renewal_date") for f in q.filters))


def _window(p: understand.Plan, today: Any) -> int | None:
    """The renewal window of a plain portfolio plan, in days from today."""
    for f in p.query.filters if p.query else []:
        if f.field == "renewal_date" and f.op == "between":
            return (date.fromisoformat(f.value[1]) - today).days
    return None


def _starts_today(p: understand.Plan, today: date) -> bool:
    return all(f.value[0] == today.isoformat() for f in (p.query.filters if p.query else [])
               if f.field == "renewal_date" and f.op == "between")


def _understood(ctx: crm.ToolContext, question: str, accounts: list[AccountRef],
                last_ids: list[int]) -> list[understand.Plan]:
    """The plans a message asks for; none when the slots misread it (the agents' own intents answer then)."""
    try:
        return understand.plan(question, ctx.as_of, understand.vocabulary(ctx.store), ctx.viewer.name, accounts,
                               last_ids, fiscal_start=ctx.fiscal_start)
    except (ValueError, ValidationError):
        log.warning("understanding skipped a message it misread", exc_info=True)
        return []


def query_route(deps: Deps, ctx: crm.ToolContext, question: str, accounts: list[AccountRef],
                last_ids: list[int], intents: list[str],
                plans: list[understand.Plan] | None = None) -> Route | None:
    """A route to the query agent when the message asks for a field, list, metric, comparison or today."""
    low = question.lower()
    plans = _understood(ctx, question, accounts, last_ids) if plans is None else plans
    if not plans:
        return None
    p = plans[0]
    if _plain_portfolio(p) and _starts_today(p, ctx.as_of):  # the portfolio agent reads windows from today
        return None
    compound = re.search(r"\b(and|also|plus)\b", low) and not _PREP.search(low)  # "who owns X and what do they need?"
    extra = [i for i in intents if i in SPECS and SPECS[i].with_lookup] if p.shape == "lookup" and compound else []
    if p.shape == "lookup" and re.search(r"\b(at risk|risk|churn)\b", low):
        extra.append("renewal")
    return {"intents": ["query", *extra], "accounts": p.accounts if p.shape in ("lookup", "compare") else [],
            "accounts_via": None, "ambiguous": [], "denied": [], "window_days": None, "method": "query",
            "plans": [understand.to_json(x) for x in plans]}


def _reading(r: Route, question: str, today: date, found: understand.Plan | None) -> Route:
    """Say how the message was read, and which constraint phrases the answer does not apply."""
    intents = r["intents"]
    p = understand.from_json(r["plans"][0]) if r["plans"] else found
    if _alone(intents) or "draft" in intents:
        r["reading"], r["not_applied"] = "", []
        return r
    names = " and ".join(a["name"] for a in r["accounts"]) or "your accounts"
    if p is not None and ("query" in intents or "portfolio" in intents):
        line = reading.reading(p)
    elif "portfolio" in intents:
        days = r["window_days"]
        line = "Your portfolio" + (f": renewals in the next {days} days" if days else "") + ", most urgent first:"
    else:
        parts = [SPECS[i].reading.format(a=names) for i in intents if i in SPECS and SPECS[i].reading]
        line = ("Prep for " + names + ": " + "; ".join(parts) if len(parts) > 2 else "; ".join(parts)) + ":"
        line = line[:1].upper() + line[1:]
    r["reading"] = line
    r["not_applied"] = reading.unapplied(question, p if "query" in intents or "portfolio" in intents else None,
                                         today, r["window_days"] if "portfolio" in intents else None)
    return r


def _subject(d: Dialogue) -> list[AccountRef]:
    """The one account the last answer was about, if it was about one."""
    if len(d.get("accounts") or []) == 1:
        return list(d.get("accounts") or [])
    rows = d.get("rows") or []
    ids = {r["account_id"] for r in rows}
    return [{"account_id": rows[0]["account_id"], "name": rows[0]["account"]}] if len(ids) == 1 else []


def _edited(deps: Deps, ctx: crm.ToolContext, question: str, d: Dialogue,
            linked: dict[str, Any]) -> Route | tuple[list[AccountRef], str, Dialogue | None] | None:
    """A follow-up that edits the last query ("same for March", "the second one", "no, I meant Hooli").

    An account picked from the last list comes back as that account (the usual routing answers about it).
    """
    vocab = understand.vocabulary(ctx.store)
    fresh = _understood(ctx, question, linked["accounts"], [])
    whole = edits.WHOLE.search(question.lower())
    base: Dialogue | None = d.get("base")  # the list the conversation narrowed ("how many are enterprise?")
    if whole and base:
        d = {**d, **base, "base": None}

    def read(dlg: Dialogue) -> list[edits.Edit]:
        return edits.read(question, dlg, ctx.as_of, vocab, ctx.viewer.name, linked["accounts"],
                          fresh[0] if fresh else None, fiscal_start=deps.services.settings.fiscal_year_start_month)

    last = understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    # The last answer was one row (a pick, a top 1) or none: "and the third one?" picks from the list it came from.
    picked_last = last is None or (last.shape == "lookup" and last.what == "record") or last.shape == "aggregate" or \
        (last.query is not None and last.query.limit == 1)
    found = [] if base and picked_last and not whole else read(d)
    if base and picked_last and not whole:
        again = read({**d, **base, "base": None})
        if _a_pick(again):
            found, d = again, {**d, **base, "base": None}
        else:
            found = read(d)
    if base and not whole and (not found or isinstance(found[0], edits.Unmatched) and not found[0].among):
        again = read({**d, **base, "base": None})  # "and the second lowest?" after the lowest one's answer
        if _a_pick(again):
            found, d = again, {**d, **base, "base": None}
    narrowed = d.get("base") or ({"plan": d["plan"], "entity": d.get("entity"), "rows": d.get("rows") or [],
                                  "accounts": d.get("accounts") or []} if d.get("plan") and d.get("rows") else None)
    if not any(isinstance(e, edits.SelectRow | edits.SetFilters) or isinstance(e, edits.Summarise) and e.filters
               or isinstance(e, edits.Reorder) and e.limit for e in found):
        narrowed = None  # the next message edits this answer as a whole
    if not found:
        subject = _subject(d)
        if subject and not linked["accounts"] and not understand.PLURAL.search(question.lower()):
            plans = _understood(ctx, question, subject, [])  # "which one's the admin?" about the same account
            if plans and plans[0].shape == "lookup":
                return {"intents": ["query"], "accounts": subject, "accounts_via": "conversation", "ambiguous": [],
                        "denied": [], "window_days": None, "method": "edit: same subject",
                        "plans": [understand.to_json(p) for p in plans]}
        return None
    kinds = ", ".join(type(e).__name__ for e in found)
    if isinstance(found[0], edits.Unmatched) and not d.get("rows"):
        return {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                "window_days": None, "method": f"edit: {kinds}", "plans": [],
                "clarify": "My last answer listed nothing, so there is no row to pick. Ask the question again "
                           "with what you want (\u201cwhich fine-tunes failed in the last 6 months?\u201d)."}
    if isinstance(found[0], edits.Unmatched):
        rows = d.get("rows") or []
        among = found[0].among or tuple(range(min(8, len(rows))))
        shown = ", ".join(f"{k + 1}. {rows[k]['account']}: {rows[k]['label']}" +
                          (f" ({rows[k]['date']})" if rows[k].get("date") else "") for k in among)
        return {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                "window_days": None, "method": f"edit: {kinds}", "plans": [],
                "clarify": f"I can't tell which one you mean in my last answer ({found[0].rows} "
                           f"row{'' if found[0].rows == 1 else 's'}: {shown}). "
                           "Say which by its position (\u201cthe second\u201d), date or account."}
    if isinstance(found[0], edits.Unreadable):
        return {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                "window_days": None, "method": f"edit: {kinds}", "plans": [],
                "clarify": f"I did not apply \u2018{found[0].phrase}\u2019: {found[0].why}. Say what to keep instead "
                           "(\u201conly the ones renewing before January\u201d, \u201csort by priority\u201d)."}
    if isinstance(found[0], edits.Resubject) and not d.get("plan") and d.get("intents"):
        return {"intents": list(d["intents"] or []), "accounts": found[0].accounts, "accounts_via": "correction",
                "ambiguous": [], "denied": [], "window_days": None, "method": f"edit: {kinds}", "plans": []}
    sel = found[0] if isinstance(found[0], edits.SelectRow) else None
    if sel is not None and sel.how in (edits.ONLY, "that one") and len(d.get("rows") or []) == 1 and \
            (_intents(question.lower()) or re.match(r"\W*(?:and\s+|so\s+)?why\b", question.lower())) and \
            not picks.fields_named(question.lower(), d.get("entity") or "accounts"):
        return None  # "why did it fail?" after one failed fine-tune: the agent that diagnoses it answers
    if sel is not None and (d.get("entity") or "accounts") == "accounts":  # the usual routing answers about it
        how = sel.how + (f" {_whole(whole.group(0), d)}" if whole and whole.group(0) not in sel.how else "")
        return [{"account_id": sel.row["account_id"], "name": sel.row["account"]}], \
            f"{sel.row['account']} ({how} in the last answer)", narrowed
    try:
        switched = next((e.entity for e in found if isinstance(e, edits.SwitchEntity)), None)
        found = [_scoped(ctx, e, d, switched) for e in found]
        d = _with_all_accounts(ctx, d, found)
        summ = [e for e in found if isinstance(e, edits.Summarise)]
        if summ and any(isinstance(e, edits.Reorder) and e.limit for e in found) and d.get("plan"):
            first = edits.apply(d, [e for e in found if not isinstance(e, edits.Summarise)])  # "the top 3" first
            if first is not None and first.query is not None:
                rows = edits.rows_of(first.query.entity, run(ctx, first.query).rows)
                d = {**d, "plan": understand.to_json(first), "rows": rows, "entity": first.query.entity}
                found = [e for e in found if isinstance(e, edits.Summarise)]
        p = edits.apply(d, found)
        if p is not None and p.query is not None and any(isinstance(e, edits.SwitchEntity) and e.senior
                                                         for e in found):
            p = _most_senior(ctx, p)
    except (ValidationError, ValueError, KeyError, TypeError):  # an edit that does not fit: read the message afresh
        log.warning("a follow-up's edit did not fit the last query; read as a new question", exc_info=True)
        return None
    if p is None:
        return None
    if p.shape not in ("lookup", "metric", "compare"):
        p.title = reading.title(p)
    out: Route = {"intents": ["query"], "accounts": p.accounts if p.shape in ("lookup", "compare") else [],
                  "accounts_via": "conversation", "ambiguous": [], "denied": [], "window_days": None,
                  "method": f"edit: {kinds}", "plans": [understand.to_json(p)]}
    if narrowed is not None:
        out["base"] = narrowed
    out["said"] = [e.text for e in found if isinstance(e, edits.ShiftPeriod)]
    counted = [str(len(set(p.query.account_ids)))] if p.query is not None and p.query.account_ids and \
        any(isinstance(e, edits.SwitchEntity | edits.ShowFields) for e in found) else []  # "at those 3 accounts"
    out["used"] = [x for e in found for x in (
        [e.text] if isinstance(e, edits.ShiftPeriod) else [e.span.text] if isinstance(e, edits.SetPeriod) else
        [str(e.limit)] if isinstance(e, edits.Reorder) and e.limit else [e.how] if isinstance(e, edits.SelectRow)
        else [])] + counted
    if sel is not None:
        out["picked"] = f"{sel.row['account']}, {sel.row['label']}" + (f" ({sel.row['date']})" if sel.row.get("date")
                                                                        else "") + f", {sel.how}" + \
            (f" {_whole(whole.group(0), d)}" if whole and whole.group(0) not in sel.how else "")
    return out


def _most_senior(ctx: crm.ToolContext, p: understand.Plan) -> understand.Plan:
    """Each account's most senior current contact (how the economic buyer is chosen), as the plan's rows."""
    if p.query is None:
        return p
    q = p.query.model_copy(update={"fields": ["name", "role", "account"], "limit": None,
                                   "filters": [Filter(field="left_on", op="is_null")]})
    best: dict[int, tuple[int, int]] = {}
    for r in run(ctx, q).rows:
        rank, rid = understand.seniority(r.get("role")), int(r["source"]["id"])
        if r["account_id"] not in best or rank < best[r["account_id"]][0]:
            best[r["account_id"]] = (rank, rid)
    ids = [rid for _, rid in best.values()] or [-1]
    p.query = p.query.model_copy(update={"row_ids": ids, "fields": ["name", "role", "email", "account"],
                                         "filters": []})
    p.title = "the most senior contact at each account of the last answer"
    return p


def _a_pick(found: list[edits.Edit]) -> bool:
    """Whether edits pick one row: a row, a tie to ask about, or the top 1 by a measure (asked of the query)."""
    return bool(found) and (isinstance(found[0], edits.SelectRow) or isinstance(found[0], edits.Unmatched) and
                            bool(found[0].among) or isinstance(found[0], edits.Reorder) and found[0].limit == 1)


def _whole(said: str, d: Dialogue) -> str:
    """A phrase like "of the H1 ones", with the window of the list it points back at."""
    p = understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    sp = edits.current_period(p) if p is not None else None
    return f"{said} ({sp.start.isoformat()} to {sp.end.isoformat()})" if sp is not None else said


def _with_all_accounts(ctx: crm.ToolContext, d: Dialogue, found: list[edits.Edit]) -> Dialogue:
    """Every account of the last answer's query, not only the rows it showed ("and their tickets?" after 74)."""
    if not any(isinstance(e, edits.SwitchEntity | edits.ShowFields | edits.Summarise) for e in found) or \
            not d.get("plan"):
        return d
    last = understand.from_json(d["plan"])  # type: ignore[arg-type]
    if last.query is None or last.shape not in ("list", "aggregate") or len(d.get("rows") or []) < 25:
        return d
    q = last.query.model_copy(update={"limit": None, "aggregates": [], "group_by": None, "fields": ["account"]})
    ids = list(dict.fromkeys(int(r["account_id"]) for r in run(ctx, q).rows))
    return {**d, "all_account_ids": ids}


def _scoped(ctx: crm.ToolContext, e: edits.Edit, d: Dialogue, switched: str | None = None) -> edits.Edit:
    """Account-level filters ("just the red ones") on records of another kind: the accounts that match, by id."""
    entity = switched or (understand.from_json(d["plan"]).query.entity  # type: ignore[arg-type,union-attr]
                          if d.get("plan") and understand.from_json(d["plan"]).query is not None  # type: ignore
                          else "accounts")
    if not isinstance(e, edits.SetFilters | edits.Summarise) or entity == "accounts":
        return e
    known = ENTITIES[entity].fields
    accounts = ENTITIES["accounts"].fields
    foreign = [f for f in e.filters if (f.field not in known or known[f.field].expr is None) and f.field in accounts]
    if not foreign:
        return e
    ids = [r["account_id"] for r in run(ctx, Query(entity="accounts", filters=foreign, fields=["account"])).rows]
    prior = list(dict.fromkeys(r["account_id"] for r in d.get("rows") or [])) or ids
    keep = [f for f in e.filters if f not in foreign]
    narrowed = [i for i in prior if i in ids] or [-1]  # none match: an empty answer, never the unfiltered one
    return (edits.SetFilters(keep, e.said, narrowed) if isinstance(e, edits.SetFilters)
            else edits.Summarise(e.aggregates, keep, narrowed))


def route(deps: Deps, question: str, who: str, last_accounts: list[AccountRef],
          last_ids: list[int] | None = None, last_topic: str | None = None,
          dialogue: Dialogue | None = None) -> Route:
    """Decide intents, accounts and window for one message, and say how it was read."""
    question = understand.normalize(question)
    note: dict[str, Any] = {}
    r = _route(deps, question, who, last_accounts, last_ids, last_topic, dialogue, note)
    ctx = deps.tool_context(who)
    found = None
    if "portfolio" in r["intents"] and not r["plans"]:
        plans = _understood(ctx, question, [], [])
        found = plans[0] if plans else None
        if found is not None and found.query is not None:  # what a follow-up ("same for next quarter") edits
            r["plans"] = [understand.to_json(found)]
    r = _reading(r, question, ctx.as_of, found)
    if note.get("base"):  # the row was picked from a list: the next pick is from that list too
        r["base"] = note["base"]
    if dialogue and dialogue.get("rows") and r.get("reading") and not r.get("clarify") and not note.get("picked") \
            and not r["method"].startswith("edit") and not r["accounts"]:
        _unlinked(r, question)
    said = [x for x in r.get("said") or [] if re.search(r"\d", x) and x.lower() not in (r.get("reading") or "").lower()]
    if said and r.get("reading", "").endswith(":"):  # "and the 60 after that?": the reading names the phrase it used
        r["reading"] = r["reading"][:-1] + f" ({'; '.join(said)}):"
    used = " ".join(r.get("used") or []).lower()  # phrases an edit applied ("the 60 after that")
    if used and r.get("not_applied"):
        r["not_applied"] = [x for x in r["not_applied"] or [] if x.lower() not in used]
    picked = note.get("picked") or r.get("picked")
    if picked and r.get("reading"):  # "the biggest one?": which row it was, then the answer's reading
        r["reading"] = f"Picked from the last answer: {picked}. {r['reading']}"
        low = picked.lower()  # the phrases that picked the row were applied by picking it
        r["not_applied"] = [x for x in r.get("not_applied") or [] if x.lower() not in low and
                            not any(w in low for w in x.lower().split() if len(w) > 3)]
    return r


_THOSE = re.compile(r"\b(?:of|among|from|for|with|in)\s+(?:them|those|these|that list|the list)\b|"
                    r"\b(?:those|these)\s+(?:ones|accounts|customers|tickets|renewals|rows)\b|"
                    r"\b(?:which|how many|any|all|each|none|some) of (?:them|those|these)\b")


def _unlinked(r: Route, question: str) -> None:
    """Name "which of those" as not applied when the message was read as a question over the whole book.

    Such a message points back at the last answer's rows; the answer never silently covers other rows.
    """
    m = _THOSE.search(question.lower())
    if m is None:
        return
    p = understand.from_json(r["plans"][0]) if r["plans"] else None
    if p is not None and p.query is not None and (p.query.account_ids or p.query.row_ids):
        return
    r["not_applied"] = [*(r.get("not_applied") or []), m.group(0)]


def _route(deps: Deps, question: str, who: str, last_accounts: list[AccountRef],
           last_ids: list[int] | None, last_topic: str | None, dialogue: Dialogue | None,
           note: dict[str, Any]) -> Route:
    ctx = deps.tool_context(who)
    asked = requests.parse(question, ctx.as_of)  # "draft a note to…", "set up a QBR…", "remind me to…"
    if asked is not None and (r := requests.route(ctx, asked, link_accounts(deps, ctx, question), last_accounts)):
        return r
    low = question.lower()
    last_ids = last_ids or []
    follow_up = False
    intents = _intents(low)
    linked = link_accounts(deps, ctx, question) if intents != ["help"] else \
        {"accounts": [], "ambiguous": [], "denied": []}
    if dialogue and not _alone(intents) and not linked["ambiguous"] and not linked["denied"]:
        edited = _edited(deps, ctx, question, dialogue, linked)
        if isinstance(edited, tuple):
            linked = {**linked, "accounts": edited[0]}
            note["picked"] = edited[1]
            if edited[2] is not None:
                note["base"] = edited[2]
        elif edited is not None:
            return edited
        elif not dialogue.get("plan") and len(dialogue.get("accounts") or []) == 1 and not linked["accounts"] \
                and re.search(r"\b(that|this) \w+\b", low) and not _FOLLOW.search(low):  # "that one", "that step"
            linked = {**linked, "accounts": list(dialogue.get("accounts") or [])}
            note["via"] = "conversation"
    accounts, via = linked["accounts"], note.get("via", "named")
    method = "patterns"
    if not accounts and not linked["ambiguous"] and not linked["denied"] and not _alone(intents):
        picked = _picked(ctx, low, last_ids)
        if picked:
            accounts, via = picked, "conversation"
        elif last_accounts and not understand.THOSE.search(low) and not understand.PLURAL.search(low) \
                and _FOLLOW.search(low):
            follow_up = True
            subject = last_accounts[:1] if len(last_accounts) == 1 else []
            q = query_route(deps, ctx, question, subject, [], intents) if subject else None
            if q is not None:
                q["accounts_via"] = "conversation"
                return q
    plain_window = None
    if not _alone(intents) and not linked["ambiguous"] and not linked["denied"] and not follow_up:
        found = _understood(ctx, question, accounts, last_ids)
        q = query_route(deps, ctx, question, accounts, last_ids, intents, found)
        if q is not None:
            q["accounts_via"] = via if q["accounts"] else None
            return q
        if not accounts and found:  # a plain at-risk / renewal-window list: the portfolio agent, with the window
            plain_window = _window(found[0], ctx.as_of)
    if not intents:
        generic = question
        for a in linked["accounts"]:
            for name in (a["name"], a["name"].split()[0]):
                generic = re.sub(rf"\b{re.escape(name)}('s|’s)?\b", "they", generic, flags=re.I)
        near = nearest_example(deps, generic)
        if near is not None and near[0][0] == "query":  # a query template: the query layer reads its phrasing
            template = near[0][1]
            if "{account}" not in template or len(linked["accounts"]) == 1:
                ask = template.format(account=linked["accounts"][0]["name"] if linked["accounts"] else "")
                q = query_route(deps, ctx, ask, linked["accounts"][:1], last_ids, [])
                if q is not None:
                    q["method"], q["accounts_via"] = f"example ({near[1]:.2f}): {ask}", via if q["accounts"] else None
                    return q
        elif near is not None:
            intents, method = near[0], f"example ({near[1]:.2f})"
    portfolio = (bool(_PORTFOLIO.search(low)) or intents == ["portfolio"] or plain_window is not None) \
        and not accounts
    mine = re.search(r"\b(my|our|any|anyone|anybody|which|who)\b", low) and not _FOLLOW.search(low)
    if not accounts and not linked["ambiguous"] and not linked["denied"] and last_accounts and not portfolio \
            and intents != ["help"] and (_FOLLOW.search(low) or (intents and not mine)):
        accounts, via = list(last_accounts), "conversation"
    if portfolio:
        intents = ["portfolio"] + [i for i in intents if i in SPECS and SPECS[i].with_portfolio]
    elif accounts and not intents:
        intents = [last_topic] if via == "conversation" and last_topic in INTENTS else ["health"]
    window = plain_window or window_days(low, ctx.as_of)  # the window the reading line states
    sure = bool(intents) and (bool(accounts) or portfolio or _alone(intents[:1])
                              or bool(linked["ambiguous"]) or bool(linked["denied"]))
    plans: list[dict[str, Any]] = []
    if not sure and deps.chat is not None and not linked["ambiguous"] and not linked["denied"]:
        try:
            out = structured(deps.chat, [{"role": "system", "content": system_prompt()},
                                         {"role": "user", "content": question}],
                             RouteOut, log=deps.log, max_tokens=200, purpose="route")
            method = "llm"
            # A model only adds to what the patterns found; names count only when the message holds them.
            if not intents:  # the model's intents fill a gap; they never change what the patterns found
                intents = [i for i in out.intents if i in INTENTS and i != "query"]
            for name in out.accounts:
                hit = _named_in(ctx, question, name)
                if hit is not None and all(a["account_id"] != hit["account_id"] for a in accounts):
                    accounts.append(hit)
            window = out.window_days if out.window_days is not None and window is None else window
            portfolio = portfolio or ("portfolio" in intents and not accounts)
            proposed = _proposed_plan(out.query, accounts) if out.query is not None and \
                _grounded(out.query, question, understand.vocabulary(ctx.store)) else None
            if proposed is not None:
                intents, plans, method = ["query"], [understand.to_json(proposed)], "llm query"
        except LLMError:
            method = "patterns (llm failed)"
    if not intents and not accounts and not _CRM_WORDS.search(low) and \
            not (dialogue and (_FOLLOW.search(low) or len(low.split()) <= 6)):
        intents, method = ["help"], "off-topic"  # the weather on Mars is not in the CRM: say so, list nothing
    if not intents and not accounts and dialogue and dialogue.get("plan") and len(low.split()) <= 6 \
            and not linked["denied"] and not linked["ambiguous"]:
        return {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                "window_days": None, "method": "edit: not understood", "plans": [],
                "clarify": f"I couldn't tell how \u201c{question.strip()[:80]}\u201d changes my last answer. "
                           "You can narrow it (\u201conly the open ones\u201d), change the window "
                           "(\u201csame for March\u201d), reorder it (\u201coldest first\u201d), pick a row "
                           "(\u201cthe second one\u201d) or ask a new question."}
    if not intents:
        intents = ["portfolio"] if re.search(r"\b(my|our|which|who|any|accounts|customers|clients)\b", low) \
            else ["help"]
    return {"intents": intents, "accounts": accounts, "accounts_via": via if accounts else None,
            "ambiguous": linked["ambiguous"], "denied": linked["denied"], "window_days": window,
            "method": method, "plans": plans}
