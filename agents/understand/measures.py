"""Thresholds, orders and superlatives on any numeric or date field of an entity, driven by its fields.

The words for a field come from the entity's own catalogue (`tools.query.ENTITIES`: "eval score",
"arr before", "score") plus a few synonyms; a superlative ("the lowest eval score", "scored highest",
"the oldest open ticket", "the most recent one filed") sorts on that field, and a singular noun
("which fine-tune", "my oldest ticket") asks for one row.
"""

from __future__ import annotations

import re
from datetime import date

from agents.understand.phrases import _FIELD_WORDS, _INCLUSIVE, _LESS, _MORE
from agents.understand.slots import thresholds
from tools.query import ENTITIES, Filter, Sort

_SYNONYMS: dict[str, str] = {  # field -> more words for it than its label
    "arr_before": r"arr|value|worth|revenue|contract value|size",
    "arr_after": r"new arr|arr after|renewed (?:at|for)",
    "eval_score": r"eval(?:uation)?(?: score)?|scored?|accuracy",
    "loss_final": r"(?:final )?loss",
    "score": r"scored?|rat(?:ing|ed)|nps|csat",
}
_NUMERIC = ("number", "money", "ratio")
_MONEY_FIELD = {"accounts": "arr", "renewals": "arr_before"}
_SINGULAR = {"tickets": r"ticket|case|escalation",
             "fine_tunes": r"fine[- ]?tune|tuning run|fine[- ]?tuning job|job|run",
             "surveys": r"response|answer|survey|score|rating", "renewals": r"renewal|deal|churn",
             "milestones": r"milestone|step|task", "plans": r"plan|onboarding", "contacts": r"contact|person",
             "activities": r"meeting|call|email|note|activity|touch|interaction",
             "accounts": r"account|customer|client|logo|one"}
_STARTS = {"plans": "started_on", "tickets": "opened_at", "fine_tunes": "created_on"}
_UP = r"highest|best|top|biggest|largest|most|max(?:imum)?|greatest|strongest"
_DOWN = r"lowest|worst|bottom|smallest|least|min(?:imum)?|weakest|poorest"
_NEW = r"newest|latest|most recent|youngest|last"
_OLD = r"oldest|earliest|first|longest[- ](?:open|running|standing)"


def field_words(entity: str) -> dict[str, str]:
    """The words that name each numeric field of an entity (the accounts' own table for accounts)."""
    if entity == "accounts":
        return _FIELD_WORDS
    out: dict[str, str] = {}
    for name, col in ENTITIES[entity].fields.items():
        if col.kind in _NUMERIC and col.expr is not None:
            label = re.escape((col.label or name).replace("_", " "))
            out[name] = _SYNONYMS.get(name, label) + "|" + label
    return out


_BARE = {"surveys": "score"}  # an entity whose one number a bare bound is on: "gave us a 6 or lower"
_BARE_BOUNDS = [re.compile(r"(?<![\w$.,])(\d{1,2})\s+or\s+(lower|less|below|under|worse|higher|more|above|over|better|"
                           r"greater)\b(?!\s*(?:days?|weeks?|months?|quarters?|years?)\b)"),
                re.compile(rf"({_MORE}|{_LESS})\s*(\d{{1,2}})\b(?![.,]\d|\s*(?:%|percent|days?|weeks?|months?|"
                           r"quarters?|years?|accounts?|customers?|clients?|tickets?)\b)")]


def record_thresholds(entity: str, low: str) -> list[Filter]:
    """Bounds on the entity's own numbers: "score under 7", "eval score above 0.8", "worth over 100k".

    Survey responses have one number, the score: a bound said without naming it ("nps answers this
    quarter under 7", "scoring 6 or below", "gave us a 6 or lower") is on the score.
    """
    if entity == "accounts":
        return thresholds(low)
    found = thresholds(low, field_words(entity), _MONEY_FIELD.get(entity))
    fld = _BARE.get(entity)
    if found or fld is None:
        return found
    for pat in _BARE_BOUNDS:
        m = pat.search(low)
        if m is None:
            continue
        word, num = (m.group(2), m.group(1)) if m.group(1)[0].isdigit() else (m.group(1), m.group(2))
        if int(num) > 10:
            continue
        up = bool(re.match(r"higher|more|above|over|better|greater|at least|no less|>|exceed|in excess|upwards|"
                           r"north|min", word))
        inclusive = m.group(1)[0].isdigit() or bool(re.match(_INCLUSIVE, word))
        return [Filter(field=fld, op=("ge" if inclusive else "gt") if up else ("le" if inclusive else "lt"),
                       value=int(num))]
    return []


