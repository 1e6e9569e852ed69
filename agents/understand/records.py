"""Accounts listed for records of theirs, narrowed by those records (issue 36).

"which of my accounts have open tickets" -> "only the high priority ones": the accounts whose open tickets
include high-priority ones, not a row to pick. The same for other per-account counts of records (accounts with
overdue milestones -> "just the blocked ones"). The router finds the accounts by running the records' query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from agents.understand.edit_ops import RecordFilter
from agents.understand.edit_words import _filters
from agents.understand.model import Plan
from agents.understand.vocabulary import Vocabulary
from tools.query import Filter

_OPEN = Filter(field="status", op="ne", value="closed")
# an account field counting records of a kind -> that kind, what the list called them, and those records' filters
_COUNTED: dict[str, tuple[str, str, Callable[[date], list[Filter]]]] = {
    "open_tickets": ("tickets", "open tickets", lambda today: [_OPEN]),
    "open_high_tickets": ("tickets", "open high-priority tickets", lambda today: [
        _OPEN, Filter(field="priority", op="in", value=["high", "urgent"])]),
    "onboarding_overdue": ("milestones", "overdue milestones", lambda today: [
        Filter(field="status", op="ne", value="done"), Filter(field="due_date", op="lt", value=today.isoformat())]),
}
_NARROW = re.compile(r"\b(?:only|just)\b|\b(?:which|any) of (?:those|these|them)\b|^\W*(?:and |so )?the [\w-]+(?: "
                     r"[\w-]+)? ones?\W*$")
_SCOPE = ("owner", "team", "segment", "industry")


def by_records(low: str, prev: Plan, today: date, vocab: Vocabulary, asker: str) -> RecordFilter | None:
    """The narrowing by records a follow-up asks of a list of accounts counted by them; None when it asks none."""
    q = prev.query
    if q is None or q.entity != "accounts" or not _NARROW.search(low):
        return None
    counted = next((_COUNTED[f.field] for f in q.filters if f.field in _COUNTED and f.op in ("gt", "ge")), None)
    if counted is None:
        return None
    own, _ = _filters(low, "accounts", today, vocab, asker)
    if own:
        return None  # "only the red ones": the accounts' own field
    entity, of, base = counted
    found, said = _filters(low, entity, today, vocab, asker)
    kept = base(today)
    new = [f for f in found if f.field not in _SCOPE and f not in kept]
    if not new:
        return None
    named = {f.field for f in new}
    return RecordFilter(entity, [*(f for f in kept if f.field not in named), *new], said, of)
