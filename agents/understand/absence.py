"""Accounts by what was NOT logged in a window: "which of mine have had nothing logged since oct 21".

A negated existence of activity asked about accounts is the accounts' touch gap (their last logged activity before
the window), the longest silent first with the date shown; never the activities that were logged.
"""

from __future__ import annotations

import re
from datetime import date

from agents.when import Span, span

_NEG = r"\b(?:nothing|none|no|not any|zero|never|haven'?t|hasn'?t|have not|has not|without)\b"
_RECORD = r"\b(?:logged|recorded|activit\w*|touch\w*|calls?|called|meetings?|met|emails?|emailed|interactions?|" \
          r"contact\w*|notes?|engage\w*)\b"
_ABSENT = re.compile(_NEG + r"[^.?!]{0,30}?" + _RECORD)
_ACCOUNTS = re.compile(r"\b(?:which|what|any|list|show)\s+(?:of\s+(?:mine|my\s+\w+|ours|our\s+\w+)|accounts?|"
                       r"customers?|clients?|accts?)\b|\b(?:accounts?|customers?|clients?|accts?)\b|\bof mine\b")
_PEOPLE = re.compile(r"\b(?:contacts?|people|champions?|stakeholders?|who(?:m)?\s+(?:at|from))\b")
_KINDS = re.compile(r"\b(calls?|called|meetings?|met|emails?|emailed|notes?)\b")
_KIND_OF = {"call": "call", "calls": "call", "called": "call", "meeting": "meeting", "meetings": "meeting",
            "met": "meeting", "email": "email", "emails": "email", "emailed": "email", "note": "note", "notes": "note"}


def absent(low: str) -> re.Match[str] | None:
    """The negated-activity words of a message that asks which accounts had none, if it does."""
    m = _ABSENT.search(low)
    if m is None or not _ACCOUNTS.search(low) or _PEOPLE.search(low):
        return None
    return m


def gap(low: str, today: date) -> tuple[int, str, Span | None, str] | None:
    """The gap in days a negated existence states ("nothing logged since oct 21"), its words and its field.

    An activity kind named ("no calls since May", "haven't had a meeting since oct") restricts the gap to that
    kind (`days_since_call`: accounts that never had one count too); otherwise any logged activity is a touch.
    None if the message states no window after its negation.
    """
    m = absent(low)
    if m is None:
        return None
    window = span(low[m.start():], today, future=False)
    if window is None or window.start >= today:  # "haven't touched in 3 weeks": a gap length, read by slots
        return None
    days = (today - window.start).days + 1  # touched the day before at the latest
    kind = _KINDS.search(low[m.start():]) or _KINDS.search(low)
    if kind:  # "no calls since May": only that kind of activity counts
        k = _KIND_OF[kind.group(1)]
        return days, f"no {k} logged since {window.start.isoformat()} (last {k} before then, or none on " \
            "record; other activity does not count)", window, f"days_since_{k}"
    return days, f"no activity logged since {window.start.isoformat()} (last activity before then)", window, \
        "days_since_touch"
