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
    return low
