"""What a follow-up asks of a row it points at: the person or their account, which fields, a record by a word.

After a contact was shown, "what's her email?" asks that person's email; "is she still there?" whether she
left; "her email + when did we last hear from her?" both of hers. "And what's open on their side?", "their
renewal?", "who else do we have there?", "when did we last log anything with them?" ask about the contact's
account, answered as a question about that account. A word a row's record holds ("the 503 one") picks that
record, even when the last answer listed its account rather than the record itself.
"""

from __future__ import annotations

import re

from agents.state import RowRef
from agents.understand import picks
from agents.understand.edit_ops import PickRecord, SelectRow, Unmatched
from agents.understand.edit_words import _entity_of
from agents.understand.model import Plan
from agents.when import MONTHS
from tools.query import ENTITIES, Filter, Query, Sort

ONLY = "the only one in the last answer"

_PERSON = re.compile(r"\b(?:she|her|hers|herself|he|him|his|himself)\b")
_FIELDS: list[tuple[str, str]] = [  # (what a message says, the contact field it asks)
    (r"\be-?mails?\b|\baddress\b|\breach (?:her|him|them)\b|\bwrite to\b", "email"),
    (r"\btitle\b|\brole\b|\bjob\b|\bposition\b|\bwhat (?:does|do) (?:she|he|they) do\b", "role"),
    (r"\bstill (?:there|with (?:them|us|the company)|at|around|employed|on board|in the role)\b|\b(?:has|did) "
     r"(?:she|he|they) (?:left|leave|quit|moved? on)\b|\bleft\b|\bgone\b|\bdeparted\b|\bstill (?:the|our) champ",
     "left_on"),
    (r"\blast (?:hear|heard|spoke|speak|talk|talked|engag\w*|in touch|met|meet|email\w*)\b|"
     r"\b(?:hear|heard) from (?:her|him)\b|\bengag\w*\b|"
     r"\bwhen did we (?:last )?(?:talk|speak) (?:to|with) (?:her|him)\b",
     "last_engaged"),
    (r"\b(?:is|are) (?:she|he|they) (?:still )?(?:the |our )?champ(?:ion)?\b", "is_champion"),
]
# Things of the account, not of the person: its records, its dates, its other people.
_ACCOUNT = re.compile(r"\b(?:the account|the company|the customer|their side|their end|on their part|whole account|"
                      r"renew\w*|contract|arr|health\w*|seats?|usage|spend|owner|csm|tickets?|tix|cases?|"
                      r"onboarding|milestones?|fine[- ]?tun\w*|surveys?|nps|csat|notes?|meetings?|calls?|"
                      r"anything|something|what'?s open|anything open|still open|open items|"
                      r"who else|anyone else|anybody else|other (?:people|contacts|folks)|who (?:do|did) we "
                      r"(?:still )?(?:have|know)|who(?:'s| is) (?:still )?(?:left|there)|who(?:'s| is) still)\b")
# "when did we last touch them?": the account's last activity, unless the message points at the person.
_TOUCH = re.compile(r"\b(?:log\w*|touch\w*|hear\w*|heard|talk\w*|spoke|speak|contact\w*|interact\w*|engag\w*|"
                    r"met|meet\w*)\b.{0,30}\b(?:them|they|their|the account|the company|there|w/ them)\b|"
                    r"\b(?:them|they)\b.{0,20}\b(?:last )?(?:touch\w*|logged|contacted)\b|"
                    r"\blast touch\b|\blast activity\b")


def person_fields(low: str) -> list[str]:
    """The contact fields a message asks for, in its order ("her email + when did we last hear from her?")."""
    hits = sorted((m.start(), f) for pat, f in _FIELDS for m in [re.search(pat, low)] if m)
    return list(dict.fromkeys(f for _, f in hits))


def asks_person(low: str) -> bool:
    """Whether a message asks a field of a person it calls "her" or "him" ("his email?")."""
    return bool(_PERSON.search(low)) and bool(person_fields(low))


SIDE = re.compile(r"\b(?:their side|their end|on their part|the account'?s?|the company'?s?|the customer'?s?)\b")
_BACK = re.compile(r"\b(?:they|them|their|theirs|there|that|this|it|its|those|w/ them)\b")


def of_contact(low: str, rows: list[RowRef], sel: SelectRow | Unmatched | None, roles: list[str],
               by_name: bool = False) -> SelectRow | None:
    """A follow-up about a contact row (`sel`: the row the message picked among several): see `about`."""
    if not rows:
        return None
    picked = isinstance(sel, SelectRow) or len(rows) == 1
    row, how = (sel.row, sel.how) if isinstance(sel, SelectRow) else (rows[0], ONLY)
    if not picked and len({r["account_id"] for r in rows}) > 1:
        return None
    role_words = {w for r in roles for w in re.findall(r"[a-z]{3,}", r.lower())} - {"head", "the", "and", "of"}
    asked = about(low, row, role_words, how, by_name)
    if asked is not None and asked.about != "account" and not picked:
        return None  # "her email?" after several people of one account: which of them is asked again
    return asked


