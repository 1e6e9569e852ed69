"""Dates and spans in a CSM's words ("before the end of January", "in the next two weeks", "last quarter").

Calendar arithmetic is dateutil's (`relativedelta`, `parser`); this module only says which phrase means which
span. `future=True` reads an open phrase forward from today (renewals), else backward (metrics over a past period).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime

from dateutil import parser as dparser
from dateutil.relativedelta import relativedelta

from agents import fiscal
from agents.fiscal import fiscal_year
from agents.holidays import holidays, month_day
from agents.month_parts import part

# The fiscal year's first month (settings `fiscal_year_start_month`) for one reading; `understand.plan` sets it.
FISCAL_START: ContextVar[int] = ContextVar("fiscal_start", default=1)

NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                "thirty": 30, "sixty": 60, "ninety": 90, "couple": 2, "few": 3}
_NUM = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
_UNIT = r"(day|week|month|quarter|year)s?"
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_RECORDS = r"(?:renewals?|renewing|contracts|tickets?|escalations|surveys?|nps|csat|responses|milestones?|meetings?|" \
           r"calls|notes|activities|fine[- ]?tunes?|onboardings)\b"  # "my march renewals"; "the march one" picks a row


OPEN_START = date(1970, 1, 1)
"""The start of a window open to the past ("contracts started before 2024")."""


@dataclass(frozen=True)
class Span:
    """A closed date range and how the message put it."""

    start: date
    end: date
    text: str

    def describe(self) -> str:
        """The span in words and dates."""
        said = self.text.rstrip("?!.,; ")  # "since september?" is said "since september"
        return f"{said} (up to {self.end.isoformat()})" if self.start <= OPEN_START else \
            f"{said} ({self.start.isoformat()} to {self.end.isoformat()})"


def number(tok: str) -> int:
    """A count written as digits or a word."""
    return int(tok) if tok.isdigit() else NUMBER_WORDS[tok]


def _step(unit: str, n: int) -> relativedelta:
    unit = unit.rstrip("s")
    return relativedelta(**{"days": n} if unit == "day" else {"weeks": n} if unit == "week" else
                         {"months": 3 * n} if unit == "quarter" else {"months": n} if unit == "month" else
                         {"years": n})


def _quarter(d: date, shift: int = 0) -> tuple[date, date]:
    first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1) + relativedelta(months=3 * shift)
    return first, first + relativedelta(months=3, days=-1)


def _month_start(name: str, today: date, future: bool, year: int | None) -> date:
    m = next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(name[:3]))
    if year is not None:
        return date(year, m, 1)
    this = date(today.year, m, 1)
    if future and this + relativedelta(months=1) <= today:
        return this + relativedelta(years=1)
    if not future and this > today:
        return this - relativedelta(years=1)
    return this


def _explicit(text: str, today: date, future: bool) -> date | None:
    """A calendar date written out ("March 3", "2027-01-31", "3/14"), via dateutil."""
    m = re.search(r"\b\d{4}-\d{2}-\d{2}\b|\b" + _MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b|"
                  r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:\s+\d{4})?\b|"
                  r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
                  text)
    if not m:
        return None
    try:
        d = dparser.parse(re.sub(r"(?<=\d)(st|nd|rd|th)\b|\bof\b", "", m.group(0)),
                          default=datetime(today.year, today.month, 1)).date()
    except (ValueError, OverflowError):
        return None
    if future and d < today and not re.search(r"\d{4}", m.group(0)):
        d += relativedelta(years=1)
    return d


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD = r"(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"


def weekday(text: str, today: date) -> date | None:
    """"next Friday", "this Friday", "on Friday", "Friday": the date it names (never today itself)."""
    m = re.search(r"\b(next|this|on|by|coming)?\s*" + _WD + r"\b", text.lower())
    if not m:
        return None
    want = next(i for i, d in enumerate(_WEEKDAYS) if d.startswith(m.group(2)[:3]))
    ahead = (want - today.weekday()) % 7 or 7
    d = today + relativedelta(days=ahead)
    if m.group(1) == "next" and ahead <= 2:  # said on a Thursday, "next Friday" is not tomorrow
        d += relativedelta(weeks=1)
    return d


def _month_no(name: str) -> int:
    return next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(name[:3]))


def _year(tok: str | None, today: date, ahead: bool = False) -> int:
    if not tok:
        return today.year
    tok = tok.strip().lstrip("'")
    if tok in ("next", "this", "last"):
        return today.year + {"next": 1, "this": 0, "last": -1}[tok]
    y = int(tok)
    return y + 2000 if y < 100 else y


def _extra(low: str, today: date, future: bool, fiscal_start: int) -> Span | None:
    """Windows the plain forms below miss: halves, fiscal years and quarters, month ranges, weekdays."""
    m = re.search(r"\b(?:by|before|until|till|through|thru)\s+(?:the\s+)?end\s+of\s+(?:the\s+)?((?:next|this|last)\s+)?"
                  r"((?:fiscal )?q[1-4](?:\s*'?\d{2,4})?|(?:fiscal )?quarter|(?:fiscal )?year|h[12](?:\s*'?\d{2,4})?|"
                  r"half)\b", low)
    if m and future:  # "before the end of Q1": from today to the end of that period
        whole = span(((m.group(1) or "this ") if not re.match(r"(?:fiscal )?[qh]\d", m.group(2)) else "") + m.group(2),
                     today, True, fiscal_start)
        if whole is not None and whole.end >= today:
            return Span(today, whole.end, m.group(0).strip())
    m = re.search(r"\b(?:fy|fiscal(?: year)?)\s*'?(\d{2,4})?\s*(?:q([1-4]))?\b|"
                  r"\bq([1-4])\s*(?:of\s*)?(?:fy|fiscal(?: year)?)\s*'?(\d{2,4})\b|"
                  r"\bfiscal (?:q|quarter\s*)([1-4])\b(?:\s*(?:of\s*)?(?:fy|fiscal(?: year)?)?\s*'?(\d{2,4})\b)?", low)
    if m:
        after = re.match(r"\s*(?:of\s*)?(?:fy\s*|fiscal(?: year)?\s*)?'?(20\d\d|\d\d)\b", low[m.end():])
        fy_tok = m.group(1) or m.group(4) or m.group(6) or (after.group(1) if after else None)
        q = m.group(2) or m.group(3) or m.group(5)
        cur_a, cur_b = fiscal_year(today.year, fiscal_start)
        this_fy = today.year if cur_a <= today <= cur_b else today.year + 1
        fy = _year(fy_tok, today) if fy_tok else this_fy
        a, b = fiscal_year(fy, fiscal_start)
        label = f"fiscal {fy}" + (f" Q{q}" if q else "")
        if q:
            a = a + relativedelta(months=3 * (int(q) - 1))
            b = a + relativedelta(months=3, days=-1)
            if not fy_tok and future and b < today:  # "fiscal Q1" said after it ended: next fiscal year's
                a, b, label = a + relativedelta(years=1), b + relativedelta(years=1), f"fiscal {fy + 1} Q{q}"
        return Span(a, b, label)
    low = re.sub(r"\b(?:back|latter|last|later) half\b", "second half", low)
    low = re.sub(r"\b(?:front|early|earlier) half\b", "first half", low)
    m = re.search(r"\b(?:h([12])|(first|second|1st|2nd) half)\s*(?:of\s*)?(?:(next|this|last) year|'?(\d{2,4}))?\b",
                  low)
    if m:
        half = 1 if (m.group(1) == "1" or (m.group(2) or "").startswith(("first", "1st"))) else 2
        year = _year(m.group(3) or m.group(4), today)
        a = date(year, 1 if half == 1 else 7, 1)
        if not (m.group(3) or m.group(4)) and future and a + relativedelta(months=6) <= today:
            a += relativedelta(years=1)
        return Span(a, a + relativedelta(months=6, days=-1), m.group(0).strip())
    d = r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?"
    m = re.search(r"\b(?:from|between)?\s*" + _MONTH + "(" + d + r")(?:,?\s*(\d{4}))?\s*"
                  r"(?:to|through|thru|until|till|-|–|and)\s*" + _MONTH + "(" + d + r")(?:,?\s*(\d{4}))?\b", low)
    if m:
        y2 = int(m.group(6)) if m.group(6) else None
        rel = re.match(r"\s*(?:of\s+)?(next|this|last) year\b", low[m.end():])
        if rel and y2 is None and not m.group(3):  # "Mar to May next year"
            y2 = _year(rel.group(1), today)
        y1 = int(m.group(3)) if m.group(3) else \
            y2 - 1 if y2 is not None and _month_no(m.group(1)) > _month_no(m.group(4)) else y2
        a = _month_start(m.group(1), today, future, y1)
        if m.group(2).strip():
            a = a.replace(day=int(re.sub(r"\D", "", m.group(2))))
        b0 = date(y2 if y2 else a.year, _month_no(m.group(4)), 1)
        if b0 < a.replace(day=1):
            b0 += relativedelta(years=1)
        b = b0.replace(day=int(re.sub(r"\D", "", m.group(5)))) if m.group(5).strip() else \
            b0 + relativedelta(months=1, days=-1)
        return Span(a, b, m.group(0).strip())
    m = re.search(r"\b" + _MONTH + r"\s+(?:of\s+)?(next|this|last) year\b", low)
    if m:  # "in September next year"
        a = date(_year(m.group(2), today), _month_no(m.group(1)), 1)
        return Span(a, a + relativedelta(months=1, days=-1), m.group(0).strip())
    m = re.search(r"\b(?:by |before |until |till )?(?:the )?end of next month\b", low)
    if m:
        end = today.replace(day=1) + relativedelta(months=2, days=-1)
        return Span(today, end, m.group(0).strip())
    m = re.search(r"\b(before|by|until|till|through|ahead of)\s+(?:next|this|the coming)?\s*" + _WD + r"\b", low)
    if m:
        day = weekday(m.group(0)[len(m.group(1)):], today)
        if day is not None:
            return Span(today, day - relativedelta(days=1) if m.group(1) == "before" else day, m.group(0).strip())
    return None


def span(text: str, today: date, future: bool = True, fiscal_start: int | None = None) -> Span | None:
    """The span a message names, if any; open phrases run from today (future) or up to today (past).

    A fiscal-year start stated in the message ("our fiscal year starts in February") outranks the setting
    (`fiscal_start`, else the one `fiscal_year` set for this reading).
    """
    if fiscal_start is None:
        fiscal_start = FISCAL_START.get()
    low = holidays(text.lower(), today, future)
    # "before July next year" is "before July <year>", read by the open-ended rules below.
    low = re.sub(r"\b(before|by|until|till|through|after|prior to)\s+" + _MONTH + r"\s+(next|this) year\b",
                 lambda m: f"{m.group(1)} {m.group(2)} {today.year + (m.group(3) == 'next')}", low)
    m = re.search(r"\b(?:(after|later than|beyond)|from|starting(?: from)?)\s+(today|now|tomorrow)\b", low)
    if m:  # "due after today", "from today on": open-ended ahead, from then
        a = today + relativedelta(days=(m.group(2) == "tomorrow") + bool(m.group(1) and m.group(2) != "now"))
        return Span(a, a + relativedelta(years=2, days=-1), m.group(0).strip())
    past_day = re.search(r"\b(?:on|last|this past)\s+" + _WD + r"\b", low)
    if past_day and not future and not re.search(r"\b(?:next|coming|this)\s+" + _WD, low):  # "filed on Friday"
        back = (today.weekday() - [d[:3] for d in _WEEKDAYS].index(past_day.group(1)[:3])) % 7 or 7
        day = today - relativedelta(days=back)
        return Span(day, day, past_day.group(0).strip())
    nth = re.search(r"\bon the (\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?" + _MONTH + r")", low)
    if nth:  # "filed on the 20th": that day of this month, else the nearest one on the side the verb looks to
        day = month_day(int(nth.group(1)), today, future)
        if day is not None:
            return Span(day, day, nth.group(0).strip())
    parted = part(low, today, future)
    if parted is not None:  # "first half of nov", "mid-october", "end of last month"
        return Span(*parted)
    stated = fiscal.stated_start(low) or fiscal.STATED.get()
    if stated is not None:  # said in the conversation: it outranks the setting, and bare quarters are fiscal
        fiscal_start = stated
        low = fiscal.as_fiscal(fiscal.strip_stated(low))
    rel = fiscal.relative(low, today, fiscal_start, future)
    if rel is not None:
        return Span(*rel)
    m = re.search(r"\b(?:since|from) (?:the )?(?:start|beginning) of (?:the |this )?(week|month|quarter|year)\b", low)
    if m:  # "since the start of the month": that period so far
        whole = span(f"this {m.group(1)}", today, False, fiscal_start)
        if whole is not None:
            return Span(whole.start, today, m.group(0).strip())
    m = re.search(r"\b(?:the )?week (?:of|starting|beginning) (.{3,20})", low)
    day = _explicit(m.group(1), today, future) if m else None
    if m and day is not None:  # "the week of Dec 14": its Monday to Sunday
        a = day - relativedelta(days=day.weekday())
        return Span(a, a + relativedelta(days=6), m.group(0).strip())
    found = _extra(low, today, future, fiscal_start)
    if found is not None:
        return found
    m = re.search(r"\b(?:in the|within the|within|in|over the|during the|for the|the)?\s*(next|coming|last|past|"
                  r"previous)\s+" + _NUM + r"?\s*" + _UNIT, low)
    if m and (m.group(2) or m.group(1) in ("past", "coming")):
        n = number(m.group(2)) if m.group(2) else 1
        step = _step(m.group(3), n)
        if m.group(1) in ("next", "coming"):
            return Span(today, today + step, m.group(0).strip())
        return Span(today - step, today, m.group(0).strip())
    m = re.search(r"\b(?:in|within)\s+" + _NUM + r"\s*" + _UNIT, low)
    if m:
        return Span(today, today + _step(m.group(2), number(m.group(1))), m.group(0).strip())
    if re.search(r"\b(this|current) (quarter|qtr)\b|\bend of (the )?(quarter|q)\b|\bqtd\b", low):
        a, b = _quarter(today)
        return Span(today if future else a, b if future else today, "this quarter")
    if re.search(r"\bnext (quarter|qtr)\b", low):
        a, b = _quarter(today, 1)
        return Span(a, b, "next quarter")
    if re.search(r"\b(last|previous|prior) (quarter|qtr)\b", low):
        a, b = _quarter(today, -1)
        return Span(a, b, "last quarter")
    low = re.sub(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+quarter\b",
                 lambda q: "q" + str({"fi": 1, "1s": 1, "se": 2, "2n": 2, "th": 3, "3r": 3, "fo": 4, "4t": 4,
                                      "la": 4}[q.group(1)[:2]]), low)
    m = re.search(r"\bq([1-4])(?:\s*(?:of\s*)?'?(\d{2,4}))?\b", low)
    if m:
        year = int(m.group(2)) if m.group(2) else today.year
        year = year + 2000 if year < 100 else year
        a = date(year, 3 * int(m.group(1)) - 2, 1)
        if not m.group(2) and future and a + relativedelta(months=3) <= today:
            a += relativedelta(years=1)
        return Span(a, a + relativedelta(months=3, days=-1), m.group(0))
    if re.search(r"\bthis month\b|\bend of (the )?month\b|\bmtd\b", low):
        a = today.replace(day=1)
        return Span(today if future else a, a + relativedelta(months=1, days=-1) if future else today,
                    "this month")
    if re.search(r"\bnext month\b", low):
        a = today.replace(day=1) + relativedelta(months=1)
        return Span(a, a + relativedelta(months=1, days=-1), "next month")
    if re.search(r"\blast month\b", low):
        a = today.replace(day=1) - relativedelta(months=1)
        return Span(a, a + relativedelta(months=1, days=-1), "last month")
    if re.search(r"\b(?:the )?week after next\b", low):
        a = today - relativedelta(days=today.weekday()) + relativedelta(weeks=2)
        return Span(a, a + relativedelta(days=6), "the week after next")
    if re.search(r"\b(last|previous|past) week\b", low):
        a = today - relativedelta(days=today.weekday()) - relativedelta(weeks=1)
        return Span(a, a + relativedelta(days=6), "last week")
    m = re.search(r"\b(?:after|from|beyond|later than)\s+(?:the end of\s+)?" + _MONTH + r"\b(?:\s+(\d{4}))?(?! \d)",
                  low)
    if m and not re.search(r"\bfrom\b.{0,20}\b(to|until|through|-)\b", low):  # "after March 2027": open-ended
        a = _month_start(m.group(1), today, True, int(m.group(2)) if m.group(2) else None)
        if not future and not m.group(2) and a > today:
            a -= relativedelta(years=1)
        start = a + relativedelta(months=1) if not m.group(0).startswith("from") else a
        return Span(start, start + relativedelta(years=2, days=-1) if future else today, m.group(0).strip())
    if re.search(r"\bthis week\b", low):
        a = today - relativedelta(days=today.weekday())
        return Span(today if future else a, a + relativedelta(days=6) if future else today, "this week")
    if re.search(r"\bnext week\b", low):
        a = today - relativedelta(days=today.weekday()) + relativedelta(weeks=1)
        return Span(a, a + relativedelta(days=6), "next week")
    if re.search(r"\b(this year|year to date|ytd|so far this year)\b", low):
        a = date(today.year, 1, 1)
        return Span(today if future else a, date(today.year, 12, 31) if future else today, "this year")
    if re.search(r"\bnext year\b", low):
        return Span(date(today.year + 1, 1, 1), date(today.year + 1, 12, 31), "next year")
    if re.search(r"\blast year\b", low):
        return Span(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "last year")
    m = re.search(r"\b(?:before|by|until|till|through|thru|up to|ahead of|prior to)\s+(?:the\s+)?end\s+of\s+"
                  r"(?:the\s+)?" + _MONTH +
                  r"(?:\s+(\d{4}))?", low) or re.search(r"\b(?:before|by|until|till|through)\s+" + _MONTH +
                                                       r"\b(?!\s*\d{1,2}\b)(?:\s+(\d{4}))?", low)
    if m:
        a = _month_start(m.group(1), today, future, int(m.group(2)) if m.group(2) else None)
        end = a + relativedelta(months=1, days=-1) if "end" in m.group(0) else a - relativedelta(days=1)
        return Span(today if end >= today else OPEN_START, end, m.group(0).strip())  # past: open to the past
    m = re.search(r"\b(?:by|before|until|till)?\s*(?:the )?end of (?:the |this )?year\b", low)
    if m:
        return Span(today if future else date(today.year, 1, 1), date(today.year, 12, 31), m.group(0).strip())
    m = re.search(r"\b(?:before|by|until|till|prior to)\b(.{3,30})", low)
    if m:
        d = _explicit(m.group(1), today, future)
        if d is not None:
            end = d if "before" not in m.group(0) and "prior" not in m.group(0) else d - relativedelta(days=1)
            return Span(today if end >= today else OPEN_START, end, m.group(0).strip())
    m = re.search(r"\b(?:on or after|on or since)\s+(.{3,30})|\b(?:on |from )?(\S+(?: \d{1,2}(?:st|nd|rd|th)?)?)\s+"
                  r"(?:or later|or after|onwards?|and later|and after)\b", low)
    if m:
        d = _explicit(m.group(1) or m.group(2), today, future)
        if d is not None and (future or d <= today):
            return Span(d, d + relativedelta(years=1) if future and d > today else today, m.group(0).strip())
    m = re.search(r"\b(?:after|later than|starting|from)\b(.{3,30})", low)
    if m and not re.search(r"\b(to|until|till|through|and)\b", m.group(1)):
        d = _explicit(m.group(1), today, future)
        if d is not None:
            a = d + relativedelta(days=1) if not m.group(0).startswith(("starting", "from")) else d
            if future or a <= today:
                return Span(a, a + relativedelta(years=1) if future and a > today else today, m.group(0).strip())
    m = re.search(r"\bsince\b(.{3,30})", low)
    if m:
        d = _explicit(m.group(1), today, False)
        mm = re.search(_MONTH, m.group(1))
        if d is None and mm:
            d = _month_start(mm.group(1), today, False, None)
        if d is not None:
            return Span(d, today, m.group(0).strip())
    m = re.search(r"\b(before|prior to|until|till|by|after|since|from)\s+(?:the (?:start|end) of\s+)?(\d{4})\b(?!\s*-)",
                  low)
    if m and 2000 < int(m.group(2)) < 2100:  # "before 2024", "since 2023", "after 2027": open-ended years
        y, word = int(m.group(2)), m.group(1)
        if word in ("before", "prior to") or (word in ("until", "till", "by") and "start" in m.group(0)):
            return Span(OPEN_START if not future or date(y, 1, 1) <= today else today, date(y - 1, 12, 31),
                        m.group(0).strip())
        if word in ("until", "till", "by"):
            return Span(today if future else OPEN_START, date(y, 12, 31), m.group(0).strip())
        a = date(y + 1, 1, 1) if word == "after" and "start" not in m.group(0) else date(y, 1, 1)
        return Span(a, today if not future or a <= today else a + relativedelta(years=2, days=-1), m.group(0).strip())
    m = re.search(r"\b(?:in|during|for)\s+(\d{4})\b", low)
    if m and 2000 < int(m.group(1)) < 2100:
        y = int(m.group(1))
        return Span(date(y, 1, 1), date(y, 12, 31), m.group(0))
    m = re.search(r"\b(?:in|during|for|of)\s+" + _MONTH + r"\b(?:\s+(\d{4}))?", low)
    if m:
        a = _month_start(m.group(1), today, future, int(m.group(2)) if m.group(2) else None)
        return Span(a, a + relativedelta(months=1, days=-1), m.group(0).strip())
    m = re.search(r"\b" + _MONTH + r"(?:\s+(\d{4}))?\s+" + _RECORDS, low)  # "my march renewals", "dec tickets"
    if m:
        a = _month_start(m.group(1), today, future, int(m.group(2)) if m.group(2) else None)
        return Span(a, a + relativedelta(months=1, days=-1), f"in {MONTHS[a.month - 1]}")
    m = re.search(r"\b(?:between|from)\s+(.{3,20}?)\s+(?:and|to|until)\s+(.{3,20})", low)
    if m:
        lo, hi = _explicit(m.group(1), today, future), _explicit(m.group(2), today, future)
        if lo and hi:
            return Span(lo, hi, m.group(0).strip())
    if re.search(r"\byesterday\b", low):
        day = today - relativedelta(days=1)
        return Span(day, today if re.search(r"\bsince yesterday\b", low) else day, "yesterday")
    if re.search(r"\btoday\b", low):
        return Span(today, today, "today")
    return None


MONTH_PATTERN = _MONTH  # a month name or abbreviation, as one regex group
NUMBER_PATTERN = _NUM  # a count in digits or words, as one regex group (read it with `number`)


def calendar_day(text: str, today: date, future: bool = True) -> date | None:
    """The calendar date written in `text` ("Dec 12", "2027-01-31", "3/14"), read forward from today if `future`."""
    return _explicit(text, today, future)


def month_start(name: str, today: date, future: bool = True, year: int | None = None) -> date:
    """The first day of the named month: the next one (or this one) if `future`, else the last one."""
    return _month_start(name, today, future, year)
