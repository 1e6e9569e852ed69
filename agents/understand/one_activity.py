"""One activity asked about by its day, its kind or a person: "what did hank say on the 11-15 call?".

"what came out of the oct 3 meeting with them?", "summarise last week's call", "what did we discuss with X on
Monday?": the note, call, meeting or email logged with the account that day (or in that week), quoted. The day
and kind are filters of the plan; a person named is a word its text should carry (`body contains`), preferred
among that day's records, never a reason to answer about another day. None that day: the answer says so and
gives the nearest ones (see `agents.crm_activity`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.holidays import date_named
from agents.state import AccountRef
from agents.understand.model import Plan
from agents.when import Span, span
from tools.query import Filter, Query, Sort

WHAT = "one activity"
"""The plan's `what`: the answer states the records found (or the nearest ones) in full."""

_SAID = re.compile(r"\bwhat did\b.{0,40}?\b(?:say|said|tell|mention\w*|want|ask\w*|raise|bring up|think|complain\w*)\b|"
                   r"\bwhat (?:came|comes|come) out of\b|\bsumm?ar(?:ise|ize|y|ies)\b|\brecap\b|"
                   r"\bwhat (?:was|got|were|has been|is) (?:said|discussed|covered|decided|agreed)\b|"
                   r"\bwhat did (?:we|they|you|i|he|she|the team) (?:discuss|cover|talk about|agree\w*|decide)\b")
"""A question about what was said: asked of a day's records even without a noun ("what did we discuss on oct 3")."""
_ASK = re.compile(_SAID.pattern + r"|\bhow did\b.{0,40}\bgo\b|\bwhat happened (?:on|at|in|during)\b|"
                  r"\bwhat was (?:it|that|the \w+(?: \w+)?) about\b|\btell me about\b|\bdetails (?:of|on|from)\b|"
                  r"\bwhat(?:'s| is| was) in\b|\bwhat did (?:it|the \w+) say\b|\bany (?:takeaways|outcomes?)\b|"
                  r"\btakeaways?\b|\boutcome of\b|\bnotes? (?:from|of)\b")
"""Any question about one record's content; without an activity noun only `_SAID` counts."""
_OTHER = re.compile(r"\b(?:surveys?|nps|csat|tickets?|cases?|fine[- ]?tun\w*|renewals?|milestones?|onboarding|"
                    r"usage|spend|health|latency|contracts?|invoices?)\b")
"""Another kind of record named: "what did they say in the survey last month" is not a note."""
_NOUN = re.compile(r"\b(call|phone call|meeting|qbr|sync|check-?in|catch-?up|e-?mail|note|conversation|chat|"
                   r"touchpoint|touch base)\b(?!s)")
