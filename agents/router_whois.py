"""A person asked about by name, looked up as a person: at the thread's account, or across the asker's scope.

- "is <name> in the CRM for them?", "do we have a <name> on file there?": a contact lookup at the thread's (or the
  message's) one account, by a fuzzy name; not there, one line says so, names who is, and where else in the asker's
  scope that name is (if anywhere).
- "who's <first name>?" with no account in the message or the thread: every contact the asker may see and every
  CSM by that first name; one is answered, several are listed in one line that asks which, none is said.

The query layer keeps the scope: a contact of an account the asker may not see is never found or named.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rapidfuzz import fuzz, utils

from agents.state import AccountRef, Dialogue, Route
from agents.understand import Plan, to_json
from agents.understand.phrases import LEXICON
from agents.understand.vocabulary import Vocabulary
from tools import crm
from tools.query import Filter, Query, run

_ON_FILE = re.compile(r"\b(?:in|on)\s+(?:the\s+|our\s+)?(?:crm|system|records?|file|contacts?(?:\s+list)?)\b|"
                      r"\bis\s+(?:there\s+)?(?:a|an|any|anyone|someone|somebody)\s+(?:contact\s+)?(?:called|named)\b|"
                      r"\b(?:do|did)\s+we\s+(?:have|know)\s+(?:a|an|any)\b|\bhave\s+we\s+got\s+(?:a|an|any)\b|"
                      r"\bis\s+[a-z][a-z\-]+(?:\s+[a-z][a-z\-]+)?\s+(?:a\s+contact|listed|recorded|one\s+of\s+"
                      r"(?:their|the)\s+contacts)\b")
_WHO = re.compile(r"^\W*(?:and\s+|so\s+|ok\s+|hey\s+)?(?:who(?:'s|s| is| was)|do you know)\s+([^\W\d_][\w\-]*)"
                  r"(?:\s+([a-z])\.?)?\s*\??\W*$")
_NOT_NAMES = {"the", "our", "my", "their", "this", "that", "it", "he", "she", "they", "there", "new", "next", "last",
              "up", "going", "on", "in", "at", "a", "an", "left", "still", "champion", "owner", "admin", "csm", "crm",
              "contact", "contacts", "them", "for", "have", "got", "know", "any", "anyone", "someone", "somebody",
              "called", "named", "role", "title", "whats", "what", "his", "her", "is", "we", "do", "file", "system",
              "record", "records", "listed", "recorded", "with", "and", "was", "does", "did", "one", "of",
              "here", "account", "job", "email", "right", "now", "ok", "okay", "hey", "yes", "no"}
_PLAIN = {"late", "behind", "online", "available", "free", "top", "best", "worst", "missing", "around", "out",
          "stuck", "quiet", "silent", "happy", "unhappy", "angry", "busy", "away", "off", "next", "first", "here",
          "responsible", "accountable", "leaving", "new", "mine", "yours", "who", "where", "when", "why", "how"}
_FIELDS = ["name", "role", "email", "is_champion", "left_on", "last_engaged", "account"]


def _plain(s: str) -> str:
    return utils.default_process("".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)))


def _named(words: list[str], people: list[str]) -> tuple[str, list[str]] | None:
    """The name said (first, maybe with a last name) and the people it may mean: a full name when one matches."""
    for k, w in enumerate(words):
        if len(w) < 3 or w in _NOT_NAMES:
            continue
        firsts = _firsts(w, people)
        if not firsts:
            continue
        nxt = words[k + 1] if k + 1 < len(words) else ""
        full = [p for p in firsts if len(nxt) >= 3 and fuzz.ratio(_plain(nxt), _plain(p.split()[-1])) >= 85]
        return (f"{w} {nxt}" if full else w).title(), full or firsts
    return None


def _firsts(word: str, names: list[str]) -> list[str]:
    """The names whose first name is this word: exactly (without accents), else a close typo ("nikil")."""
    exact = [p for p in names if " " in p and _plain(word) == _plain(p.split()[0])]
    return exact or [p for p in names if " " in p and len(word) >= 5 and
                     fuzz.ratio(_plain(word), _plain(p.split()[0])) >= 88]


def _subject(linked: dict[str, Any], d: Dialogue | None) -> AccountRef | None:
    """The one account the message or the thread is about, if there is one."""
    if len(linked["accounts"]) == 1:
        return linked["accounts"][0]  # type: ignore[no-any-return]
    if linked["accounts"] or not d:
        return None
    accounts = d.get("accounts") or []
    if len(accounts) == 1:
        return accounts[0]
    rows = d.get("rows") or []
    ids = {r["account_id"] for r in rows}
    return {"account_id": rows[0]["account_id"], "name": rows[0]["account"]} if len(ids) == 1 else None


def _contacts(ctx: crm.ToolContext, names: list[str] | None, account_ids: list[int]) -> list[dict[str, Any]]:
    """Contacts by these names (every contact when None) at these accounts (anywhere in scope when empty)."""
    where = [] if names is None else [Filter(field="name", op="in", value=names[:40])]
    q = Query(entity="contacts", account_ids=account_ids, filters=where,
              fields=["name", "role", "account", "left_on"], limit=20)
    return list(run(ctx, q).rows)


def _who(r: dict[str, Any]) -> str:
    return f"{r['name']} ({r['account']}" + (f", {r['role']}" if r.get("role") else "") + \
        (f", left {str(r['left_on'])[:10]}" if r.get("left_on") else "") + ")"


def _answer(names: list[str], said: str, accounts: list[AccountRef]) -> Route:
    """The contacts found, as a list plan (its reading line says who was looked up and where)."""
    at = f" at {accounts[0]['name']}" if accounts else ""
    q = Query(entity="contacts", filters=[Filter(field="name", op="in", value=names)], fields=list(_FIELDS),
              account_ids=[a["account_id"] for a in accounts])
    p = Plan("list", f"contacts named {said}{at}", q, what="contacts", accounts=list(accounts))
    out: dict[str, Any] = {"intents": ["query"], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                           "window_days": None, "method": "person by name", "plans": [to_json(p)],
                           "used": [said]}
    return out  # type: ignore[return-value]


def _say(text: str) -> Route:
    """A line made here, an answer: who is not on file, a CSM, the namesakes (with which one is meant)."""
    out: dict[str, Any] = {"intents": [], "accounts": [], "accounts_via": None, "ambiguous": [], "denied": [],
                           "window_days": None, "method": "person by name", "plans": [], "clarify": text,
                           "stated": True}
    return out  # type: ignore[return-value]


def on_file(ctx: crm.ToolContext, question: str, vocab: Vocabulary, linked: dict[str, Any],
            d: Dialogue | None) -> Route | None:
    """A person asked about at the thread's account ("is raj in the crm for them?"): that contact, or why not."""
    low = question.lower().replace("\u2019", "'")
    if not _ON_FILE.search(low):
        return None
    subject = _subject(linked, d)
    if subject is None:
        return None
    taken = set(re.findall(r"[a-z]+", subject["name"].lower()))
    words = [w for w in (re.sub(r"'s?$", "", x) for x in re.findall(r"[a-z][a-z'\-]+", low)) if w not in taken]
    named = _named(words, vocab.people)
    if named is None:
        return None
    said, names = named
    here = _contacts(ctx, names, [subject["account_id"]])
    if here:
        return _answer([r["name"] for r in here], said, [subject])
    theirs = _contacts(ctx, None, [subject["account_id"]])
    listed = "; ".join(f"{r['name']}" + (f", {r['role']}" if r.get("role") else "") for r in theirs[:8])
    elsewhere = [r for r in _contacts(ctx, names, []) if r["account_id"] != subject["account_id"]]
    text = f"No contact named {said} is recorded at {subject['name']}" + \
        (f" (its contacts in the CRM: {listed})." if listed else " (it has no contacts in the CRM).")
    more = f" and {len(elsewhere) - 10} more" if len(elsewhere) > 10 else ""
    text += (" Elsewhere in your accounts: " + "; ".join(_who(r) for r in elsewhere[:10]) + more + ".") if elsewhere \
        else \
        f" No one by that name is in your other accounts either, so I have no role to give for {said}."
    return _say(text)