def about(low: str, row: RowRef, role_words: set[str], how: str, by_name: bool = False) -> SelectRow | None:
    """A contact row asked about: the person (with the fields asked) or the account; None when unsure.

    The message must point back (a pronoun, the person's name, "the account", the row's account named): a
    question of its own ("which of my accounts renew next month?") is not about this row. After a person asked
    about by name (`by_name`), "them" is that person.
    """
    how = how.removesuffix(" in the last answer")
    first = str(row.get("label") or "").split(" ")[0].lower()
    named = bool(first) and len(first) >= 3 and re.search(rf"\b{re.escape(first)}\b", low) is not None
    person = bool(_PERSON.search(low)) or named or by_name and not SIDE.search(low)
    if not (person or SIDE.search(low) or _BACK.search(low) or str(row.get("account", "")).lower() in low or
            len(low.split()) <= 3):
        return None
    fields = person_fields(low)
    if set(re.findall(r"[a-z]{3,}", low)) & role_words and not person:
        return None  # "and their admin?": another person at the account
    if person and fields:
        return SelectRow(row, how, fields=tuple(fields))
    if _ACCOUNT.search(low) or (_TOUCH.search(low) and not person and not fields):  # "hear from them": the person
        return SelectRow(row, f"the account of {row['label']}, {how}", about="account")
    if fields:  # "their email?", "what's the title?": a field only a person has
        return SelectRow(row, how, fields=tuple(fields))
    return None


_WORD = re.compile(r"\bthe ([a-z0-9][\w/.-]{1,24}(?: [a-z0-9][\w/.-]{1,24})?) (?:one|ticket|case|note|call|meeting|"
                   r"email|survey|response|milestone|step|job|fine-?tune|issue|outage)\b|"
                   r"\bthe (?:one|ticket|note|response|milestone|job) (?:about|mentioning|re|regarding) "
                   r"(?:the )?([a-z0-9][\w/.-]{1,24})\b")
_PLAIN = {"first", "second", "third", "last", "next", "other", "same", "new", "old", "open", "closed", "red", "green",
          "yellow", "big", "small", "high", "low", "latest", "newest", "oldest", "earliest", "biggest", "smallest",
          "worst", "best", "recent", "only", "right", "wrong", "that", "this", "urgent", "normal", "enterprise",
          "blocked", "failed", "pending", "done", "overdue", "late", "bad", "good", "lowest", "highest", "top",
          "most", "least", "fewest", "more", "less", "account", "customer", "previous", "earlier", "later", "whole",
          *(m.lower() for m in MONTHS), *(m.lower()[:3] for m in MONTHS)}
_KIND_OF = {"tickets": ("tickets",), "activities": ("activities",), "surveys": ("surveys",),
            "milestones": ("milestones",), "fine_tunes": ("fine_tunes",)}
_VERB_KIND = [(r"\b(?:filed|opened|raised|submitted|resolved|closed|fixed)\b", "tickets"),
              (r"\b(?:logged|wrote|written|said in)\b", "activities"), (r"\b(?:answered|responded)\b", "surveys"),
              (r"\b(?:due|completed|blocked)\b", "milestones"), (r"\b(?:ran|run|trained)\b", "fine_tunes")]
_RECORDS = ("tickets", "activities", "surveys", "milestones", "fine_tunes")
_DATE_OF = [(r"\b(?:filed|opened|raised|submitted|created)\b", "opened_at"), (r"\b(?:closed|resolved|fixed)\b",
                                                                             "closed_at")]