def superlative(entity: str, low: str, date_field: str) -> Sort | None:
    """A superlative or order on the entity's numbers or its date ("lowest eval score", "oldest open ticket")."""
    for fld, words in field_words(entity).items():
        m = re.search(rf"\b({_UP}|{_DOWN})\s+(?:\w+\s+){{0,2}}?(?:{words})\b", low) or \
            re.search(rf"\b(?:{words})\s+(?:is\s+|was\s+|are\s+)?(?:the\s+)?({_UP}|{_DOWN})\b", low) or \
            re.search(rf"\b(?:scored|ranked|rated|came in|did|performed|finished)\s+(?:the\s+)?({_UP}|{_DOWN}|better|"
                      rf"worse)\b.{{0,20}}\b(?:{words})\b", low)
        if m:
            return Sort(field=fld, desc=bool(re.fullmatch(_UP + "|better", m.group(1))))
    m = re.search(rf"\b(?:scored|ranked|rated|performed|did)\s+(?:the\s+)?({_UP}|{_DOWN}|best|worst)\b", low)
    nums = [f for f in field_words(entity) if f != "loss_final"]
    if m and nums:  # "which fine-tune scored highest?": the entity's first number
        return Sort(field=nums[0], desc=bool(re.fullmatch(_UP, m.group(1))))
    start = _STARTS.get(entity)
    if start and re.search(r"\b(?:running|open|been open|waiting|outstanding|going|in progress|active)\s+"
                           r"(?:the |for the )?longest\b|\blongest[- ](?:running|open|standing|waiting)\b|"
                           r"\boldest\b", low):
        return Sort(field=start, desc=False)  # "running the longest": the earliest start first
    noun = _SINGULAR.get(entity)
    if noun:
        m = re.search(rf"\b({_NEW}|{_OLD})\s+(?:\d{{1,3}}\s+)?(?:(?:open|closed|failed|running|active|blocked|overdue|"
                      rf"high[- ]priority|urgent|nps|csat|pending|\w+'s)\s+)?(?:{noun})s?\b", low)
        if m:
            return Sort(field=date_field, desc=bool(re.fullmatch(_NEW, m.group(1))))
    return None


NEXT_DUE = re.compile(r"\bnext\b(?:\s+[\w-]+){0,3}?\s+(?:coming\s+)?(?:due|up|scheduled)\b|\bcoming due\b|"
                      r"\bnext (?:milestones?|steps?|tasks?|ones?)\b|\bupcoming (?:milestones?|steps?|tasks?)\b")
"""The next thing due ("the next milestone coming due", "next one due there"): the earliest not yet done."""
_DUE_FIELD = {"milestones": ("due_date", "done"), "plans": ("target_date", "completed")}


def next_due(entity: str, low: str, today: date) -> tuple[list[Filter], Sort] | None:
    """"What's the next milestone due?": not done, due today or later, soonest first (the caller sets the length)."""
    if entity not in _DUE_FIELD or not NEXT_DUE.search(low):
        return None
    fld, done = _DUE_FIELD[entity]
    return [Filter(field="status", op="ne", value=done), Filter(field=fld, op="ge", value=today.isoformat())], \
        Sort(field=fld)


def singular(entity: str, low: str) -> bool:
    """The message asks for one record ("which fine-tune", "my oldest open ticket", "the lowest response")."""
    noun = _SINGULAR.get(entity)
    if noun is None:
        return False
    return bool(re.search(rf"\b(?:which|what(?:'s| is| was)?|the|my|our)\s+(?:[\w']+\s+){{0,3}}?(?:{noun})\b(?!s|\w)",
                          low)) and not re.search(rf"\b(?:{noun})s\b|\b(top|bottom|first|last)\s+\d", low)
