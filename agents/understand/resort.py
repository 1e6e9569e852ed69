"""Sort edits said without the word "sort": the same rows, turned round or cut by a superlative and a number.

"flip it", "reverse that", "other way round", "lowest first instead" reverse the order of the last list on its
own measure (a ranking of usage per account too). "soonest 3", "biggest five", "the 3 oldest", "top 2 by arr"
sort and cut the rows: the measure is the list's own when the word fits it, else the record's date (soonest,
oldest, newest) or its money (biggest, smallest); never one row picked.
"""

from __future__ import annotations

import re

from agents.understand import picks
from agents.understand.edit_ops import _MONEY_FIELD, Reorder
from agents.when import NUMBER_WORDS
from tools.query import ENTITIES, Query, Sort

TURN = re.compile(r"\b(?:flip(?:ped)?|revers(?:e|ed)|invert(?:ed)?|turn (?:it|that|them|the list) (?:a)?round|"
                  r"(?:the )?other (?:way|end|direction)|opposite (?:order|end|direction|way)|upside down)\b")
_UP = ("biggest", "largest", "highest", "top", "most", "best", "newest", "latest", "greatest", "heaviest",
       "furthest", "farthest", "most recent")
_DOWN = ("smallest", "lowest", "bottom", "least", "fewest", "worst", "oldest", "earliest", "tiniest", "lightest",
         "soonest", "nearest", "closest")
_DATED = ("newest", "latest", "oldest", "earliest", "soonest", "nearest", "closest", "furthest", "farthest",
          "most recent")
_SIZED = ("biggest", "largest", "smallest", "tiniest", "greatest", "heaviest", "lightest")
_WORSE_UP = ("p95_latency_ms", "p95_ms", "error_rate", "days_since_touch", "open_tickets")
_NUMERIC = ("money", "number", "ratio")
# "lowest first instead", "ascending": a direction with no measure named, on the list's own measure
_FIRST = re.compile(r"\b(lowest|highest|smallest|biggest|largest|least|most|fewest)(?: ones?| values?)? "
                    r"(?:first|on top|at the top)\b|\b(ascending|descending|asc|desc)\b")


def _order(q: Query) -> Sort | None:
    """The order the last list was shown in: its sort, else newest first by the record's date (the query's default)."""
    if q.sort:
        return q.sort[0]
    dated = ENTITIES[q.entity].date_field
    return Sort(field=dated, desc=True) if dated and not q.group_by and not q.aggregates else None


def _field_for(said: str, q: Query) -> str | None:
    """The measure a superlative sorts by: the list's own when the word fits it, else the record's date or money."""
    spec = ENTITIES[q.entity]
    own = q.sort[0].field if q.sort else None
    kind = spec.fields[own].kind if own in spec.fields else ""
    if said in _DATED:
        if kind == "date":
            return own
        dated = "renewal_date" if q.entity == "accounts" else spec.date_field
        return dated if dated in spec.fields and not q.group_by else None
    if said in _SIZED:
        if kind in ("money", "number"):
            return own
        money = _MONEY_FIELD.get(q.entity)
        return money if money in spec.fields and not q.group_by else None
    return own


def _ranked(q: Query) -> bool:
    """A list whose order can be turned: sorted records, or groups ranked by an aggregate ("top 3 by spend")."""
    return not q.group_by or bool(q.sort) and any(a.field == q.sort[0].field for a in q.aggregates)


def turned(low: str, q: Query | None) -> Reorder | None:
    """A sort-direction change or a superlative with a length over the last list ("reverse that, bottom 3").

    "flip it, smallest 5", "now the 4 lowest", "soonest 3": the query's rows re-sorted, then cut, never a row
    picked from the rows shown.
    """
    if q is None or not _ranked(q):
        return None
    n = r"(\d{1,2}|" + "|".join(w for w in NUMBER_WORDS if w not in ("a", "an", "one")) + r")"
    word = r"(" + "|".join(sorted(_UP + _DOWN, key=len, reverse=True)) + r")"
    m = re.search(rf"\b{word}\s+{n}\b(?!\s*(?:days?|weeks?|months?|quarters?|years?)\b)|\b{n}\s+{word}\b", low)
    turn = TURN.search(low)
    first = _FIRST.search(low) if m is None and turn is None else None
    if m is None and turn is None and first is None:
        return None
    if m is None and re.search(r"\b(?:back|again|undo)\b", low) or turn is None and len(low.split()) > 7:
        return None
    said = (m.group(1) or m.group(4)) if m else None
    by = re.search(r"\bby\s+([a-z()][a-z() ]{1,30})", low)
    named = [f for f in picks.fields_named(by.group(1) if by else low, q.entity) if f != "account"]
    if first is not None:  # "lowest first instead": only on a measure of the list's own
        if not q.sort or named and named[0] != q.sort[0].field or \
                ENTITIES[q.entity].fields.get(q.sort[0].field) is None or \
                ENTITIES[q.entity].fields[q.sort[0].field].kind not in _NUMERIC:
            return None
        up = (first.group(1) or "") in ("highest", "biggest", "largest", "most") or first.group(2) in ("descending",
                                                                                                       "desc")
        return Reorder(Sort(field=q.sort[0].field, desc=up), q.limit)
    k = (m.group(2) or m.group(3)) if m else None
    bare = re.search(r"(?:^|,|\band\b|\bjust\b|\bonly\b)\s*(\d{1,2})\s*(?:of them|ones?)?\W*$", low) \
        if m is None else None
    k = k or (bare.group(1) if bare else None)  # "other way round, 3"
    limit = (int(k) if k.isdigit() else NUMBER_WORDS[k]) if k else q.limit
    shown = _order(q)
    if said is None:  # "flip it": the same measure, the other way
        if shown is None or any(f != shown.field for f in named):
            return None  # "flip it by NPS": another measure, read as usual
        return Reorder(Sort(field=shown.field, desc=not shown.desc), limit)
    if named and by:  # "top 2 by arr": that measure
        fld: str | None = named[0]
    elif any(f != (q.sort[0].field if q.sort else None) for f in named):
        return None  # "top 5 NPS": another measure, read as usual
    else:
        fld = _field_for(said, q)
    if fld is None:
        return None
    worse_up = fld in _WORSE_UP
    desc = said in _UP if said not in ("best", "worst") or not worse_up else said == "worst"
    return Reorder(Sort(field=fld, desc=desc), limit)
