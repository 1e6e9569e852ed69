"""Calendar facts the window reader needs (split from when.py).

The US holidays CSMs plan around, the day of a month a bare "on the 20th" names, and the day a follow-up
names ("the nov 9 meeting").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]


def _nth_weekday(year: int, month: int, weekday_: int, n: int) -> date:
    """The n-th (or, n = -1, the last) given weekday of a month."""
    if n < 0:
        last = date(year, month, 1) + relativedelta(months=1, days=-1)
        return last - relativedelta(days=(last.weekday() - weekday_) % 7)
    first = date(year, month, 1)
    return first + relativedelta(days=(weekday_ - first.weekday()) % 7, weeks=n - 1)


_HOLIDAYS: dict[str, Callable[[int], date]] = {  # the US holidays CSMs plan around, by year
    r"thanksgiving": lambda y: _nth_weekday(y, 11, 3, 4),
    r"labou?r day": lambda y: _nth_weekday(y, 9, 0, 1),
    r"memorial day": lambda y: _nth_weekday(y, 5, 0, -1),
    r"easter": easter,
    r"halloween": lambda y: date(y, 10, 31),
    r"independence day|(?:the )?fourth of july|july 4(?:th)?": lambda y: date(y, 7, 4),
    r"valentine'?s(?: day)?": lambda y: date(y, 2, 14),
}


def holidays(low: str, today: date, future: bool = True) -> str:
    """The text with holidays written as dates ("before thanksgiving" is "before nov 26 2026")."""
    for pat, day in _HOLIDAYS.items():
        m = re.search(rf"\b(?:{pat})\b(?:\s+(\d{{4}}))?", low)
        if m:
            d = day(int(m.group(1))) if m.group(1) else day(today.year)
            if not m.group(1) and future and d < today:
                d = day(today.year + 1)
            elif not m.group(1) and not future and d > today:
                d = day(today.year - 1)
            low = low[:m.start()] + f"{d:%b} {d.day} {d.year}".lower() + low[m.end():]
    return _seasons(low, today, future)


_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}  # their first month (northern)


def _seasons(low: str, today: date, future: bool) -> str:
    """A season as its months ("in the spring" is "mar 2026 to may 2026"), the nearest one the tense points at."""
    m = re.search(r"\b(?:(?:in|during|over|for|through|since)\s+(?:the\s+|this\s+|last\s+|next\s+|past\s+)?|"
                  r"(?:this|last|next|past)\s+|(?=\w+\s+(?:of\s+)?\d{4}))(spring|summer|fall|autumn|winter)"
                  r"(?:\s+(?:of\s+)?(\d{4}))?\b(?! (?:release|launch|campaign|promo|sale|event|meeting|review))", low)
    if m is None:
        return low
    first = _SEASONS[m.group(1)]
    start = date(int(m.group(2)) - (first == 12), first, 1) if m.group(2) else date(today.year, first, 1)
    said = m.group(0)
    if not m.group(2):
        if first == 12 and today.month <= 2:  # the winter we are in began last December
            start = date(today.year - 1, 12, 1)
        back = re.search(r"\b(?:last|past|since)\b", said) is not None  # the latest one that is over (or begun)
        if back and start + relativedelta(months=0 if "since" in said else 3) > today or not future and start > today:
            start -= relativedelta(years=1)
        if re.search(r"\bnext\b", said) and start <= today or future and not back and \
                start + relativedelta(months=3) <= today:
            start += relativedelta(years=1)
    end = start + relativedelta(months=2)
    words = f" {start:%b} {start.year} to {end:%b} {end.year}".lower() if "since" not in said else \
        f" since {start:%b} 1 {start.year}".lower()
    return low[:m.start()] + words + low[m.end():]


def month_day(n: int, today: date, future: bool) -> date | None:
    """Day `n` of this month if on the side `future` asks for, else of the nearest month on that side that has it."""
    for first in (today.replace(day=1) + relativedelta(months=(1 if future else -1) * k) for k in range(3)):
        day = first.replace(day=min(n, 28)) + relativedelta(days=n - min(n, 28))
        if day.month == first.month and ((day >= today) if future else (day <= today)):
            return day
    return None


def date_named(low: str, today: date) -> date | None:
    """A single day a follow-up names ("the nov 9 meeting", "on 2026-11-09"), in the year that puts it nearest."""
    m = re.search(r"\b(\d{4}-\d\d-\d\d)\b", low)
    if m:
        try:
            return date.fromisoformat(m.group(1))
        except ValueError:
            return None
    months = "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in _MONTHS)
    m = re.search(r"\b(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" +
                  months + r")\b", low)
    if not m:
        return None
    name, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    mon = next(i + 1 for i, full in enumerate(_MONTHS) if full.startswith(name[:3]))
    try:
        options = [date(today.year + k, mon, int(day)) for k in (-1, 0, 1)]
    except ValueError:
        return None
    return min(options, key=lambda d: abs((d - today).days))
