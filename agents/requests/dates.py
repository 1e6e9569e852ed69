"""When a request says it should happen: "on Friday", "next week", "early January", "Dec 12 at 3pm".

Read against the configured today (settings.as_of()). A phrase names a range of days (`start`..`end`)
and maybe a time of day; `Moment.day()` picks the day to use (the first working day in the range).
Ranges like "next month" come from `agents.when.span`; this module adds what a request says that a
question does not: weekdays, "tomorrow", "early/mid/late <month>", "end of the week", times of day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from agents import when

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY = r"(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_NO_MEETINGS = {(1, 1), (12, 25), (12, 26)}  # a proposed meeting never lands on these


@dataclass(frozen=True)
class Moment:
    """The days a request names (a range, or one day), a time of day if stated, and the phrase used."""

    start: date
    end: date
    at: time | None
    text: str
    minutes: int | None = None  # a stated length ("for 45 minutes", "an hour")

    def day(self) -> date:
        """The day to use: the first working day in the range (the range's first day if it has none)."""
        d = self.start
        while d <= self.end:
            if d.weekday() < 5 and (d.month, d.day) not in _NO_MEETINGS:
                return d
            d += timedelta(days=1)
        return self.start

    def to_json(self) -> dict[str, str | int | None]:
        """As the route carries it."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "at": self.at.strftime("%H:%M") if self.at else None, "text": self.text, "minutes": self.minutes}

    @staticmethod
    def from_json(d: dict[str, str | int | None]) -> Moment:
        """Back from `to_json`."""
        at = time.fromisoformat(str(d["at"])) if d.get("at") else None
        minutes = d.get("minutes")
        return Moment(date.fromisoformat(str(d["start"])), date.fromisoformat(str(d["end"])), at, str(d["text"]),
                      int(minutes) if minutes else None)


def _weekday(low: str, today: date) -> tuple[date, str] | None:
    m = re.search(r"\b(?:(next|this|on|coming)\s+)?" + _WEEKDAY + r"\b(?!\s*,?\s*\d)"
                  r"(?:,?\s+(?:of\s+)?(next|this|the\s+following)\s+week\b)?", low)
    if not m:
        return None
    target = next(i for i, d in enumerate(WEEKDAYS) if d.startswith(m.group(2)[:3]))
    ahead = (target - today.weekday()) % 7 or 7  # "on Monday" said on a Monday means the next one
    week = m.group(3)  # "Friday next week", "Tuesday of this week"
    if (m.group(1) == "this" or week == "this") and target >= today.weekday():
        ahead = target - today.weekday()
    d = today + timedelta(days=ahead)
    if m.group(1) == "next" or (week and week != "this"):  # "next Friday": the Friday of next week
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        d = monday + timedelta(days=target)
    return d, m.group(0).strip()


def _part_of_month(low: str, today: date) -> tuple[date, date, str] | None:
    m = re.search(r"\b(early|beginning of|start of|mid|middle of|late|end of)[\s-]+" + when.MONTH_PATTERN
                  + r"\b(?:\s+(\d{4}))?", low)
    if not m:
        return None
    first = when.month_start(m.group(2), today, True, int(m.group(3)) if m.group(3) else None)
    last = first + relativedelta(months=1, days=-1)
    part = m.group(1)
    if part in ("early", "beginning of", "start of"):
        a, b = first, first + timedelta(days=9)
    elif part in ("mid", "middle of"):
        a, b = first + timedelta(days=10), first + timedelta(days=19)
    else:
        a, b = first + timedelta(days=20), last
    return max(a, today), max(b, today), m.group(0).strip()


def _end_of(low: str, today: date) -> tuple[date, str] | None:
    m = re.search(r"\b(?:by |before |at )?(?:the )?end of (?:the |this |(next) )?(week|month|quarter|year)\b|"
                  r"\b(eow|eom)\b", low)
    if not m:
        return None
    unit = m.group(2) or {"eow": "week", "eom": "month"}[m.group(3)]
    later = 1 if m.group(1) else 0  # "the end of next month"
    if unit == "week":
        d = today + timedelta(days=4 - today.weekday() + 7 * later) if today.weekday() <= 4 or later else today
    elif unit == "month":
        d = today.replace(day=1) + relativedelta(months=1 + later, days=-1)
    elif unit == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        d = first + relativedelta(months=3 * (1 + later), days=-1)
    else:
        d = date(today.year + later, 12, 31)
    while d.weekday() > 4 and d > today:
        d -= timedelta(days=1)
    return d, m.group(0).strip()


_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}


def _nth_weekday(low: str, today: date) -> tuple[date, str] | None:
    """"the first Monday of January", "the last Friday of next month", "the 2nd Tuesday in March"."""
    m = re.search(r"\b(?:on\s+)?(?:the\s+)?(" + "|".join(_ORDINAL) + r")\s+" + _WEEKDAY + r"\s+(?:of|in)\s+"
                  r"(?:(next|this)\s+month|" + when.MONTH_PATTERN + r"(?:\s+(\d{4}))?)\b", low)
    if not m:
        return None
    target = next(i for i, d in enumerate(WEEKDAYS) if d.startswith(m.group(2)[:3]))
    if m.group(3):
        first = today.replace(day=1) + relativedelta(months=1 if m.group(3) == "next" else 0)
    else:
        first = when.month_start(m.group(4), today, True, int(m.group(5)) if m.group(5) else None)
    d = _nth(first, target, _ORDINAL[m.group(1)])
    if d < today and not m.group(5) and not m.group(3):  # this month's has passed: the same month next year
        d = _nth(first + relativedelta(years=1), target, _ORDINAL[m.group(1)])
    return d, m.group(0).strip()


def _nth(first: date, weekday: int, n: int) -> date:
    """The n-th (or, for -1, the last) `weekday` of the month starting on `first`."""
    if n > 0:
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = first + relativedelta(months=1, days=-1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _day_of_month(low: str, today: date) -> tuple[date, str] | None:
    """"the 15th", "on the 3rd": that day of this month, or of next month once it has passed."""
    m = re.search(r"\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?" + when.MONTH_PATTERN + ")", low)
    if not m or not 1 <= int(m.group(1)) <= 31:
        return None
    first = today.replace(day=1)
    for k in range(3):
        month = first + relativedelta(months=k)
        last = (month + relativedelta(months=1, days=-1)).day
        if int(m.group(1)) <= last and month.replace(day=int(m.group(1))) > today:
            return month.replace(day=int(m.group(1))), m.group(0).strip()
    return None


def _clock(low: str) -> tuple[time, str] | None:
    m = re.search(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", low) or \
        re.search(r"\bat\s+(\d{1,2}):(\d{2})\b()", low) or re.search(r"\b(\d{1,2}):(\d{2})\b()", low)
    if m:
        h, mi = int(m.group(1)), int(m.group(2) or 0)
        ap = (m.group(3) or "").replace(".", "")
        if ap == "pm" and h < 12:
            h += 12
        if ap == "am" and h == 12:
            h = 0
        if h < 24 and mi < 60:
            return time(h, mi), m.group(0).strip()
    m = re.search(r"\b(?:at|@)\s*(\d{1,2})(?:\s*o'?clock)?(?=\s*$|\s*[,;!?)]|\.(?!\d)|\s+(?:on|next|this|"
                  r"tomorrow|today|" + _WEEKDAY + r"|to|about|re|for|with|and|so|if|my|your|their|local|"
                  r"[a-z]{2,4}\s+time)\b)", low)
    if m and 1 <= int(m.group(1)) <= 12:  # "at 2": a working hour, so the afternoon up to 7
        h = int(m.group(1))
        return time(h + 12 if h < 8 else h), m.group(0).strip()
    m = re.search(r"\b(?:at\s+)?(noon|midday|in the morning|morning|in the afternoon|afternoon|end of (?:the )?day|"
                  r"eod|first thing)\b", low)
    if m:
        word = m.group(1)
        t = time(12) if word in ("noon", "midday") else time(9) if "morning" in word or word == "first thing" \
            else time(14) if "afternoon" in word else time(17)
        return t, m.group(0).strip()
    return None


def _length(low: str) -> int | None:
    m = re.search(r"\b(\d{1,3})[\s-]*(?:min(?:ute)?s?|mins?)\b", low)
    if m:
        return int(m.group(1))
    m = re.search(r"\b(an|one|two|1|2)[\s-]*(?:hours?|hr)\b|\bhalf an hour\b", low)
    if m:
        return 30 if "half" in m.group(0) else 60 * when.number(m.group(1))
    return None


def moment(text: str, today: date) -> Moment | None:
    """The day(s), time and length a request states, if it states any."""
    low = text.lower()
    clock = _clock(low)
    at, at_text = (clock[0], clock[1]) if clock else (None, "")
    minutes = _length(low)
    rest = low.replace(at_text, " ") if at_text else low

    def made(a: date, b: date, phrase: str) -> Moment:
        said = f"{phrase} {at_text}".strip()
        found = re.search(re.escape(said), text, re.I)  # as the person wrote it ("early January")
        return Moment(a, b, at, found.group(0) if found else said, minutes)

    m = re.search(r"\b(today|tonight|tomorrow|day after tomorrow)\b", rest)
    if m:
        d = today + timedelta(days={"today": 0, "tonight": 0, "tomorrow": 1}.get(m.group(1), 2))
        return made(d, d, m.group(1))
    m = re.search(r"\bin\s+" + when.NUMBER_PATTERN + r"\s*(day|week|month)s?\b", rest)
    if m:
        n = when.number(m.group(1))
        d = today + (timedelta(days=n) if m.group(2) == "day" else timedelta(weeks=n) if m.group(2) == "week"
                     else relativedelta(months=n))
        return made(d, d, m.group(0))
    found = _part_of_month(rest, today)
    if found:
        return made(*found)
    for read in (_nth_weekday, _day_of_month):
        one = read(rest, today)
        if one:
            return made(one[0], one[0], one[1])
    end = _end_of(rest, today)
    if end:
        return made(end[0], end[0], end[1])
    day = when.calendar_day(rest, today)
    if day is not None:
        return made(day, day, _day_phrase(rest) or day.isoformat())
    wd = _weekday(rest, today)
    if wd:
        return made(wd[0], wd[0], wd[1])
    sp = when.span(rest, today, future=True)
    if sp is not None:
        start = sp.start if sp.start > today else today + timedelta(days=1)
        return made(start, max(sp.end, start), sp.text)
    if at is not None:  # only a time: today if still ahead, else tomorrow
        return made(today, today, at_text)
    return None


def _day_phrase(low: str) -> str | None:
    m = re.search(r"\b(?:on\s+)?(?:" + _WEEKDAY + r",?\s+)?(?:\d{4}-\d{2}-\d{2}|" + when.MONTH_PATTERN
                  + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
                  + when.MONTH_PATTERN + r"(?:\s+\d{4})?|\d{1,2}/\d{1,2}(?:/\d{2,4})?)", low)
    return m.group(0).strip() if m else None


def describe(start: datetime) -> str:
    """How a draft says when: the weekday, the ISO date and the time."""
    return f"{WEEKDAYS[start.weekday()].title()} {start.date().isoformat()} at {start.strftime('%H:%M')}"
