"""Totals and measures over the last answer's rows: counted with an added filter, per account; usage totals.

"how many of those were high priority, and on which accounts?" after tickets counts those tickets that are
high priority and names their accounts; it is never a switch to counting the accounts. "combined spend for
those 3" after a list of accounts is those accounts' usage spend over a window the reading states.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.understand.edit_apply import current_period
from agents.understand.edit_ops import TEXT_FIELDS, Edit, GroupBy, Remeasure, Summarise, Unmatched, UsageOf
from agents.understand.edit_words import _entity_of, _filters, _summarise, _summary_word, _without_fields, period_of
from agents.understand.model import Plan
from agents.understand.usage import measure
from agents.understand.vocabulary import Vocabulary
from agents.when import NUMBER_WORDS, Span, number
from tools.query import ENTITIES, Aggregate

# "..., and on which accounts?", "which customers are they on?": name the rows' accounts, not a switch to accounts
_WHICH_ACCOUNTS = re.compile(r"(?:,?\s*(?:and|&)\s+)?(?:(?:on|at|for|from|in|with|across)\s+)?(?:which|what) "
                             r"(?:accounts|customers|clients)\b"
                             r"(?:\s+(?:are|were) (?:they|those|these)(?: on| at| for)?|"
                             r"\s+(?:they'?re|they were|they are)(?: on| at| for| from)?)?|"
                             r"(?:,?\s*(?:and|&)\s+)?(?:whose|who(?:se)? (?:are|were) (?:they|those))\b")


def counted_by_account(low: str, entity: str, today: date, vocab: Vocabulary, asker: str) -> list[Edit]:
    """A total over the last rows with an added filter, per account: the rows' own records, never their accounts."""
    if entity == "accounts" or entity not in ENTITIES or not _summary_word(low):
        return []
    m = _WHICH_ACCOUNTS.search(low)
    if not m:
        return []
    rest = low[:m.start()] + " " + low[m.end():]
    if _entity_of(_without_fields(rest, entity)) not in (None, entity):
        return []  # "how many contacts, and at which accounts?" after tickets: another kind of record
    filters, _ = _filters(rest, entity, today, vocab, asker)
    summ = _summarise(rest, entity, filters) or Summarise([Aggregate(fn="count")], filters)
    return [summ, GroupBy("account")]


_SUMMED = ("tokens", "api_requests", "spend")
_ANOTHER = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|now|then|but)\W+)*(?:same(?: thing| again)?(?: for| but| with)?|"
                      r"what about|how about|and|rank(?:ed)?(?: them| it)? by|sort(?:ed)?(?: them| it)? by|"
                      r"order(?:ed)?(?: them| it)? by|by)\b|\binstead\b")


_TOTAL_OF_ROWS = re.compile(r"\b(?:altogether|combined|in total|total|sum|all told|in all)\b|"
                            r"^(?!.*\b(?:rank|sort|order)).*\b(?:those|these)\b")


def remeasure(low: str, prev: Plan) -> Remeasure | None:
    """"same for error rate", "rank by spend instead" after a usage figure: that figure of another measure.

    The accounts, window, grouping and ranking of the last usage answer are kept; only the measure changes.
    """
    q = prev.query
    agg = next((a for a in q.aggregates if a.field), None) if q is not None and q.entity == "telemetry" else None
    m = measure(low)
    if agg is None or m is None or m[0] == agg.field or not _ANOTHER.search(low) or len(low.split()) > 8:
        return None
    if _TOTAL_OF_ROWS.search(low):  # "and what did those four spend altogether?": a total over the rows (usage_of)
        return None
    return Remeasure(*m)


def usage_of(low: str, prev: Plan, today: date, rows: int, fiscal_start: int = 1) -> UsageOf | Unmatched | None:
    """"combined spend for those 3", "total cost of those", "how many tokens did they use last month?".

    A usage total of the last answer's accounts over the window said, else the last answer's own usage window,
    else the last 30 days; the reading says which, and that spend is usage spend, not ARR.
    """
    m = measure(low)
    if m is None or m[0] not in _SUMMED or re.search(r"\barr\b|\brevenue\b|contract value|pay(?:s|ing)? us\b", low):
        return None
    n = re.search(r"\b(?:those|these|the|them|all)\s+(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\b(?!\s*(?:days?|weeks?|"
                  r"months?|quarters?|years?)\b)", low)
    if n and n.group(1) not in ("a", "an") and number(n.group(1)) != rows:  # "those 3" of 5: which? ask, never guess
        return Unmatched(rows)
    stated = period_of(low, today, False, fiscal_start)
    if stated is None and not (_summary_word(low) or re.search(r"\b(?:spent|used|consumed|burn\w*|ran up|altogether|"
                                                               r"together|all told|between them)\b", low)):
        return None  # "and their spend?": a column of the list, not a total
    last = current_period(prev) if prev.query is not None and prev.query.entity == "telemetry" else None
    if stated is not None:
        sp = Span(stated.start, min(stated.end, today), stated.text)
        how = "the window asked"
    elif last is not None:
        sp, how = last, "the same window as the last answer"
    else:
        sp, how = Span(today - timedelta(days=29), today, "the last 30 days"), "no window said, so the last 30 days"
    return UsageOf(m[0], m[1], m[2], Span(sp.start, sp.end, how))


# "how much did that one grow by?", "what did we lose on it?", "how much did it shrink": a renewal's ARR change
_CHANGE = re.compile(r"\b(?:grow|grew|grown|expand(?:ed)?|shr[iau]nk|contract(?:ed)?|drop(?:ped)?|f[ae]ll|fallen|"
                     r"lose|lost|gain(?:ed)?|increase[ds]?|decrease[ds]?|go(?:ne)? (?:up|down)|went (?:up|down)|"
                     r"change[ds]?|move[ds]?)\b(?:\s+(?:by|in arr))?|\b(?:arr )?(?:change|delta|uplift|difference)\b")
_HOW_MUCH = re.compile(r"\bhow much\b|\bby how much\b|\bwhat (?:did|was|were)\b|\b(?:by|in) what\b|\bhow big\b|"
                       r"\bby\s*\??$")
_OTHER_MEASURE = re.compile(r"\b(?:usage|tokens?|requests?|spend|seats?|latency|p95|nps|csat|health|score|users|"
                            r"errors?|tickets?|contacts?|headcount)\b")


def asks_change(low: str) -> bool:
    """The message asks how much a renewal moved ARR ("how much did that one grow by?"), not another measure."""
    return bool(_CHANGE.search(low) and _HOW_MUCH.search(low)) and not _OTHER_MEASURE.search(low)


_SAID = re.compile(r"\b(?:complain\w*|complaints?|gripes?|grumbl\w*|unhappy about|upset about|moan\w*|"
                   r"what (?:did|do|does) (?:they|it|those|these|he|she|the \w+) (?:say|write|mention|tell us)|"
                   r"what (?:was|were) (?:said|written)|what (?:they|it) said|comments?|verbatims?|feedback|"
                   r"what (?:were|are) (?:they|those|these|them) (?:all )?about|"
                   r"what (?:was|were) (?:the|their) (?:issues?|problems?|reasons?|concerns?)|"
                   r"why (?:were|was|did) (?:they|it|those|these) (?:so )?(?:unhappy|upset|low|bad|negative|angry|"
                   r"score (?:so )?low|detractors?))\b")


def asks_text(low: str, entity: str) -> bool:
    """The message asks what the last rows say ("what did they complain about?"), and the rows carry text."""
    return entity in TEXT_FIELDS and bool(_SAID.search(low))
