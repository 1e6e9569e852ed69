"""Risk signals across a book: "any churn signals in Sam's notes over the last month?", "red flags lately?".

A question for qualitative risk signals over many accounts (one CSM's, a team's, the asker's own) reads
as a `signals` plan: the accounts by the owner or team the message names (the asker's scope otherwise)
and the window it states. A rolling "last month" is the last 30 days unless a calendar month is named;
with no window it is the detector's own, and the reading says which.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.state import AccountRef
from agents.understand.model import Plan
from agents.understand.slots import _vocab_filters
from agents.understand.vocabulary import Vocabulary
from agents.when import Span, span
from tools.query import Query
from tools.risk_signals import load_lexicon

ASKS = re.compile(r"\b(churn|risk|warning|danger|red)[- ]?(signals?|signs?|flags?|indicators?)\b|"
                  r"\b(anything|any|what(?:'s| is)?)\s+(worrying|concerning|alarming|troubling)\b|"
                  r"\bwarning bells?\b|\bsigns? of (churn|trouble)\b")
_MONTHS = r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|" \
          r"nov(ember)?|dec(ember)?"


def window(low: str, today: date) -> Span:
    """The window the message states; "last month" rolls (30 days) unless a calendar month is named."""
    if re.search(r"\b(last|past|previous|over the last|over the past) month\b", low) and \
            not re.search(rf"\b({_MONTHS})\b", low) and not re.search(r"\bcalendar month\b", low):
        return Span(today - timedelta(days=30), today, "the last 30 days (a rolling month)")
    stated = span(low, today, future=False)
    if stated is not None and stated.start <= today:
        return Span(stated.start, min(stated.end, today), stated.text)
    days = load_lexicon().window_days
    return Span(today - timedelta(days=days), today, f"the last {days} days (no window was given)")


def plan(low: str, today: date, vocab: Vocabulary, asker: str, accounts: list[AccountRef]) -> Plan | None:
    """A `signals` plan when the message asks for risk signals over a book; None otherwise."""
    if not ASKS.search(low) or len(accounts) == 1:
        return None
    where, _ = _vocab_filters(low, vocab, asker)
    keep = [f for f in where if f.field in ("owner", "team", "segment", "industry")]
    per = window(low, today)
    q = Query(entity="accounts", filters=keep, fields=["account", "owner"],
              account_ids=[a["account_id"] for a in accounts])
    whose = " and ".join(_whose(f.field, f.value) for f in keep) or \
        ("the named accounts" if accounts else "your accounts")
    title = f"risk signals in the notes, tickets and survey comments of {whose}, {per.describe()}"
    return Plan("signals", title, q, what=whose, period=per, accounts=accounts)


def _whose(field: str, value: object) -> str:
    names = " and ".join(value) if isinstance(value, list) else str(value)
    return {"owner": f"{names}'s accounts" if not isinstance(value, list) else f"the accounts of {names}",
            "team": f"the {names} team's accounts"}.get(field, f"{names} accounts")
