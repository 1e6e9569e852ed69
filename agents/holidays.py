"""Calendar facts the window reader needs: the US holidays CSMs plan around (split from when.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta


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
