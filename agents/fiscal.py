"""Fiscal years in a CSM's words: a start stated in the message ("our FY starts in Feb"), fiscal quarters and years.

A company's fiscal year may start in any month (settings `fiscal_year_start_month`). A CSM may also say it
in the conversation ("fiscal year begins April 1", "we run a July fiscal year", "our Q1 starts in Feb"):
then it outranks the setting for that message and the rest of its thread, and the quarters and years the
message names bare ("Q1", "last quarter", "this year") are fiscal ones. Fiscal year N is named by the
calendar year it ends in (FY2027 with a February start runs 2026-02-01 to 2027-01-31).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date

from dateutil.relativedelta import relativedelta

MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december"]
_MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
       r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
_FY = r"(?:fiscal(?:\s+(?:years?|yrs?))?|financial\s+(?:years?|yrs?)|fy|fiscal\s+calendar)"
_VERB = r"(?:starts?|starting|started|begins?|beginning|began|begun|kicks?\s+off|opens?|commences?|" \
        r"runs?(?:\s+from)?|running(?:\s+from)?|goes\s+from|is|=)"
_DAY = r"(?:(?:the\s+)?(?:1st|first|start|beginning)\s+of\s+|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
_STATED = re.compile(
    rf"\b{_FY}(?:'s)?\s+(?:that\s+|which\s+|always\s+|officially\s+|here\s+)?{_VERB}\s+(?:in\s+|on\s+|from\s+|with\s+)?"
    rf"{_DAY}{_MON}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?(?:\s*(?:-|–|to|through|thru)\s*{_MON})?|"
    rf"\b(?:fiscal\s+|fy\s*)?q1\s+(?:starts?|begins?|starting|beginning|is|opens?|kicks?\s+off)\s+(?:in\s+|on\s+)?"
    rf"{_DAY}{_MON}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?|"
    rf"\b(?:an?|our|the)\s+{_MON}(?:\s*(?:-|–|to|through)\s*{_MON})?(?:\s*(?:start|starting|-start))?\s+"
    rf"(?:fiscal(?:\s+year)?|fy|financial\s+year)\b(?!\s*'?\d)")

STATED: ContextVar[int | None] = ContextVar("fiscal_stated", default=None)
"""The fiscal-year start a CSM stated earlier in this conversation (the router sets it for one message)."""


def month_no(name: str) -> int:
    """A month's number from its name or abbreviation."""
    return next(i + 1 for i, full in enumerate(MONTH_NAMES) if full.startswith(name[:3].lower()))


def month_name(n: int) -> str:
    """A month's name, capitalised."""
    return MONTH_NAMES[n - 1].capitalize()


def stated_start(text: str) -> int | None:
    """The month a fiscal year starts in, if the message says it ("our FY starts in Feb" is 2)."""
    m = _STATED.search(text.lower().replace("\u2019", "'"))
    if m is None:
        return None
    return month_no(next(g for g in m.groups() if g))


def strip_stated(low: str) -> str:
    """The message without the phrase stating the fiscal start (its month and day are not a window)."""
    return _STATED.sub(" ", low)


def as_fiscal(low: str) -> str:
    """Bare quarter and year words as fiscal ones: said with a stated fiscal start, "Q1" is fiscal Q1."""
    low = re.sub(r"\b(?:the\s+)?(?:last|final)\s+quarter\s+of\s+(?:the|this|our)\s+(?:fiscal\s+)?year\b", "q4", low)
    low = re.sub(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter\b",
                 lambda q: "q" + str({"fi": 1, "1s": 1, "se": 2, "2n": 2, "th": 3, "3r": 3, "fo": 4,
                                      "4t": 4}[q.group(1)[:2]]), low)
    low = re.sub(r"\bq([1-4])\b", lambda m: m.group(0) if re.search(r"(?:fiscal|fy\s*'?\d{0,4})\s*$",
                                                                        low[max(0, m.start() - 12):m.start()])
                 else f"fiscal q{m.group(1)}", low)  # "FY27 Q1" is already fiscal
    low = re.sub(r"\b(this|current|next|last|previous|prior)\s+(?:quarter|qtr)\b", r"\1 fiscal quarter", low)
    low = re.sub(r"\bend of (?:the |this )?(?:quarter|q)\b", "end of this fiscal quarter", low)
    low = re.sub(r"\b(?:qtd|quarter to date)\b", "this fiscal quarter", low)
    low = re.sub(r"\b(this|current|next|last|previous|prior)\s+year\b(?! or)", r"\1 fiscal year", low)
    return re.sub(r"\b(?:year to date|ytd|so far this year)\b", "this fiscal year", low)


def fiscal_year(fy: int, start_month: int) -> tuple[date, date]:
    """Fiscal year `fy` (named by the calendar year it ends in) with its first month."""
    first = date(fy if start_month == 1 else fy - 1, start_month, 1)
    return first, first + relativedelta(years=1, days=-1)


def year_of(day: date, start_month: int) -> int:
    """The fiscal year a day falls in."""
    a, b = fiscal_year(day.year, start_month)
    return day.year if a <= day <= b else day.year + 1


def relative(low: str, today: date, start: int, future: bool) -> tuple[date, date, str] | None:
    """"this/next/last fiscal quarter", "next fiscal year", "this FY": that period, from or up to today when current."""
    m = re.search(r"\b(this|current|next|last|previous|prior) (?:fiscal (quarter|q|year)|(fy))\b", low)
    if m is None:
        return None
    shift = {"next": 1, "last": -1, "previous": -1, "prior": -1}.get(m.group(1), 0)
    ends = re.search(r"\bend of (?:the )?$", low[:m.start()])  # "by the end of this fiscal quarter"
    if m.group(2) in ("quarter", "q"):
        k = (today.month - start) % 12 // 3  # quarters since the fiscal year began
        a = date(today.year, today.month, 1) - relativedelta(months=(today.month - start) % 12 - 3 * k)
        a += relativedelta(months=3 * shift)
        b, label = a + relativedelta(months=3, days=-1), m.group(0).strip()
    else:
        fy = year_of(today, start) + shift
        a, b = fiscal_year(fy, start)
        label = f"{m.group(0).strip()} (FY{fy})"
    if shift == 0 and a <= today <= b:
        a, b = (today, b) if future else (a, today)  # what is left of it ahead, what has passed of it behind
    return a, b, ("the end of " if ends else "") + label
