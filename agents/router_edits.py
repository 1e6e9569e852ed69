"""Follow-ups read as edits of the last query, and the plans a message asks for (split from router.py)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from agents import router_rows as record_rows
from agents import understand
from agents.router_people import person_pick
from agents.router_rows import record_pick
from agents.specs import CATALOGUE
from agents.state import AccountRef, Deps, Dialogue, Route
from agents.understand import edit_rows, edits, picks, reading, row_asks
from agents.understand.usage import VERSUS
from tools import crm
from tools.query import ENTITIES, Filter, Query, run

log = logging.getLogger(__name__)


_PREP = re.compile(r"\bqbr\b|\bebr\b|prep me|prepare (me )?for|get me ready|brief me on|meeting with|"
                   r"before (my|our|the) (call|meeting|sync|check-?in|visit) with|what do i need to know before")

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


def _understood(ctx: crm.ToolContext, question: str, accounts: list[AccountRef],
                last_ids: list[int]) -> list[understand.Plan]:
    """The plans a message asks for; none when the slots misread it (the agents' own intents answer then)."""
    try:
        return understand.plan(question, ctx.as_of, understand.vocabulary(ctx.store), ctx.viewer.name, accounts,
                               last_ids, fiscal_start=ctx.fiscal_start)
    except (ValueError, ValidationError):
        log.warning("understanding skipped a message it misread", exc_info=True)
        return []


def _subject(d: Dialogue) -> list[AccountRef]:
    """The one account the last answer was about, if it was about one."""
    if len(d.get("accounts") or []) == 1:
        return list(d.get("accounts") or [])
    rows = d.get("rows") or []
    ids = {r["account_id"] for r in rows}
    return [{"account_id": rows[0]["account_id"], "name": rows[0]["account"]}] if len(ids) == 1 else []


# A follow-up that names a subject and nothing more: "and their renewal?", "what about the renewal outlook".
_BARE_TOPIC = re.compile(r"^\W*(?:and|so|ok(?:ay)?|then|now)?\s*(?:what about|how about)?\s*(?:their|its|the)?\s*"
                         r"(?:next\s+)?([a-z]+)(?:\s+(?:outlook|picture|prospects?|chances|situation|side|story))?\W*$")


def _agent_topic(low: str, d: Dialogue) -> str | None:
    """The agent a bare subject names after another agent's answer about one account, else None.

    After an agent's card (health, needs, renewal...), "and their renewal?" asks for the renewal agent's
    outlook of the same account; after a query about fields ("when does X renew?") the same words are a
    field of the same kind, and a field named as such ("and their renewal date?", "their ARR?") stays a field.
    """
    if d.get("plan") or not d.get("intents") or "query" in (d.get("intents") or []):
        return None
    m = _BARE_TOPIC.match(low)
    word = m.group(1) if m else ""
    agents = {s.intent for s in CATALOGUE if s.per_account}
    return word if word in agents and _intents(low) == [word] else None


def _edited(deps: Deps, ctx: crm.ToolContext, question: str, d: Dialogue,
            linked: dict[str, Any]) -> Route | tuple[list[AccountRef], str, Dialogue | None] | None:
    """A follow-up that edits the last query ("same for March", "the second one", "no, I meant Hooli").

    An account picked from the last list comes back as that account (the usual routing answers about it).
    """
    vocab = understand.vocabulary(ctx.store)
    fresh = _understood(ctx, question, linked["accounts"], [])
    whole = edits.WHOLE.search(question.lower())
    base: Dialogue | None = d.get("base")  # the list the conversation narrowed ("how many are enterprise?")
    if base and not whole and edits.one_row(_last(d), len(d.get("rows") or [])):
        whole = edits.BOTH.search(question.lower())  # "open tickets at both of them?" after a pick: the whole list
    if whole and base:
        d = {**d, **base, "base": None}

    def read(dlg: Dialogue) -> list[edits.Edit]:
        return edits.read(question, dlg, ctx.as_of, vocab, ctx.viewer.name, linked["accounts"],
                          fresh[0] if fresh else None, fiscal_start=deps.services.settings.fiscal_year_start_month)

    last = understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    # The last answer was one row (a pick, a top 1) or none: "and the third one?" picks from the list it came from.
    of_pick = bool(base) and (base or {}).get("entity") != "contacts"  # "the 2nd one, when do they renew" answered
    picked_last = last is None or (last.shape == "lookup" and (last.what == "record" or of_pick and last.what !=
                                                                "person")) or last.shape == "aggregate" or \
        (last.query is not None and last.query.limit == 1)
    found = [] if base and picked_last and not whole else read(d)
    rebound = False
    if base and picked_last and not whole:
        again = read({**d, **base, "base": None})
        # "the month before" after a picked row moves the list's window; "anything else coming up across my book?"
        rebound = record_rows.rebound(again, base)
        if _a_pick(again) or record_rows.a_shift(again) or record_rows.a_scope(again) or rebound or \
                edits.AHEAD in [getattr(e, "said", None) for e in again]:  # "what about Noah's team": that list
            found, d = again, {**d, **base, "base": None}
        else:
            found = read(d)
    if base and not whole and (not found or isinstance(found[0], edits.Unmatched) and not found[0].among):
        again = read({**d, **base, "base": None})  # "and the second lowest?" after the lowest one's answer
        if _a_pick(again):
            found, d = again, {**d, **base, "base": None}
    windowed = d.get("windowed")  # "and the year before?" after "whose accounts were they": the list's window moves
    if windowed and last is not None and edits.current_period(last) is None and not record_rows.a_shift(found):
        again = read({**windowed, "windowed": None})
        if record_rows.a_shift(again):
            found, d = again, {**windowed, "windowed": None}
    if found and isinstance(found[0], edits.SwitchPerson):  # "and riley's email?": that person, in scope
        person = person_pick(ctx, found[0], d)
        if not isinstance(person, tuple):
            return person
        d, found = person[0], [person[1]]
    record = record_pick(ctx, question, d)  # "the 503 one" when no row says 503: the record of theirs that does
    if record is None and base and picked_last and not whole:  # "the SSO one" after a pick: from the list again
        record = record_pick(ctx, question, {**d, **base, "base": None})
    if isinstance(record, tuple):
        d, found = record[0], [record[1]]
    elif record is not None:
        return record
    narrowed = d.get("base") or ({"plan": d["plan"], "entity": d.get("entity"), "rows": d.get("rows") or [],
                                  "accounts": d.get("accounts") or []} if d.get("plan") and d.get("rows") else None)
    if not any(isinstance(e, edits.SelectRow | edits.SetFilters | edits.RecordFilter) or
               isinstance(e, edits.Summarise) and e.filters or isinstance(e, edits.Reorder) and e.limit for e in found):
        narrowed = None  # the next message edits this answer as a whole
    if rebound:  # "what about under 7" after a pick: the list re-run with the new bound replaces the old one
        narrowed = None
    if not found:
        subject = _subject(d)
        if subject and not linked["accounts"] and not understand.PLURAL.search(question.lower()) and \
                not understand.BOOK.search(question.lower()):  # "on any of my plans": the book, not that account
            agent = _agent_topic(question.lower(), d)  # "and their renewal?" after a health card: the outlook
            if agent:
                return {"intents": [agent], "accounts": subject, "accounts_via": "conversation", "ambiguous": [],
                        "denied": [], "window_days": None, "method": "edit: same subject, another agent",
                        "plans": []}
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
    if sel is not None and row_asks.asks_account(question, d.get("entity") or "accounts"):
        sel = replace(sel, about="account")  # "the biggest one - who's the champion": asked of its account
    if sel is not None and sel.how in (edits.ONLY, "that one") and len(d.get("rows") or []) == 1 and \
            (_intents(question.lower()) or re.match(r"\W*(?:and\s+|so\s+)?why\b", question.lower())) and \
            not picks.fields_named(question.lower(), d.get("entity") or "accounts"):
        return None  # "why did it fail?" after one failed fine-tune: the agent that diagnoses it answers
    now = _last(d)  # the list the row was picked from
    told = row_asks.records_asked(question.lower(), now.query if now is not None else None, sel.row) \
        if sel is not None else None
    if told is not None:  # "the Acme one, what's the issue there?" after accounts with open tickets: those tickets
        return {"intents": ["query"], "accounts": told.accounts, "accounts_via": "conversation", "ambiguous": [],
                "denied": [], "window_days": None, "method": f"edit: {kinds}", "plans": [understand.to_json(told)],
                "picked": f"{sel.row['account']}, {sel.how}", **({"base": narrowed} if narrowed else {})}  # type: ignore
    if sel is not None and not sel.change and ((d.get("entity") or "accounts") == "accounts" or
                                               sel.about == "account"):
        # the usual routing answers about the account (a contact's account: "and what's open on their side?")
        how = sel.how + (f" {_whole(whole.group(0), d)}" if whole and whole.group(0) not in sel.how else "")
        return [{"account_id": sel.row["account_id"], "name": sel.row["account"]}], \
            f"{sel.row['account']} ({how} in the last answer)", narrowed
    try:
        switched = next((e.entity for e in found if isinstance(e, edits.SwitchEntity)), None)
        by = ". ".join(x for x in map(record_rows.records_said, found) if x)  # "only the high priority ones"
        found = [record_rows.by_records(ctx, _drilled(ctx, e, d), d) for e in found]
        found = [_scoped(ctx, e, d, switched, tuple(found)) for e in found]
        d = _with_all_accounts(ctx, d, found)
        summ = [e for e in found if isinstance(e, edits.Summarise)]
        if summ and any(isinstance(e, edits.Reorder) and e.limit for e in found) and d.get("plan"):
            first = edits.apply(d, [e for e in found if not isinstance(e, edits.Summarise)])  # "the top 3" first
            if first is not None and first.query is not None:
                rows = edits.rows_of(first.query.entity, run(ctx, first.query).rows)
                d = {**d, "plan": understand.to_json(first), "rows": rows, "entity": first.query.entity}
                found = [e for e in found if isinstance(e, edits.Summarise)]
        before = understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
        p = edits.apply(d, found)
        if p is not None and p.query is not None and any(isinstance(e, edits.SwitchEntity) and e.senior
                                                         for e in found):
            p = _most_senior(ctx, p)
    except (ValidationError, ValueError, KeyError, TypeError):  # an edit that does not fit: read the message afresh
        log.warning("a follow-up's edit did not fit the last query; read as a new question", exc_info=True)
        return None
    if p is None:
        return None
    if any(isinstance(e, edits.ShiftPeriod | edits.SetPeriod) for e in found):
        p = _past_renewals(p, ctx.as_of)
    if p.shape not in ("lookup", "metric", "compare"):
        p.title = reading.title(p)
    out: Route = {"intents": ["query"], "accounts": p.accounts if p.shape in ("lookup", "compare") else [],
                  "accounts_via": "conversation", "ambiguous": [], "denied": [], "window_days": None,
                  "method": f"edit: {kinds}", "plans": [understand.to_json(p)]}
    if before is not None and before.query is not None and before.query.entity == "telemetry" and \
            before.query.aggregates and VERSUS.search(question.lower()) and \
            all(isinstance(e, edits.SetPeriod | edits.ShiftPeriod) for e in found):
        out["plans"].append(understand.to_json(before))  # "vs october?" after November's figure: both windows
    if narrowed is not None:
        out["base"] = narrowed
    if by:  # the accounts kept for their records, said before the reading
        out["rerun"] = by
    if p.query is not None and edits.current_period(p) is None:  # the window a later shift moves
        out["windowed"] = {"plan": d["plan"], "entity": d.get("entity"), "rows": d.get("rows") or [],
                           "accounts": d.get("accounts") or []} if last is not None and \
            edits.current_period(last) is not None else d.get("windowed")
    out["said"] = [e.text for e in found if isinstance(e, edits.ShiftPeriod)]
    counted = [str(len(set(p.query.account_ids)))] if p.query is not None and p.query.account_ids and \
        any(isinstance(e, edits.SwitchEntity | edits.ShowFields | edits.UsageOf) for e in found) else []  # "those 3"
    out["used"] = [x for e in found for x in (
        [e.text] if isinstance(e, edits.ShiftPeriod) else [e.span.text] if isinstance(e, edits.SetPeriod) else
        [x for x in (str(e.limit or ""), e.text) if x] if isinstance(e, edits.Reorder) else
        [e.how] if isinstance(e, edits.SelectRow)
        else [e.said] if isinstance(e, edits.DrillGroup)
        else [e.said] if isinstance(e, edits.DropFilters) and e.said
        else [w for s in e.said for w in (s, s.replace(" ", "-"))] if isinstance(e, edits.SetFilters) and
        e.account_ids is not None  # "at-risk" on renewals: applied as the accounts that are
        else [w for f in e.fields for w in picks.field_words(f) if w.lower() in question.lower()]
        if isinstance(e, edits.ShowFields)  # "latest nps for each": the field's own words were applied
        else [])] + counted
    taken = [e.fields for e in found if isinstance(e, edits.DropFilters)]
    widened = [f for e in found if isinstance(e, edits.SetFilters) and e.widen for f in e.filters]
    if p.query is not None and widened:  # "the closed ones too" after open tickets: the open filter is off
        taken.append([f.field for f in widened if not any(x.field == f.field for x in p.query.filters)])
        out["used"] = [*out["used"], *(str(v) for f in widened for v in (f.value if isinstance(f.value, list)
                                                                          else [f.value]))]
    if any(taken) and before is not None and before.query is not None:  # "drop the green filter": named
        off = [f for f in [*before.query.filters, *([before.query.having] if before.query.having else [])]
               if any(f.field in fields for fields in taken)]
        out["dropped"] = reading.said_filters(before.query.entity, off) if off else ""
    gone = [r for e in found if isinstance(e, edits.ExcludeRows) for r in e.rows]
    if gone:  # "besides that one": which rows, and the phrase was applied
        out["left_out"] = "; ".join(f"{r['account']}, {r['label']}" + (f" ({r['date']})" if r.get("date") else "")
                                    for r in gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
        m = edit_rows.BESIDES.search(question.lower())
        out["used"] = [*out["used"], *([m.group(0)] if m else [])]
    owner = next((f.value for e in found if isinstance(e, edits.SetFilters) for f in e.filters if f.field == "owner"
                  and isinstance(f.value, str)), None)
    if owner and before is not None and before.query is not None and before.query.limit and before.query.sort and \
            before.query.group_by in (None, "account") and d.get("rows"):  # "only Lena's" after a top 5: say re-run
        prev_rows = d.get("rows") or []
        ids = [row["account_id"] for row in prev_rows]
        listed = run(ctx, Query(entity="accounts", account_ids=ids, fields=["account", "owner"])).rows
        hers = {r["account_id"] for r in listed if r.get("owner") == owner}
        n_owned = sum(1 for i in ids if i in hers)
        out["rerun"] = f"The same ranking re-run on {owner}'s accounts ({n_owned} of the {len(prev_rows)} in the " \
                       f"last list {'was' if n_owned == 1 else 'were'} {owner.split()[0]}'s)"
    if sel is not None and sel.how != edits.NAMED:  # a person named is said by the reading itself
        out["picked"] = f"{sel.row['account']}, {sel.row['label']}" + (f" ({sel.row['date']})" if sel.row.get("date")
                                                                        else "") + f", {sel.how}" + \
            (f" {_whole(whole.group(0), d)}" if whole and whole.group(0) not in sel.how else "")
    return out


def _last(d: Dialogue) -> understand.Plan | None:
    return understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]


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
    p.what = "most senior contact" + (understand.EACH_MARK if p.what.endswith(understand.EACH_MARK) else "")
    return p


def _a_pick(found: list[edits.Edit]) -> bool:
    """Whether edits pick one row: a row, a tie to ask about, or the top 1 by a measure (asked of the query)."""
    return bool(found) and (isinstance(found[0], edits.SelectRow) or isinstance(found[0], edits.Unmatched) and
                            bool(found[0].among) or isinstance(found[0], edits.Reorder) and found[0].limit == 1)


def _past_renewals(p: understand.Plan, today: date) -> understand.Plan:
    """Accounts renewing in a window moved wholly into the past are that window's renewals (what happened then).

    An account's renewal date is its next one, so "the 30 days before that" over accounts would list none.
    """
    q = p.query
    if q is None or q.entity != "accounts" or p.shape != "list":
        return p
    window = next((f for f in q.filters if f.field == "renewal_date" and f.op == "between"), None)
    if window is None or str(window.value[1])[:10] >= today.isoformat() or \
            not all(f.field in ENTITIES["renewals"].fields for f in q.filters):
        return p
    sort = [s for s in q.sort if s.field in ENTITIES["renewals"].fields]
    return replace(p, query=Query(entity="renewals", filters=q.filters, sort=sort, account_ids=q.account_ids,
                                  fields=list(ENTITIES["renewals"].default_fields)), what="renewals")


def _whole(said: str, d: Dialogue) -> str:
    """A phrase like "of the H1 ones", with the window of the list it points back at."""
    p = understand.from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    sp = edits.current_period(p) if p is not None else None
    return f"{said} ({sp.start.isoformat()} to {sp.end.isoformat()})" if sp is not None else said


def _with_all_accounts(ctx: crm.ToolContext, d: Dialogue, found: list[edits.Edit]) -> Dialogue:
    """Every account of the last answer's query, not only the rows it showed ("and their tickets?" after 74)."""
    if not any(isinstance(e, edits.SwitchEntity | edits.ShowFields | edits.Summarise | edits.UsageOf)
               for e in found) or \
            not d.get("plan"):
        return d
    last = understand.from_json(d["plan"])  # type: ignore[arg-type]
    if last.query is None or last.shape not in ("list", "aggregate") or len(d.get("rows") or []) < 25:
        return d
    q = last.query.model_copy(update={"limit": None, "aggregates": [], "group_by": None, "fields": ["account"]})
    ids = list(dict.fromkeys(int(r["account_id"]) for r in run(ctx, q).rows))
    return {**d, "all_account_ids": ids}


def _drilled(ctx: crm.ToolContext, e: edits.Edit, d: Dialogue) -> edits.Edit:
    """"the lowest one" / "his" after a grouped answer: the group it means, found by running that answer again."""
    if not isinstance(e, edits.DrillGroup) or not d.get("plan"):
        return e
    q = understand.from_json(d["plan"]).query  # type: ignore[arg-type]
    groups = [g for g in run(ctx, q).groups if g["group"] != "(none)"] if q is not None else []
    if not groups:
        raise ValueError("no group to drill into")  # read afresh
    key = next((f"{a.fn}_{a.field}" for a in q.aggregates if q.sort and a.field == q.sort[0].field),  # type: ignore
               "count")
    ranked = [g for g in groups if isinstance(g.get(key), (int, float))] or groups
    pick = groups[0] if e.pick == "first" else (min if e.pick == "min" else max)(
        ranked, key=lambda g: float(g.get(key) or 0))
    return edits.DrillGroup(e.pick, e.said, str(pick["group"]))


def _scoped(ctx: crm.ToolContext, e: edits.Edit, d: Dialogue, switched: str | None = None,
            drilled: tuple[edits.Edit, ...] = ()) -> edits.Edit:
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
    grouped = bool(d.get("plan")) and any(isinstance(x, edits.DrillGroup) for x in drilled)  # groups, not accounts
    prior = [] if grouped else list(dict.fromkeys(r["account_id"] for r in d.get("rows") or []))
    prior = prior or ids
    keep = [f for f in e.filters if f not in foreign]
    narrowed = [i for i in prior if i in ids] or [-1]  # none match: an empty answer, never the unfiltered one
    return (edits.SetFilters(keep, e.said, narrowed) if isinstance(e, edits.SetFilters)
            else edits.Summarise(e.aggregates, keep, narrowed))


def in_rows(linked: dict[str, Any], d: Dialogue | None) -> dict[str, Any]:
    """A name that matches several accounts but the account of only one of the last answer's rows means that one.

    "how much did the Upland one grow?" after a list holding Upland Markets (not Upland Games).
    """
    rows = [*((d or {}).get("rows") or []), *(((d or {}).get("base") or {}).get("rows") or [])]  # or the list before
    if not linked["ambiguous"] or not rows:
        return linked
    found, still = list(linked["accounts"]), []
    for amb in linked["ambiguous"]:
        hits = {r["account_id"]: r["account"] for r in rows if r["account"] in amb["candidates"]}
        if len(hits) != 1:
            still.append(amb)
            continue
        aid, name = next(iter(hits.items()))
        if all(f["account_id"] != aid for f in found):
            found.append({"account_id": aid, "name": name})
    return {**linked, "accounts": found, "ambiguous": still}
