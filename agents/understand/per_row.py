"""Questions asked of every row of the last answer, and plural pointers back at the whole list.

"who's the champion at each?", "how many open tickets does each have?" after a list of accounts keep the
row set and answer one line per row (a contact, a count, a field of each account). "open tickets at both of
them?" after one row was picked from a list points back at the whole list, not at the picked row.
"""

from __future__ import annotations

import re

from agents.understand import activity_words
from agents.understand.edit_ops import Edit, GroupBy, SetFilters, ShowFields, Summarise, SwitchEntity
from agents.understand.edit_words import _entity_of, _without_fields
from agents.understand.model import Plan
from tools.query import Filter

# "at each", "for each of them", "for all of those", "does each have": asked of every row of the last answer.
EACH = re.compile(r"\b(?:at|for|of|on|per|with|in|from|to) (?:each|every one)\b|"
                  r"\beach (?:of )?(?:them|those|these|one|account|customer|client)\b|\beach\W*$|\bevery one of\b|"
                  r"\b(?:does|do|has|have|did|is|are|will) each\b|"
                  r"\bfor (?:all|every one) (?:of )?(?:them|those|these)\b")

# "both of them", "all of those", "each of them", "those" after a pick: the whole list the pick came from.
# A singular pointer ("it", "that one", "them" for a person) keeps the picked row.
BOTH = re.compile(r"\b(?:both|the two|the (?:three|four|five|\d) of (?:them|those|these|em)|all (?:of )?(?:them|those|"
                  r"these|em)|(?:each|every one|any) of (?:them|those|these|em)|them all|them both)\b|"
                  r"\b(?:those|these)\b(?! days\b| times\b)")

_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|\bcounts\b")
_HIGH = re.compile(r"\b(?:high|urgent|critical|sev ?1|p1)\b")


def one_row(last: Plan | None, rows: int) -> bool:
    """Whether the last answer was one row picked from a list (an account's card, a record, a top 1)."""
    return last is None or rows <= 1 and (last.shape == "lookup" or last.query is not None and last.query.limit == 1)


def each_count(low: str, entity: str) -> list[Edit]:
    """A figure each account carries, asked of each ("how many open tickets does each have?", "latest nps for each").

    Each account's own count or latest score, so an account with none says 0 or none; other records counted
    per account are a switch of entity with a count grouped by account (`per_account`).
    """
    if entity != "accounts" or not EACH.search(low) and not re.search(r"\bper (?:account|customer|client)\b", low):
        return []
    switch = _entity_of(_without_fields(low, entity))
    if switch == "surveys" and re.search(r"\b(?:latest|last|current|most recent)? ?nps\b", low) and \
            not re.search(r"\b(?:responses|comments|answers|all|every|history|average|avg)\b", low):
        return [ShowFields(["nps"])]  # "latest nps for each": each account's latest NPS
    if switch != "tickets" or not _COUNT.search(low):
        return []
    if re.search(r"\bopen\b", low) and not re.search(r"\b(?:closed|resolved|this|last|since|in the|during)\b", low):
        return [ShowFields(["open_high_tickets" if _HIGH.search(low) else "open_tickets"])]
    return []


def per_account(out: list[Edit]) -> list[Edit]:
    """A count after a switch asked of every row ("number of calls with each this month"): grouped by account."""
    switched = any(isinstance(e, SwitchEntity) and e.each and e.entity != "accounts" for e in out)
    counted = any(isinstance(e, Summarise) for e in out)
    return [GroupBy("account")] if switched and counted and not any(isinstance(e, GroupBy) for e in out) else []


def activity_kind(low: str, entity: str) -> list[Edit]:
    """"and their calls this month?": a switch to activities keeps the kind named (a call, meeting, email, note)."""
    said = activity_words.kinds(low) if entity == "activities" else []
    return [SetFilters([Filter(field="kind", value=said[0])], [])] if len(said) == 1 else []
