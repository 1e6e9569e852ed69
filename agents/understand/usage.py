"""Usage measures over a stated window: tokens, requests, cost, p95 latency and error rate from daily telemetry.

"who used the most tokens last month?" ranks accounts by their total over that month; "Acme's token usage
this month vs last" is Acme's total in each window; "requests by team in Q3" groups them. Without a
window the last 30 days are used, and the reading line says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from agents.state import AccountRef
from agents.understand.model import Plan
from agents.understand.units import bound, seconds_as_ms
from agents.when import Span, span
from tools.query import Aggregate, Filter, Query, Sort

# (pattern, telemetry field, aggregate, words): a sum over the window, or the average of the daily figures
MEASURES: list[tuple[str, str, str, str]] = [
    (r"\btokens?\b", "tokens", "sum", "tokens"),
    (r"\b(?:api )?(?:requests?|calls|call volume)\b", "api_requests", "sum", "requests"),
    (r"\b(?:cost|costs|spend|spent|spending|bill(?:ed|ing)?|usage charges?)\b", "spend", "sum", "spend"),
    (r"\bp95\b|\blatenc\w*\b", "p95_latency_ms", "avg", "p95 latency (average of daily p95)"),
    (r"\berror[- ]?rates?\b|\berrors\b", "error_rate", "avg", "error rate (average of daily rates)"),
]
_USAGE = re.compile(r"\b(?:used|use|usage|consum\w*|burn\w*|sent|made|ran|spent|spend|spending|cost|costs|tokens?|"
                    r"requests?|latenc\w*|p95|error[- ]?rates?)\b")
_VS = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|against|over the (?:month|quarter|week|year) before|"
                 r"month[- ]over[- ]month|week[- ]over[- ]week|than (?:last|the (?:month|quarter|week|year) before))\b")
VERSUS = _VS
"""A window compared ("vs october?"): after a usage figure, that figure for the window said, beside the last one."""
_RANK = re.compile(r"\b(?:who|which (?:account|customer|client)s?|most|least|highest|lowest|top|bottom|biggest|"
                   r"heaviest|largest|smallest|fewest|slowest|fastest)\b")
_GROUP = re.compile(r"\b(?:by|per|for each|each)\s+(team|csm|owner|segment|industry|model)s?\b")


def measure(low: str) -> tuple[str, str, str] | None:
    """The usage measure a message names (field, aggregate, words), if it asks about usage."""
    if not _USAGE.search(low):
        return None
    return next(((f, fn, words) for pat, f, fn, words in MEASURES if re.search(pat, low)), None)


def _said(fld: str) -> str:
    """The words that name a measure's field in the message."""
    return next(pat for pat, f, _, _ in MEASURES if f == fld)


def _before(sp: Span) -> Span:
    """The window just before: the previous calendar month / quarter / year, else as many days before."""
    text = sp.text.lower()
    for unit, months in (("month", 1), ("quarter", 3), ("year", 12)):
        if unit in text and sp.start.day == 1:
            start = sp.start - relativedelta(months=months)
            return Span(start, sp.start - timedelta(days=1), f"the {unit} before")
    days = (sp.end - sp.start).days + 1
    return Span(sp.start - timedelta(days=days), sp.start - timedelta(days=1), "the period before")


def _window(low: str, today: date) -> Span:
    sp = span(low, today, future=False)
    if sp is None:
        return Span(today - timedelta(days=29), today, "the last 30 days")
    return Span(sp.start, min(sp.end, today), sp.text)


def bound_of(low: str, q: Query | None) -> Filter | None:
    """A follow-up's bound on a usage list's figure ("only the ones over $300" after spend per account)."""
    agg = next((a for a in q.aggregates if a.field), None) if q is not None and q.entity == "telemetry" and \
        q.group_by else None
    if agg is None or agg.field is None:
        return None
    return bound(seconds_as_ms(low, agg.field.endswith("_ms")), agg.field, "", near=False)


