"""Words for activity records (the activities table: notes, calls, meetings, emails), and the kind each names.

"call notes" are the notes of calls (kind call), "meeting notes" or "minutes" of meetings, "csm notes" or
"internal notes" are notes (kind note), "emails" emails; "activities", "touchpoints", "interactions" or
"anything logged" are every kind. "Logged" with no noun is an activity word: CSMs log notes, calls and
meetings; a ticket is filed, raised or opened (and "tickets logged" stays tickets).
"""

from __future__ import annotations

import re

from tools.query import Filter

KINDS = ("note", "call", "meeting", "email")
PLURALS = {"note": "notes", "call": "calls", "meeting": "meetings", "email": "emails"}

_COMPOUND = re.compile(r"\b(call|phone|meeting|qbr|sync)[- ]?(?:notes?|logs?|minutes|summar(?:y|ies|ised|ized))\b|"
                       r"\bminutes\b")
_WORDS: list[tuple[str, str]] = [  # (pattern, kind), searched after compounds are taken out
    (r"\b(?:phone )?calls?\b|\bcalled\b|\bphoned\b", "call"),
    (r"\bmeetings?\b|\bqbrs?\b|\bsyncs?\b|\bcheck-?ins?\b|\bmet\b|\bmeet\b", "meeting"),
    (r"\be-?mails?\b|\be-?mailed\b", "email"),
    (r"\bnotes?\b", "note"),
]
ALL = re.compile(r"\b(?:activit(?:y|ies)|touch(?:es|points?)|interactions?|conversations?)\b")
"""Words that name every kind of activity ("every activity with a call in it" is not the calls)."""
NOUNS = (r"(?:(?:call|phone|meeting|csm|internal|account|customer|qbr|sync)[- ]?)?notes?|(?:phone )?calls?|"
         r"meetings?|e-?mails?|activit(?:y|ies)|touchpoints?|interactions?|minutes")
"""An activity noun, with the word before it that says whose or which notes."""
LOGGED = re.compile(r"\b(?:logged|log(?=\s+(?:on|with|for|against|about|at|under)\b)|jotted|written up|"
                    r"wrote (?:up|down))\b(?!\s+(?:in|into|on to|onto)\b(?!\s+(?:the|my|our|their|for)\b))|"
                    r"\bwhat did (?:we|i|you|anyone|the team) log\b")
"""A verb of writing an activity down ("what's been logged with X", "anything logged on my accounts"), not
"log in" (a login)."""
_TICKET_NOUNS = re.compile(r"\b(?:tickets?|tix|cases?|issues?|bugs?|incidents?|requests?|escalations?|problems?)\b")


def kinds(low: str) -> list[str]:
    """The activity kinds a message names, in the order it names them (empty: every kind).

    "any call notes last week" is ["call"], "meetings and calls with Acme" ["meeting", "call"], "csm notes"
    ["note"], "activities" or "anything logged" [].
    """
    found: list[tuple[int, str]] = []
    for m in _COMPOUND.finditer(low):
        word = m.group(1) or "meeting"
        found.append((m.start(), "call" if word in ("call", "phone") else "meeting"))
    rest = _COMPOUND.sub(lambda m: " " * len(m.group(0)), low)
    for pat, kind in _WORDS:
        for m in re.finditer(pat, rest):
            found.append((m.start(), kind))
    out: list[str] = []
    for _, kind in sorted(found):
        if kind not in out:
            out.append(kind)
    return out


def logged(low: str) -> bool:
    """Whether the message asks what was logged (written down) without naming tickets."""
    return bool(LOGGED.search(low)) and not _TICKET_NOUNS.search(low)


def noun(kinds_: list[str]) -> str:
    """The records in words: "notes", "calls and meetings", or every kind."""
    if not kinds_:
        return "activities (notes, calls, meetings and emails)"
    words = [PLURALS.get(k, k) for k in kinds_]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def of_filters(filters: list[Filter]) -> list[str]:
    """The activity kinds a query's filters keep (empty: every kind)."""
    for f in filters:
        if f.field == "kind" and f.op in ("eq", "in"):
            return [str(x) for x in f.value] if isinstance(f.value, list) else [str(f.value)]
    return []


def none_logged(filters: list[Filter], name: str) -> str:
    """An empty answer said with what was looked for: "No calls logged with Acme 2026-11-01 to 2026-11-23"."""
    words = noun(of_filters(filters)).split(" (")[0]
    win = next((f" {f.value[0]} to {f.value[1]}" for f in filters if f.field == "occurred_on" and f.op == "between"),
               "")
    return f"No {words} logged with {name}{win}"
