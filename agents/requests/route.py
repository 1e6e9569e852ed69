"""Which account a request is about: named in it, found through a contact's name, or the conversation's.

The router calls `route` once a message parses as a request, with the accounts it linked (so access
and ambiguity are decided where they always are). A request about an account the asker may not see
comes back with `denied` and no account, and gets the usual access answer.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process, utils

from agents.requests import thread
from agents.requests.parse import Request
from agents.state import AccountRef, Dialogue, Route
from tools import contacts, crm
from tools.vocabulary import vocabulary

_NOT_A_PERSON = set("""i me my we our you your they them their the a an and or to of for with about on at in by
from draft write send email e-mail ping slack message note set schedule book remind please can could would will
hey hi retain qbr ebr sso scim api sla csm vp it ok okay monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december jan feb mar apr jun jul aug
sep sept oct nov dec today tomorrow next this early mid late end""".split())
_NAME = re.compile(r"\b([A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*)?)")


def person_spans(text: str, account_names: list[str]) -> list[str]:
    """Capitalised words that may be a person's name (not an account's, a month's or the first word)."""
    taken = {w.lower() for n in account_names for w in re.findall(r"[\w&.-]+", n)}
    out = []
    for m in _NAME.finditer(text):
        words = [re.sub(r"('s|’s|'|’)$", "", w) for w in m.group(1).split()]  # "Industries'" too
        words = [w for w in words if w.lower() not in _NOT_A_PERSON and w.lower() not in taken]
        if m.start() == len(text) - len(text.lstrip()) and len(words) == len(m.group(1).split()) == 1:
            continue  # the message's first word is a verb ("Draft…", "Email…")
        if words:
            out.append(" ".join(words))
    return out


def said_names(text: str, people: list[str], account_names: list[str]) -> list[str]:
    """Contacts' full names written in any case ("send a note to jamie singh at lumen health"), as the CRM spells them.

    Two words in a row that are (nearly) a contact's first and last name; who may see that contact is decided
    when it is looked up. Capitalised names are found by `person_spans` as well.
    """
    taken = {w.lower() for n in account_names for w in re.findall(r"[\w&.-]+", n)}
    words = [re.sub(r"('s|’s|'|’)$", "", w) for w in re.findall(r"[A-Za-zÀ-ÿ][\w'’-]*", text)]
    out: list[str] = []
    for a, b in zip(words, words[1:], strict=False):
        if {a.lower(), b.lower()} & (_NOT_A_PERSON | taken) or len(a) < 2 or len(b) < 2:
            continue
        hit = process.extractOne(f"{a} {b}", people, scorer=fuzz.ratio, processor=utils.default_process,
                                 score_cutoff=88)
        if hit is not None and str(hit[0]) not in out:
            out.append(str(hit[0]))
    return out


def _ref(a: dict[str, Any]) -> AccountRef:
    return {"account_id": int(a["account_id"]), "name": str(a["name"])}


def route(ctx: crm.ToolContext, req: Request, linked: dict[str, Any], last_accounts: list[AccountRef],
          d: Dialogue | None = None) -> Route | None:
    """The route to the draft agent for a request; None when another agent should answer it.

    "draft a follow-up for Cyberdyne" names no recipient: that is the onboarding agent's follow-up. A first name
    in lower case ("draft morgan a note") is looked up at the thread's account first, then in the asker's scope;
    "her" / "him" after a turn about one contact is that contact.
    """
    accounts: list[AccountRef] = [_ref(a) for a in linked["accounts"]]
    via = "named"
    names = crm.live_account_names(ctx.store)
    people = [] if req.kind == "reminder" else person_spans(req.text, [a["name"] for a in accounts] + names)
    if req.kind != "reminder":  # "email jamie singh ...": a contact's full name, in any case, before other words
        full = said_names(req.text, vocabulary(ctx.store).people, [a["name"] for a in accounts] + names)
        people = full + [p for p in people if all(p.lower() not in f.lower() for f in full)]
        low = thread.lower_name(req.text)  # "draft morgan a note": only when some contact in scope is called that
        if low and not any(low.lower() in p.lower() for p in people) and \
                contacts.contact_by_name(ctx, low, [a["account_id"] for a in accounts] or None):
            people.append(low)
    person, candidates = None, []
    if people:
        scope = [a["account_id"] for a in accounts] or None  # else every account the asker may see
        for span in people:
            hits = [] if accounts or len(last_accounts) != 1 else \
                contacts.contact_by_name(ctx, span, [last_accounts[0]["account_id"]])  # the thread's account first
            if hits and len({h["account_id"] for h in hits}) == 1:
                accounts, via = list(last_accounts), "conversation"
            hits = hits or contacts.contact_by_name(ctx, span, scope)
            if hits:
                person = span
                if not accounts and len({h["account_id"] for h in hits}) == 1:
                    accounts, via = [{"account_id": hits[0]["account_id"], "name": hits[0]["account"]}], "contact"
                elif not accounts:  # the same name at several of the asker's accounts: ask which
                    candidates = sorted({f"{h['name']} at {h['account']}" for h in hits})
                break
    if person is None and not accounts and not candidates:  # a person who has left: their account, to say so
        for span in people:
            gone = contacts.contact_by_name(ctx, span, None, left=True)
            if gone and len({h["account_id"] for h in gone}) == 1:
                accounts, via = [{"account_id": gone[0]["account_id"], "name": gone[0]["account"]}], "contact"
                break
    said = thread.person(req.text, d) if person is None and not people else None  # "him", not "his admin"
    if said is not None and (not accounts or accounts[0]["account_id"] == said[1]["account_id"]):
        person, accounts, via = said[0], [said[1]], "conversation"  # "draft her a note" after a turn about her
    if req.follow_up and req.role is None and person is None:
        return None
    among: list[str] = []
    if not accounts and not linked["denied"] and not linked["ambiguous"] and last_accounts and not candidates:
        if len(last_accounts) == 1:  # the conversation's one account; after a list, which of them is asked
            accounts, via = list(last_accounts), "conversation"
        else:
            among = [a["name"] for a in last_accounts]
    request = req.to_json() | {"person": person, "unknown_people": [] if person else people,
                               "candidates": candidates, "among": among, "about": thread.subject(d)}
    return {"intents": ["draft"], "accounts": accounts[:1], "accounts_via": via if accounts else None,
            "ambiguous": linked["ambiguous"], "denied": linked["denied"], "window_days": None,
            "method": "request", "plans": [], "request": request}
