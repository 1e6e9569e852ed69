"""Totals and measures over the last answer's rows: counted with an added filter, per account.

"how many of those were high priority, and on which accounts?" after tickets counts those tickets that are
high priority and names their accounts; it is never a switch to counting the accounts.
"""

from __future__ import annotations

import re
from datetime import date

from agents.understand.edit_ops import Edit, GroupBy, Summarise
from agents.understand.edit_words import _entity_of, _filters, _summarise, _summary_word, _without_fields
from agents.understand.vocabulary import Vocabulary
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
