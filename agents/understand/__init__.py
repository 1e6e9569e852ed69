"""Understanding a question as a typed `Query`: slots from the CRM's own vocabulary, deterministic first.

`plan()` reads a message (with the accounts the router linked and the conversation's last result)
and returns a `Plan`: a field lookup for one account, a filtered/sorted/aggregated list, a metric
over a period, a side-by-side comparison, today's priorities, or None when the message is one of
the agents' own kinds (health, renewal, needs, onboarding, tuning) and nothing more specific.

Slots come from the CRM itself (model, team, CSM, industry and plan names), numbers and thresholds,
and dates via `agents.when` (dateutil). Nothing here reads data the asker may not see: the query
layer applies the scope when the plan runs.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from agents.state import AccountRef
from agents.understand import one_activity, signals
from agents.understand.latest import latest
from agents.understand.lookups import lookup, person, seniority
from agents.understand.model import EACH_MARK, Plan, Shape, from_json, to_json
from agents.understand.phrases import BOOK, COMPARE, LEXICON, PLURAL, SHORTHAND, THOSE, TOPIC, clauses
from agents.understand.quiet import quiet_contacts
from agents.understand.roles import by_role, with_health
from agents.understand.shapes import _metric, portfolio, wants_today
from agents.understand.side_by_side import compare, pick
from agents.understand.slots import _group, _vocab_filters, thresholds
from agents.understand.units import seconds_as_ms
from agents.understand.usage import usage
from agents.understand.vocabulary import Vocabulary, vocabulary
from agents.when import FISCAL_START, Span, span
from tools.query import Aggregate, Filter, Query

_KNOWN = set(LEXICON) | {"renewing", "accounts", "customers", "there", "their", "these", "those", "where", "about",
                         "should", "would", "could", "every", "other", "first", "second", "third", "total", "count",
                         "score", "scores", "tiers", "plans", "notes", "calls", "emails", "rates", "worth", "value",
                         "owner", "owned", "owns", "spend", "usage", "seats", "users", "trend", "level", "since",
                         "risks", "risky", "worse", "worst", "better", "lower", "higher", "fewer", "least", "under",
                         "above", "below", "within", "during", "through", "again", "still", "already", "today",
                         "contacted", "filled", "extended", "stated", "assigned", "listed", "opens", "pending",
                         "spending", "trending", "ending", "funding", "planned", "reached", "touched", "started",
                         "expected", "expired", "expiring", "retained", "renewable", "contacts", "counts", "amounts"}


_CALENDAR = {w for w in LEXICON if w.endswith(("day", "ber", "ary", "ch", "il", "une", "uly", "ust"))}


def _mend(m: re.Match[str]) -> str:
    """A lower-case word one slip away from a word CSMs ask with is that word ("whcih", "acounts")."""
    word = m.group(0)
    low = word.lower()
    if len(low) < 5 or low in _KNOWN:
        return word  # short words and known words are left alone
    hit = process.extractOne(low, LEXICON, scorer=DamerauLevenshtein.distance, score_cutoff=1 if len(low) < 9 else 2)
    if hit is None or hit[0][:2] != low[:2] and hit[0][0] != low[0] or hit[0].rstrip("s") == low.rstrip("s") or \
            low.startswith(hit[0][:-1]) or hit[0].startswith(low[:-1]):
        return word  # another form of a known word ("recently", "renewable") is no typo
    if word[:1].isupper() and m.start() > 0 and hit[0] not in _CALENDAR:
        return word  # a capitalised word mid-sentence is a name, unless it is a month or a day misspelt
    return str(hit[0])


def normalize(question: str) -> str:
    """The message with shorthand spelled out and typos in its common words mended.

    "b4 xmas" is "before dec 25"; "whcih acounts renew in Septmber" is "which accounts renew in september".
    """
    out = question.replace("\u2019", "'")
    out = re.sub(r"[A-Za-z]+", _mend, out)
    for pat, word in SHORTHAND.items():
        out = re.sub(pat, word, out, flags=re.I)
    out = seconds_as_ms(out)  # "p95 over 1.5s": telemetry holds milliseconds
    return re.sub(r"(?<![\w.$])(\d+)\+(?=\s+[a-z])", r"\1 or more", out)  # "3+ open tickets": at least 3


__all__ = ["BOOK", "COMPARE", "EACH_MARK", "PLURAL", "THOSE", "TOPIC", "Plan", "Shape", "Vocabulary", "by_role",
           "clauses", "compare", "from_json",
           "lookup", "normalize", "pick", "plan", "portfolio", "seniority", "thresholds", "to_json", "vocabulary",
           "wants_today"]


def plan(question: str, today: date, vocab: Vocabulary, asker: str, accounts: list[AccountRef],
         previous: list[int], fiscal_start: int = 1) -> list[Plan]:
    """What the message asks, as plans; empty leaves it to the agents' own intents.

    `fiscal_start` is the month the fiscal year begins: "fiscal Q1" and "FY27" are read with it.
    """
    token = FISCAL_START.set(fiscal_start)
    try:
        return _plan(question, today, vocab, asker, accounts, previous)
    finally:
        FISCAL_START.reset(token)


def _lookups(low: str, account: AccountRef, today: date, vocab: Vocabulary) -> list[Plan]:
    """The fields of one account each part of the message asks ("the champion ... and when do they renew?")."""
    newest = latest(low, account)  # "when did they last open a ticket?": the newest one, by that verb's date
    if newest is not None:
        return [newest]
    said = one_activity.plan(low, account, today)  # "what did hank say on the 11-15 call?": that day's record
    if said is not None:
        return [said]
    out: list[Plan] = []
    for part in clauses(low):
        for p in _fields(part, account, today, vocab):
            if all(p.what != o.what for o in out) and len(out) < 3:
                out.append(p)
    whole = _fields(low, account, today, vocab)
    return with_health(low, account, out if len(out) > len(whole) else whole)


def _fields(low: str, account: AccountRef, today: date, vocab: Vocabulary) -> list[Plan]:
    """The fields one part of a message asks of one account; a contact by role before "its contacts"."""
    found = lookup(low, account, today, vocab.milestones)
    role = by_role(low, account, vocab.roles)
    if role and all(p.what == "contacts" for p in found):  # "technical contact there?": that one, not all of them
        return role
    return found or role


def _plan(question: str, today: date, vocab: Vocabulary, asker: str, accounts: list[AccountRef],
          previous: list[int]) -> list[Plan]:
    low = question.lower().replace("’", "'")
    used = usage(low, today, accounts)
    if used:  # "who used the most tokens last month?", "Acme's token usage this month vs last"
        return used
    metric = _metric(low, today)
    if metric is not None and len(accounts) <= 1:
        metric.accounts = accounts
        where, said = _vocab_filters(low, vocab, asker)
        seg = re.search(r"\b(enterprise|mid[- ]market|smb)\b", low)
        if seg:
            name = {"smb": "SMB"}.get(seg.group(1), seg.group(1).replace(" ", "-"))
            where.append(Filter(field="segment", value=name))
            said.append(seg.group(1))
        group = _group(low)
        entity = "surveys" if metric.metric in ("nps", "avg_nps", "avg_csat") else "renewals"
        if where or group in ("owner", "team", "segment", "industry"):
            metric.query = Query(entity=entity, filters=[f for f in where if f.field in ("owner", "team", "segment",
                                                                                          "industry")],
                                 group_by=group if group in ("owner", "team", "segment", "industry") else None)
            metric.what = " ".join(said)
        return [metric]
    if len(accounts) >= 2 and re.search(r"\b(combined|together|in total|total|sum|both)\b", low):
        q = Query(entity="accounts", account_ids=[a["account_id"] for a in accounts],
                  fields=["account", "health", "band", "arr", "renewal_date"],
                  aggregates=[Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")])
        return [Plan("aggregate", "accounts (" + " and ".join(a["name"] for a in accounts) + ")", q, what="accounts",
                     accounts=accounts)]
    if len(accounts) >= 2 and (COMPARE.search(low) or re.search(r"\band\b|,", low) and
                               re.search(r"\b(which|who)\b", low)):
        return [compare(accounts, low)]
    quiet = quiet_contacts(low, today, accounts)
    if quiet is not None:  # "who at Acme hasn't engaged in 6 weeks?": the contacts, by their last engagement
        return [quiet]
    book = signals.plan(low, today, vocab, asker, accounts)
    if book is not None:
        return [book]
    if len(accounts) == 1:  # a field of it, or a person there ("what's sofia's title at Initech?")
        found = _lookups(low, accounts[0], today, vocab)
        who = None if found else person(question, vocab.people, accounts)
        return found if who is None else [who]
    if accounts:
        return []
    who = person(question, vocab.people)
    if who is not None:
        return [who]
    if re.search(r"\bwhat(?:'s| has| have)? changed\b|\bwhat'?s new\b|\banything new\b|\bchanges? since\b|"
                 r"\bwhat (?:has )?happened (?:in|across|with|to) (?:my|our) (?:book|portfolio|accounts)\b", low):
        since = span(low, today, future=False)
        period = since or Span(today - timedelta(days=1), today, "since yesterday")
        return [Plan("today", f"what changed {period.describe()}", what="changes", period=period)]
    if wants_today(low) and not re.search(r"\b(list|show|which|how many)\b.*\baccounts\b", low):
        return [Plan("today", "what needs you today", what="today")]
    refers = THOSE.search(low) or (re.search(r"\bwhich one\b|\bthe one\b|\bwhich of them\b", low)
                                   and not PLURAL.search(low))
    p = portfolio(low, today, vocab, asker, previous if refers else [])
    return [p] if p is not None else []

