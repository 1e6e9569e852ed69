"""Parts of a month in a CSM's words: "first half of nov", "mid-october", "end of last month", "early march".

`part` gives the exact dates; `agents.when.span` wraps them in a `Span`. The parts are fixed day ranges so
that the reading line can say them: halves 1-15 and 16-end; early / start 1-10, mid 11-20, late / end 21-end;
the Nth week days 7(N-1)+1..7N and the last week the month's last seven days.
"""

from __future__ import annotations

import re
from datetime import date

from dateutil.relativedelta import relativedelta

_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_WHICH = r"(?:(?:the\s+)?(last|this|next|previous|past)\s+month|" + _MONTH + r"\.?(?:\s+('?\d{2,4}))?)"
_PART = (r"(?:the\s+)?(?:(first|1st|second|2nd|back|latter|front)\s+half|(first|1st|second|2nd|third|3rd|fourth|4th|"
         r"last|final)\s+week|(early|mid(?:dle)?|late|start|beginning|end))(?:\s*-\s*|\s+)")
_PATTERN = re.compile(r"\b(?:(since|from|after|before|by|until|till|through|thru|ahead of|prior to)\s+)?"
                      + _PART + r"(?:of\s+)?" + _WHICH + r"\b(?!\s*\d)")
_WEEK_NO = {"fi": 1, "1s": 1, "se": 2, "2n": 2, "th": 3, "3r": 3, "fo": 4, "4t": 4}


def _month(m: re.Match[str], today: date, future: bool) -> date:
    rel, name, year = m.group(5), m.group(6), m.group(7)
    first = today.replace(day=1)
    if rel:
        return first + relativedelta(months={"last": -1, "previous": -1, "past": -1, "this": 0, "next": 1}[rel])
    a = date(today.year, _MONTHS.index(name[:3]) + 1, 1)
    if year:
        y = int(year.lstrip("'"))
        return a.replace(year=y + 2000 if y < 100 else y)
    if future and a + relativedelta(months=1) <= today:
        return a + relativedelta(years=1)
    if not future and a > today:
        return a - relativedelta(years=1)
    return a


def _days(m: re.Match[str], a: date) -> tuple[date, date]:
    last = a + relativedelta(months=1, days=-1)
    half, week, word = m.group(2), m.group(3), m.group(4)
    if half:
        return (a, a.replace(day=15)) if half[:2] in ("fi", "1s", "fr") else (a.replace(day=16), last)
    if week:
        if week in ("last", "final"):
            return last - relativedelta(days=6), last
        n = _WEEK_NO[week[:2]]
        return a.replace(day=7 * (n - 1) + 1), a.replace(day=7 * n)
    if word in ("early", "start", "beginning"):
        return a, a.replace(day=10)
    if word.startswith("mid"):
        return a.replace(day=11), a.replace(day=20)
    return a.replace(day=21), last


def part(low: str, today: date, future: bool) -> tuple[date, date, str] | None:
    """The dates of the part of a month `low` names, and the words it used; None if it names none.

    "since"/"from"/"after" a part runs from it to today (past) or on; "before"/"by"/"until" a part is left to the
    whole-month rules, which read those as deadlines.
    """
    m = _PATTERN.search(low)
    if m is None or (m.group(4) == "end" and future and not m.group(5)):
        return None  # "renewals end of march" is a deadline, read by the whole-month rules
    lead = m.group(1)
    if lead and lead not in ("since", "from", "after"):
        return None
    a, b = _days(m, _month(m, today, future and lead is None))
    said = m.group(0).strip()
    if lead == "after":
        return b + relativedelta(days=1), today if not future else b + relativedelta(years=1), said
    if lead:
        return a, today if not future or a <= today else a + relativedelta(years=1), said
    return a, b, said