_KIND = {"call": "call", "phone call": "call", "meeting": "meeting", "qbr": "meeting", "sync": "meeting",
         "check-in": "meeting", "checkin": "meeting", "catch-up": "meeting", "catchup": "meeting", "email": "email",
         "e-mail": "email", "note": "note"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NOT_PEOPLE = {"we", "they", "you", "i", "he", "she", "it", "the", "them", "their", "our", "my", "your", "us", "this",
               "that", "these", "those", "everyone", "anyone", "someone", "team", "customer", "client", "account",
               "last", "next", "yesterday", "today", "tomorrow", "week", "month", "people", "folks", "a", "an",
               "on", "in", "at", "about", "what", "who", "was", "is", "did", "any", "all", "her", "his", "him",
               "do", "does", "really", "actually", "exactly", "finally", "first", "latest", "recent", "most", "new",
               "call", "meeting", "email", "note", "qbr", "sync", "chat", "check", "catch", "csm", "champion",
               "admin", "sponsor", "vp", "cto", "ceo", "cfo", "coo", "exec", "boss", *_WEEKDAYS}


def _past(d: date, today: date) -> date:
    return d if d <= today else d.replace(year=d.year - 1)


def day_of(low: str, today: date) -> tuple[date | None, Span | None, str]:
    """The day (or window) a message names for one activity, and the words that named it."""
    m = re.search(r"\b(\d{4}-\d\d-\d\d)\b", low)
    if m:
        return date_named(low, today), None, m.group(1)
    m = re.search(r"(?<![\d/-])(\d{1,2})[/-](\d{1,2})(?![\d/-])", low)  # "the 11-15 call", "on 10/3"
    if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31:
        try:
            return _past(date(today.year, int(m.group(1)), int(m.group(2))), today), None, m.group(0)
        except ValueError:
            pass
    named = date_named(low, today)
    if named is not None:
        return named, None, "the day named"
    m = re.search(r"\b(yesterday|today)(?:'s)?\b", low)
    if m:
        return today - timedelta(days=1 if m.group(1) == "yesterday" else 0), None, m.group(0)
    m = re.search(r"\b(?:on |last |this past |this )?(" + "|".join(_WEEKDAYS) + r")(?:'s)?\b", low)
    if m:
        want = _WEEKDAYS.index(m.group(1))
        back = (today.weekday() - want) % 7 or 7
        return today - timedelta(days=back), None, m.group(0).strip()
    m = re.search(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b", low)
    if m and 1 <= int(m.group(1)) <= 31:
        first = today.replace(day=1)
        try:
            d = first.replace(day=int(m.group(1)))
        except ValueError:
            d = None
        if d is None or d > today:
            prev = first - timedelta(days=1)
            d = prev.replace(day=min(int(m.group(1)), prev.day))
        return d, None, m.group(0)
    sp = span(low.replace("'s ", " "), today, future=False)
    if sp is not None and sp.text != "today":
        return None, sp, sp.text
    return None, None, ""


def _person(low: str, account: AccountRef) -> str | None:
    """A person whose words are asked for ("what did hank say", "the call with priya", "raj's email")."""
    words = set(re.findall(r"[a-z]+", account["name"].lower()))
    for pat in (r"\bwhat did ([a-z][a-z'-]+) (?:say|said|tell|mention|want|ask|raise|bring up|think|complain)",
                r"\b(?:call|meeting|qbr|sync|check-?in|catch-?up|chat|conversation|e-?mail|note)s? (?:with|from|by) "
                r"([a-z][a-z'-]+)\b",
                r"\b([a-z][a-z-]+)'s (?:call|meeting|qbr|sync|check-?in|catch-?up|chat|e-?mail|note)\b",
                r"\b(?:with|from) ([a-z][a-z'-]+) (?:on|last|this|about|yesterday|today)\b"):
        m = re.search(pat, low)
        name = m.group(1).removesuffix("'s") if m else ""
        if name and name not in _NOT_PEOPLE and name not in words and len(name) >= 3 and not name.isdigit() and \
                not re.fullmatch(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*", name):
            return name
    return None


def plan(low: str, account: AccountRef, today: date) -> Plan | None:
    """The one activity asked about, as a lookup of the account's activities that day; None if not asked so."""
    if not _ASK.search(low) and not re.search(r"\b(?:the|that|this)\s+(?:[\w-]+\s+){0,2}?(?:call|meeting|qbr|sync|"
                                               r"check-?in|e-?mail|note)\b(?!s)", low):
        return None
    noun = _NOUN.search(low)
    if noun is None and (not _SAID.search(low) or _OTHER.search(low)):
        return None  # "tell me about their tickets this month", "any notes from october": lists, as before
    day, window, said = day_of(low, today)
    who = _person(low, account)
    if day is None and window is None and who is None:
        return None  # "what did we discuss with Acme?": the last meeting, as before
    kind = _KIND.get(noun.group(1).replace(" ", "")) if noun else None
    kind = kind or (_KIND.get(noun.group(1)) if noun else None)
    filters: list[Filter] = [Filter(field="kind", value=kind)] if kind else []
    if day is not None:
        filters.append(Filter(field="occurred_on", op="between", value=[day.isoformat(), day.isoformat()]))
    elif window is not None:
        filters.append(Filter(field="occurred_on", op="between", value=[window.start.isoformat(),
                                                                         window.end.isoformat()]))
    if who:
        filters.append(Filter(field="body", op="contains", value=who))
    q = Query(entity="activities", account_ids=[account["account_id"]], filters=filters,
              fields=["occurred_on", "kind", "subject", "author", "body"], sort=[Sort(field="occurred_on", desc=True)])
    what = kind or "activity"
    when = f" on {day.isoformat()}" if day is not None else \
        f" {window.text} ({window.start.isoformat()} to {window.end.isoformat()})" if window is not None else \
        " (the latest)"
    title = f"The {what} with {account['name']}{when}" + (f", the one mentioning \u2018{who}\u2019" if who else "") + \
        ", quoted in full"
    return Plan("lookup", title, q, what=WHAT, accounts=[account])
