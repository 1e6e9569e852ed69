"""A per-account count over a kind of record, bounded: "accounts with more than 3 tickets this year".

The records are counted per account (with the message's own filters and window on them) and only the
accounts whose count passes the bound are listed, each with its count. The bound needs its own word
("more than", "at least", "2+", "or fewer"): "accounts with 3 tickets" is left to say it was not applied.
"""

from __future__ import annotations

import re

from agents.understand.phrases import _LESS, _MORE, _NUMW
from agents.understand.slots import _op, _value
from tools.query import Filter

_NOUNS = {"tickets": r"tickets?|cases?|escalations?|tix",
          "surveys": r"(?:\w+ )?(?:responses?|answers?|surveys?)|detractors?|promoters?|passives?",
          "fine_tunes": r"fine[- ]?tunes?|fine[- ]?tuning (?:jobs?|runs?)|(?:training )?(?:jobs?|runs?)",
          "milestones": r"milestones?|(?:onboarding )?steps?|(?:onboarding )?tasks?",
          "activities": r"notes?|meetings?|calls?|emails?|touch(?:es|points?)|activities|interactions?",
          "renewals": r"renewals?|churns?|expansions?|contractions?|downgrades?",
          "contacts": r"contacts?|people|champions?|stakeholders?"}


def per_account(low: str, entity: str) -> Filter | None:
    """The bound on each account's count of `entity` records the message asks for, if it asks one."""
    noun = _NOUNS.get(entity)
    if noun is None:
        return None
    m = re.search(rf"\b(?:accounts?|customers?|clients?|logos?|who|which ones?|ones|any(?:one|body)|some(?:one|body))\b"
                  rf"[^?.]{{0,25}}?"
                  rf"\b(?:with|having|that (?:have|has|had|got|filed|opened|raised|logged)|have|has|had|got|filed|"
                  rf"opened|raised|logged)\s+({_MORE}|{_LESS}|exactly)?\s*{_NUMW}"
                  rf"(\s*\+|\s+or (?:more|over|fewer|less|under))?\s+(?:[\w-]+\s+){{0,3}}?(?:{noun})\b", low)
    if not m or not (m.group(1) or m.group(3)):
        return None  # "accounts with 3 tickets": no bound said, so none is guessed
    n = _value(m.group(2), "")
    if m.group(1) == "exactly":
        return Filter(field="count", op="eq", value=n)
    if m.group(1):
        return Filter(field="count", op=_op(m.group(1)), value=n)
    return Filter(field="count", op="ge" if re.search(r"\+|more|over", m.group(3)) else "le", value=n)


def most_of(low: str) -> bool:
    """The message ranks groups by how many accounts of a kind each has: "who has the most red accounts"."""
    return bool(re.search(r"\b(?:the )?(?:most|greatest number of|largest number of)\s+(?!valuable|expensive|"
                          r"recent|important|profitable)(?:[\w-]+\s+){0,2}?(?:accounts|customers|clients|logos)\b",
                          low))


_WHO = r"\b(?:who|which(?: one| (?:of (?:my|our|the|them|those|these) )?(?:accts?|accounts?|customers?|clients?|" \
       r"logos?))|what (?:accts?|accounts?|customers?|clients?))\b"
_NOT_AMOUNT = r"(?!recent|recently|valuable|expensive|important|urgent|severe|critical|senior|active|engaged)"
_RECORD_VERB = re.compile(r"\b(?:closed|resolved|fixed|filed|opened|raised|logged|submitted|created|answered|"
                          r"responded|kicked off|started)\b")


def most_records(low: str, entity: str) -> bool:
    """The message asks which account has the most records of `entity`: "which customer logged the most calls".

    Only when the records are said with a verb or a window of their own (the caller checks the window): "which
    account has the most open tickets" is the account's own open-ticket count, a field of the account.
    """
    noun = _NOUNS.get(entity)
    if noun is None:
        return False
    return bool(re.search(rf"{_WHO}[^?.]{{0,30}}?\b(?:the )?most\s+{_NOT_AMOUNT}(?:[\w-]+\s+){{0,2}}?(?:{noun})\b",
                          low))


def most_of_last(low: str, entity: str) -> bool:
    """A follow-up asking which account had the most of the last answer's records.

    "which acct had the most?", "and who had the most of those?", "which customer had the most tickets" after a
    list or a count of tickets.
    """
    noun = _NOUNS.get(entity)
    return noun is not None and bool(re.search(rf"{_WHO}[^?.]{{0,30}}?\b(?:the )?most\b\s*{_NOT_AMOUNT}(?:$|\?|"
                                               rf"of (?:those|them|these|that|it)\b|(?:[\w-]+\s+){{0,2}}?(?:{noun})\b)",
                                               low.strip()))


def record_verb(low: str) -> bool:
    """A verb tying the records to an event of theirs ("closed", "filed", "logged"): counted records, not a field."""
    return bool(_RECORD_VERB.search(low))
