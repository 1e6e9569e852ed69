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

from agents import fiscal, requests, understand
from agents import router_whois as whois
from agents.router_edits import _PREP, _edited, _intents, _understood, in_rows
from agents.router_model import FieldName, QueryOut, RouteOut, system_prompt
from agents.router_model import grounded as _grounded
from agents.router_model import proposed_plan as _proposed_plan
from agents.router_parts import outside, tie, unlooked
from agents.router_parts import parts as _parts
from agents.router_people import unheld
from agents.router_text import nearest_example, window_days
from agents.router_text import spans as _spans
from agents.router_text import whole_names as _whole_names
from agents.specs import INTENTS, SPECS
from agents.state import AccountRef, Deps, Dialogue, Route
from agents.understand import candidates, constraint_words, reading
from core.errors import AccessDenied, AmbiguousName, NotFoundError
from integrations.llm import LLMError, structured
from tools import access, crm, records

log = logging.getLogger(__name__)
__all__ = ["FieldName", "QueryOut", "RouteOut", "link_accounts", "nearest_example", "query_route", "route",
           "system_prompt", "window_days"]

_PORTFOLIO = re.compile(
    r"\bmy (accounts|portfolio|book|renewals|customers|team)|which (of my |of our )?(accounts|customers|renewals)|"
    r"\ball (my |our )?accounts\b|portfolio|who (is|are) at risk|what renews|renewals? (this|next|in|within|due)|"
    r"\b(list|show) (me )?(the |my |every |all )?(accounts?|renewals|customers)|at[- ]risk accounts|accounts at risk")
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
    r"draft|email|remind|follow|deal|pipeline|purchas|\bfiled\b|\braised\b|\blogged\b")

def _alone(intents: list[str]) -> bool:
    """A message that is only help, or only something to remember: no records to find or read for it."""
    return len(intents) == 1 and intents[0] in SPECS and SPECS[intents[0]].standalone


def link_accounts(deps: Deps, ctx: crm.ToolContext, question: str) -> dict[str, Any]:
    """Accounts named in the message: found, ambiguous, denied, unknown."""
    names = crm.live_account_names(ctx.store)
    firsts = {n.split()[0] for n in names if len(n.split()[0]) >= 4}
    pool = names + sorted(firsts - set(names))
    taken: list[tuple[int, int]] = []
    found: list[dict[str, Any]] = []
    ambiguous: list[dict[str, Any]] = []
    denied: list[str] = []
    for start, end, span in _whole_names(question, names) + _spans(question):
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
    if p.shape == "lookup" and compound:  # "who owns it and how healthy is it?": each part answered
        extra += [i for i in unlooked(low, p.accounts, ctx.as_of) if i not in extra]
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
    unanswered: list[str] = []
    if p is not None and ("query" in intents or "portfolio" in intents):
        line = reading.reading(p)
        looked = p.shape == "lookup" and "query" in intents
        more = [understand.from_json(x) for x in r["plans"][1:]] if looked else []
        also = [x.what for x in more if x.shape == "lookup" and x.what] + \
            [SPECS[i].reading.format(a=names) for i in intents if looked and i != "query" and i in SPECS and
             SPECS[i].reading]
        if p.shape == "aggregate" and len(r["plans"]) > 1:  # "this month vs last": each window it compares
            line = line[:-1] + "; compared with " + "; ".join(
                reading.reading(understand.from_json(x))[:-1].lower() for x in r["plans"][1:]) + ":"
        if also:  # "who owns it and how healthy is it?": the line names each part it answers
            line = line[:-1] + "; " + "; ".join(also) + ":"
        if p.shape == "lookup" and p.what not in ("record", "person"):  # a part nothing answers is said
            unanswered = [part for i, part in _parts(question.lower(), p.accounts, today) if not i]
    elif "portfolio" in intents:
        days = r["window_days"]
        line = "Your portfolio" + (f": renewals in the next {days} days" if days else "") + ", most urgent first:"
    else:
        parts = [SPECS[i].reading.format(a=names) for i in intents if i in SPECS and SPECS[i].reading]
        line = ("Prep for " + names + ": " + "; ".join(parts) if len(parts) > 2 else "; ".join(parts)) + ":"
        line = line[:1].upper() + line[1:]
    r["reading"] = line
    r["not_applied"] = constraint_words.unapplied(
        question, p if "query" in intents or "portfolio" in intents else None,
        today, r["window_days"] if "portfolio" in intents else None) + unanswered + \
        unheld(question, r["plans"][0] if r["plans"] and "query" in intents else None)  # "her phone?": not held
    return r