def _plan(fld: str, fn: str, words: str, sp: Span, accounts: list[AccountRef], group: str | None,
          rank: tuple[bool, int | None] | None, having: Filter | None = None) -> Plan:
    q = Query(entity="telemetry", account_ids=[a["account_id"] for a in accounts],
              filters=[Filter(field="day", op="between", value=[sp.start.isoformat(), sp.end.isoformat()])],
              fields=["day", fld, "account"], aggregates=[Aggregate(fn=fn, field=fld)],  # type: ignore[arg-type]
              group_by=group, sort=[Sort(field=fld, desc=rank[0])] if rank else [],
              limit=rank[1] if rank else None, having=having if group else None)
    return Plan("aggregate", f"days of usage, {sp.describe()}", q, what="days of usage",
                period=None, accounts=accounts)


def usage(low: str, today: date, accounts: list[AccountRef]) -> list[Plan]:
    """Plans for a usage measure over a window (two windows when compared); [] when the message is not one."""
    m = measure(low)
    if m is None:
        return []
    fld, fn, words = m
    stated = span(low, today, future=False) is not None
    vs = _VS.search(low) if len(accounts) < 2 else None  # "Acme vs Globex": accounts compared, not windows
    rank = _RANK.search(low) and not accounts
    group = _GROUP.search(low)
    over = bound(low[:vs.start()] if vs else low, fld, _said(fld)) if len(accounts) != 1 else None
    if not (stated or vs or rank or group or over or re.search(r"\b(?:total|how many|how much|sum)\b", low)):
        return []  # "what's Acme's p95?": the usage card answers, with its own window
    sp = _window(low[:vs.start()] if vs else low, today)
    by = "account" if rank or accounts else None  # one line per account, never a list of days
    if group:
        by = {"csm": "owner", "model": "model_name"}.get(group.group(1), group.group(1))
    hi = not re.search(r"\b(?:least|lowest|bottom|smallest|fewest|fastest)\b", low)
    one = bool(re.search(r"\bwho\b|\bwhich (?:account|customer|client)\b(?!s)|\bthe (?:most|least|highest|lowest)\b",
                         low)) and not re.search(r"\btop \d|\btop (?:three|five|ten)\b", low)
    n = re.search(r"\b(?:top|bottom)\s+(\d+|three|five|ten)\b|\b(?:which|what|the|my|our)\s+(\d{1,2}|three|four|five|"
                  r"six|ten)\s+(?:\w+\s+)?(?:accounts|customers|clients)\b|"  # "which 4 accounts used the most"
                  r"(?:^|\b(?:the|my|our)\s+)(\d{1,2}|three|four|five|six|ten)\s+(?:slowest|fastest|biggest|largest|"
                  r"heaviest|highest|lowest)\b", low.strip())  # "4 slowest accounts"
    k = (n.group(1) or n.group(2) or n.group(3)) if n else ""
    size = {"three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}.get(k, 0) if n and not k.isdigit() else \
        int(k) if n else (1 if one else 10)
    if over is not None:  # "accounts averaging p95 over 1.5s": each account's figure over the window, bounded; all
        by = by or "account"  # that pass, the highest first (the lowest first for a bound from above)
        if not re.search(r"\b(?:most|least|highest|lowest|top|bottom|biggest|heaviest|largest|smallest|fewest)\b",
                         low):  # "which accounts ... over 1.5s": every one that passes, not a top ten
            hi, size = over.op in ("gt", "ge"), 0
    plans = [_plan(fld, fn, words, sp, accounts, by, (hi, size or None) if rank or over else None, over)]
    if vs:
        later = low[vs.end():]
        other = span(later, today, future=False) if re.search(r"\d|month|quarter|week|year|q[1-4]|h[12]", later) \
            and not re.fullmatch(r"\s*last\W*", later) else None
        plans.append(_plan(fld, fn, words, other or _before(sp), accounts, by,
                           (hi, size or None) if rank or over else None, over))
    return plans
