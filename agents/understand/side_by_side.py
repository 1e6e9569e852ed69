"""Two or more accounts side by side, and the account an ordinal points at in the last list (split from shapes.py)."""

from __future__ import annotations

import re

from agents.state import AccountRef
from agents.understand.model import Plan
from agents.understand.phrases import _COMPARE_TOPICS, _ORDINAL
from tools.query import Query


def compare(accounts: list[AccountRef], low: str = "") -> Plan:
    """Two or more accounts side by side (with the figures the question is about, when it names a topic)."""
    topic = [f for pat, fields in _COMPARE_TOPICS if re.search(pat, low) for f in fields]
    base = ["account", "health", "band", "arr"]
    rest = ["renewal_date", "p_renew", "nps", "seat_utilization", "usage_change_30d", "open_tickets", "owner"]
    q = Query(entity="accounts", account_ids=[a["account_id"] for a in accounts],
              fields=list(dict.fromkeys(base + topic + rest))[:12])
    return Plan("compare", "comparison of " + " and ".join(a["name"] for a in accounts), q, what="comparison",
                accounts=accounts)



def pick(low: str, ids: list[int]) -> int | None:
    """The account an ordinal or "that one" points at in the previous list."""
    m = _ORDINAL.search(low)
    if not m or not ids:
        return None
    word = m.group(1) or m.group(2) or ""
    if m.group(3):
        k = int(m.group(3)) - 1
    else:
        k = {"first": 0, "top": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1,
             "bottom": -1}.get(word, 0)
    return ids[k] if -len(ids) <= k < len(ids) else None