def who_is(ctx: crm.ToolContext, question: str, vocab: Vocabulary, linked: dict[str, Any],
           d: Dialogue | None) -> Route | None:
    """A bare first name ("who's raj?"): the people by that name the asker may see, the thread's account first."""
    m = _WHO.match(question.lower().replace("\u2019", "'").strip())
    if m is None or m.group(1) in _NOT_NAMES or linked["accounts"] or linked["ambiguous"] or \
            linked["denied"]:
        return None
    word, initial = m.group(1), m.group(2)
    if any(_plain(word) == _plain(p) for p in vocab.people) or word.endswith(("ing", "ed")):
        return None  # a full name is read by the usual lookup; "who's renewing?" is not a person
    names = [p for p in _firsts(word, vocab.people) if initial is None or _plain(p.split()[-1]).startswith(initial)]
    subject = _subject(linked, d)
    here = _contacts(ctx, names, [subject["account_id"]]) if subject is not None and names else []
    if here:  # "who's nikhil?" in a thread about one account: that account's Nikhil first
        return _answer([r["name"] for r in here], word.title(), [subject])  # type: ignore[list-item]
    staff = _firsts(word, vocab.csms)
    found = _contacts(ctx, names, []) if names else []
    said = word.title() + (f" {initial.upper()}." if initial else "")
    if len(found) == 1 and not staff:
        return _answer([found[0]["name"]], said, [])
    team = vocab.csm_teams
    people = [_who(r) for r in found] + [f"{c} (CSM" + (f", team {team[c]}" if team.get(c) else "") + ")"
                                         for c in staff]
    if len(people) == 1:  # one of the team's own people
        return _say(f"{staff[0]} is on the customer-success team" + (f" (team {team[staff[0]]})" if
                                                                      team.get(staff[0]) else "") +
                    ", not a customer contact.")
    if not people:
        if word in LEXICON or word in _PLAIN or word.endswith(("ly", "ble", "ous", "ive", "ful")):
            return None  # "who's late?", "who's responsible?": not a name
        return _say(f"No one named {said} is in your accounts (no contact there and no CSM by that name).")
    more = f" and {len(people) - 10} more" if len(people) > 10 else ""
    return _say(f"{len(people)} people named {said} in your accounts: {'; '.join(people[:10])}{more}. Which one do "
                "you mean? Say the account or the full name.")  # an answer (who they are) that asks which


def named(ctx: crm.ToolContext, question: str, vocab: Vocabulary, linked: dict[str, Any],
          d: Dialogue | None) -> Route | None:
    """A question about a person by name, answered as a person lookup; None when the message is not one."""
    return on_file(ctx, question, vocab, linked, d) or who_is(ctx, question, vocab, linked, d)