def route(deps: Deps, question: str, who: str, last_accounts: list[AccountRef],
          last_ids: list[int] | None = None, last_topic: str | None = None,
          dialogue: Dialogue | None = None) -> Route:
    """Decide intents, accounts and window for one message, and say how it was read.

    A fiscal-year start stated in the message, or earlier in the thread, reads its quarters and years.
    """
    question = understand.normalize(question)
    pending = (dialogue or {}).get("pending")
    chosen = candidates.choose(question, pending["candidates"]) if pending else None
    if pending and chosen:  # "the second" after "which Vandelay?": the first question, about that one
        question, dialogue = candidates.asked_again(pending, chosen), {**(dialogue or {}), "pending": None}
    stated = fiscal.stated_start(question) or (dialogue or {}).get("fiscal_start")
    token = fiscal.STATED.set(stated)
    try:
        r = _routed(deps, question, who, last_accounts, last_ids, last_topic, dialogue)
    finally:
        fiscal.STATED.reset(token)
    if stated is not None:
        r["fiscal_start"] = stated  # the thread keeps it for its follow-ups
    if pending and chosen:  # the reading line says which candidate the reply picked
        r["reading"] = f"Taking {chosen}, as you picked. " + (r.get("reading") or f"Asked again: {question}")
    return _fiscal_said(r, stated, deps.tool_context(who).fiscal_start)


def _fiscal_said(r: Route, stated: int | None, configured: int) -> Route:
    """A reading over fiscal quarters or years names the fiscal year's start, and whose it is."""
    p = r["plans"][0] if r.get("plans") else {}
    said = " ".join([str(p.get("title") or ""), *(p.get("period") or [""])[2:], *(r.get("used") or [])])
    if not r.get("reading", "").endswith(":") or not re.search(r"\bfiscal\b|\bfy\d", said, re.I):
        return r
    whose = "as you said" if stated is not None else "the configured start"
    r["reading"] = r["reading"][:-1] + f" (fiscal year starting {fiscal.month_name(stated or configured)}, {whose}):"
    return r


def _routed(deps: Deps, question: str, who: str, last_accounts: list[AccountRef], last_ids: list[int] | None,
            last_topic: str | None, dialogue: Dialogue | None) -> Route:
    note: dict[str, Any] = {}
    r = _route(deps, question, who, last_accounts, last_ids, last_topic, dialogue, note)
    ctx = deps.tool_context(who)
    found = None
    if "portfolio" in r["intents"] and not r["plans"]:
        plans = _understood(ctx, question, [], [])
        found = plans[0] if plans else None
        if found is not None and found.query is not None:  # what a follow-up ("same for next quarter") edits
            r["plans"] = [understand.to_json(found)]
    tie(ctx, r)
    outside(ctx, r)
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
    if r.get("tie") and r.get("reading"):  # "the biggest" when two share it: never one of them picked silently
        r["reading"] = f"No single one: {r['tie']}, so all of them are shown. {r['reading']}"
    if r.get("dropped") and r.get("reading"):  # "drop the green filter": which one was taken off, by name
        r["reading"] = f"Without the {r['dropped']} filter: {r['reading']}"
    if r.get("left_out") and r.get("reading"):  # "besides that one": the rows left out, by name
        r["reading"] = f"Leaving out from the last answer: {r['left_out']}. {r['reading']}"
    if r.get("rerun") and r.get("reading"):  # "only Lena's" after a top 5: said to be a re-run, not those rows cut
        r["reading"] = f"{r['rerun']}. {r['reading']}"
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
    if asked is not None and (r := requests.route(ctx, asked, link_accounts(deps, ctx, question), last_accounts,
                                                     dialogue)):
        return r
    low = question.lower()
    last_ids = last_ids or []
    follow_up = False
    intents = _intents(low)
    linked = link_accounts(deps, ctx, question) if intents != ["help"] else \
        {"accounts": [], "ambiguous": [], "denied": []}
    linked = in_rows(linked, dialogue)  # "the Upland one" when the last answer holds one Upland
    if (named := whois.named(ctx, question, understand.vocabulary(ctx.store), linked, dialogue)) is not None:
        return named  # "is raj in the crm for them?", "who's raj?": a person, looked up as one
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
                and _FOLLOW.search(low) and not understand.BOOK.search(low):
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
            and intents != ["help"] and (_FOLLOW.search(low) or (intents and not mine)) and \
            not understand.BOOK.search(low):
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
