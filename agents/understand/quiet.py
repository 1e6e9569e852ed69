"""Contacts by their last engagement: "who at Acme hasn't engaged in 6 weeks?", "people not talked to since May".

A person asked about with a negated engagement verb and a window is a contact list: the contacts still at
the account whose last engagement is before the window, the longest silent first, each with its date.
(Accounts asked that way, "which accounts haven't had a touch in 30+ days", are the accounts' own touch
gap: `slots._account_filters`.)
"""

from __future__ import annotations

import re
from datetime import date

from dateutil.relativedelta import relativedelta

from agents.state import AccountRef
from agents.understand.model import Plan
from agents.when import NUMBER_PATTERN, number, span
from tools.query import Filter, Query, Sort

_PERSON = re.compile(r"\bwho(?:m)?\s+(?:at|from|in|on)\b|\b(?:contacts?|people|persons?|stakeholders?|champions?|"
                     r"sponsors?|buyers?|decision[- ]makers?|folks)\b|\bwho\b.{0,30}\bengag")
_ACCOUNTS = re.compile(r"\b(?:which|what|any|list|show)\s+(?:of\s+(?:my|our|the)\s+)?(?:accounts?|customers?|clients?|"
                       r"logos?|accts?)\b|^\W*(?:accounts?|customers?|clients?|accts?)\b|"
                       r"\b(?:accounts?|customers?|clients?|accts?)\s+(?:that|which|with|who|we)\b")
"""Accounts as the subject ("which accounts haven't we touched"): their touch gap, not their contacts."""
_QUIET = re.compile(r"\b(?:haven'?t|hasn'?t|have not|has not|not|no|never|without|nobody|no one|n't)\b[^.?!]{0,40}?"
                    r"\b(?:engag\w*|talk\w*|spok\w*|speak\w*|hear\w*|met|meet\w*|reach\w*|contact\w*|touch\w*|"
                    r"respond\w*|repl\w*|emailed|called|interact\w*|heard)\b|\b(?:gone|went|been) (?:quiet|dark|silent|"
                    r"cold)\b|\bquiet\b")
_GAP = re.compile(r"\b(?:in|for|over|during|within)?\s*(?:the\s+)?(?:last|past)?\s*(?:over|more than)?\s*"
                  + NUMBER_PATTERN + r"\s*(?:\+|plus)?\s*(?:or (?:more|longer)\s+)?(day|week|month)s?\b")


def quiet_contacts(low: str, today: date, accounts: list[AccountRef]) -> Plan | None:
    """The contacts not engaged in a window the message states, if it asks for people that way."""
    quiet = _QUIET.search(low)
    if quiet is None or not _PERSON.search(low) or (_ACCOUNTS.search(low) and not re.search(
            r"\bwho(?:m)?\s+(?:at|from|in|on)\b|\b(?:contacts?|people|stakeholders?|champions?)\b", low)):
        return None
    rest = low[quiet.start():]
    gap = _GAP.search(rest)
    since = span(rest, today, future=False) if gap is None and re.search(r"\bsince\b", rest) else None
    if gap is not None:
        unit = gap.group(2)
        n = number(gap.group(1))
        cutoff = today - relativedelta(**{f"{unit}s": n})  # type: ignore[arg-type]
        said = f"not engaged in the last {n} {unit}{'s' if n != 1 else ''} (last engaged before {cutoff.isoformat()})"
    elif since is not None:
        cutoff = since.start
        said = f"not engaged since {cutoff.isoformat()}"
    else:
        return None
    filters = [Filter(field="last_engaged", op="lt", value=cutoff.isoformat()), Filter(field="left_on", op="is_null")]
    if re.search(r"\bchampions?\b", low):
        filters.append(Filter(field="is_champion", value=True))
        said = f"champions {said}"
    q = Query(entity="contacts", fields=["name", "role", "last_engaged", "account"], filters=filters,
              account_ids=[a["account_id"] for a in accounts], sort=[Sort(field="last_engaged")])
    where = f" at {' and '.join(a['name'] for a in accounts)}" if accounts else ""
    return Plan("list", f"contacts{where}, {said}, still there", q, what="contacts", accounts=list(accounts))