def record_word(text_said: str, rows: list[RowRef], entity: str) -> PickRecord | None:
    """"the 503 one" when none of the rows says 503: a record of the rows' accounts to find by that word.

    `distinct` when the word has a digit or was written in capitals ("the SSO one"): it may be found in a
    record's body too, not only in its name.
    """
    low = text_said.lower().replace("\u2019", "'")
    m = _WORD.search(low)
    if m is None or not rows:
        return None
    said = (m.group(1) or m.group(2) or "").strip()
    words = [w for w in re.findall(r"[a-z0-9][\w/.-]*", said) if w not in _PLAIN and not w.isdigit() and
             not re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", w) or w.isdigit() and len(w) >= 3]  # "the 2nd one": a place
    if not words or len(said.split()) > len(words) + 1:
        return None
    text = " ".join(" ".join([str(r.get("label", "")), str(r.get("account", ""))] +
                             [str(v) for v in r["values"].values() if isinstance(v, str)]) for r in rows).lower()
    if any(re.search(rf"(?<![a-z0-9]){re.escape(w)}", text) for w in words):
        return None  # a row says it: the usual pick finds it
    kind = _entity_of(low) or next((e for pat, e in _VERB_KIND if re.search(pat, low)), None)
    kinds = _KIND_OF.get(kind or "", tuple(e for e in _RECORDS if e != entity))
    fields = tuple(f for pat, f in _DATE_OF if re.search(pat, low))
    word = max(words, key=len)
    if picks.fields_named(word, entity if entity in ENTITIES else "accounts"):
        return None  # "the seats one": a field of the rows, not a record's words
    return PickRecord(word, kinds, fields, distinct=bool(re.search(r"\d", word)) or bool(
        re.search(rf"\b{re.escape(word.upper())}\b", text_said)))


# "what's it about?", "what's the issue there?", "details?": what a record says, not how the account is doing.
ABOUT = re.compile(r"\bwhat(?:'s|s| is| was| are| were)? (?:it|that|this|they|those|these|the (?:\w+ )?(?:one|ones|"
                   r"ticket|tickets))\s+(?:all )?about\b|\bwhat(?:'s|s| is| was| are)? the (?:issue|issues|problem|"
                   r"problems|complaint|story|ticket|tickets)\b|\bwhat(?:'s|s| is) (?:going on|wrong|the matter)\b|"
                   r"\bdetails?\b|\bmore (?:on|about) (?:it|that|this|them)\b|\bwhat (?:do|did) (?:it|they) say\b")
_OPEN = Filter(field="status", op="ne", value="closed")
_BY_COUNT = {"open_tickets": [_OPEN], "open_high_tickets": [_OPEN, Filter(field="priority", op="in",
                                                                            value=["high", "urgent"])]}
"""An account list's condition on its tickets, and the tickets it counts."""


def records_asked(low: str, q: Query | None, row: RowRef) -> Plan | None:
    """"the Acme one, what's the issue there?" after accounts with open tickets: those tickets, in their own words.

    Only when the list was of accounts chosen by their tickets; otherwise the account is asked about as usual.
    """
    if q is None or q.entity != "accounts" or not ABOUT.search(low):
        return None
    cond = next((f for f in [*q.filters, *([q.having] if q.having else [])] if f.field in _BY_COUNT), None)
    if cond is None:
        return None
    ref = {"account_id": row["account_id"], "name": row["account"]}
    kept = [f for f in q.filters if f.field == "priority"]  # a priority the list was narrowed by, if any
    query = Query(entity="tickets", account_ids=[row["account_id"]], filters=[*_BY_COUNT[cond.field], *kept],
                  fields=["subject", "priority", "status", "opened_at", "body"], sort=[Sort(field="opened_at",
                                                                                           desc=True)], limit=10)
    return Plan("lookup", f"{row['account']}: tickets", query, what="tickets", accounts=[ref])  # type: ignore[list-item]


_ROLE = re.compile(r"\b(?:champ(?:ion)?s?|sponsors?|buyers?|decision[- ]makers?|admins?|contacts?|who (?:do|can) we "
                   r"(?:talk|speak) to|point of contact)\b")  # an owner is the row's own when it has one (a step's)
_NEXT_RENEWAL = re.compile(r"\b(?:do|does|will) (?:they|it) renew|\brenew(?:s|ing)\b|\bnext renewal|up for renewal|"
                           r"\bcontract (?:end|up)\b")
_ASKS = re.compile(r"^\W*(?:and\s+)?(?:who|whos|who's|when|what|whats|what's|how|is|are|does|do|did|has|any|which)\b")


def asks_account(text_said: str, entity: str) -> bool:
    """Whether a part besides a pick asks about the picked row's account rather than the row itself.

    "the biggest one - who's the champion", "the 2nd one, when do they renew": a pick and a question in one message.
    """
    if entity == "accounts":
        return False
    low = text_said.lower().replace("\u2019", "'")
    parts = [p for p in re.split(r"\s+[-\u2013\u2014]+\s+|[,;:]\s*|\s*\?\s*|\s+and\s+(?=who|when|what|how)", low)
             if p.strip()]
    own = ENTITIES[entity].fields if entity in ENTITIES else {}
    for part in parts[1:]:
        if not _ASKS.search(part):
            continue
        if _ROLE.search(part) or (_NEXT_RENEWAL.search(part) and entity != "renewals" or
                                  re.search(r"\b(?:do|does|will) (?:they|it) renew|next renewal", part)):
            return True
        other = [f for f in picks.fields_named(part, "accounts") if f not in own and f != "account"]
        if other:
            return True
    return False
