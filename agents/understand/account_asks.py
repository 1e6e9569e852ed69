"""A follow-up that asks fields of the thread's one account, read afresh of that account rather than as an edit.

After a ticket, a milestone or a note of one account, "how many seats are they on?", "what plan are they on?",
"when's their renewal?" ask the account's own fields (the records shown hold none of them): the question is asked
of that account, never a count of the records shown. "Who's the champion there and when do they renew?" asks two
things of the account: both are answered.
"""

from __future__ import annotations

import re
from datetime import date

from agents.state import AccountRef
from agents.understand.lookups import lookup
from agents.understand.phrases import clauses
from agents.understand.roles import said_role

_MANY = re.compile(r"\b(?:those|these|each|every|all|both|any of)\b|"
                   r"\b(?:\d+|two|three|four|five) (?:accounts|customers|clients|of them)\b")
_ANY: AccountRef = {"account_id": 0, "name": ""}
_OF_ACCOUNT = {"seats", "plan", "renewal date", "contract value", "contract", "contract start", "industry", "owner",
               "model", "champion", "economic buyer"}
"""What a lookup reads from the account or its people, never from the records of another answer."""


def asked(low: str, today: date) -> set[str]:
    """The fields of one account a message asks, clause by clause ("the champion ... and when do they renew")."""
    return {p.what for part in clauses(low) for p in lookup(part, _ANY, today)} | \
        {p.what for p in lookup(low, _ANY, today)}


def of_account(low: str, entity: str, today: date) -> bool:
    """Whether a follow-up asks the account's own fields: several, or one the last answer's records do not hold."""
    if entity in ("accounts", "contacts") or _MANY.search(low):
        return False  # "who's the champion at those 3 accounts": the list's accounts, not the one shown
    whats = asked(low, today)
    return len(whats) >= 2 and bool(whats & _OF_ACCOUNT) or bool(whats) and whats <= _OF_ACCOUNT


_OF_PICKED = {"champion", "economic buyer", "seats", "plan", "industry", "model", "contacts"}
"""What a row picked from a list of records is asked of its account ("the biggest one - who's the champion?")."""


def of_picked(low: str, today: date) -> bool:
    """Whether a message that picks a record asks about the record's account: its people or its own fields."""
    return bool(asked(low, today) & _OF_PICKED) or said_role(low) is not None
