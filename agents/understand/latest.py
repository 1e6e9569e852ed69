"""The latest record of a kind on one account, dated by the verb asked: "when did they last open a ticket?".

The verb ties the date field (opened/filed/raised: `opened_at`, closed/resolved: `closed_at`, ran/started:
`created_on`, logged: `occurred_on`, answered: `responded_on`, completed: `completed_date`). Every status
counts: the last ticket they opened may be closed since, so the answer is never the count of open ones.
"""

from __future__ import annotations

import re

from agents.state import AccountRef
from agents.understand.model import Plan
from tools.query import ENTITIES, Filter, Query, Sort

_NOUNS: list[tuple[str, str]] = [  # (noun pattern, entity)
    (r"tickets?|cases?|issues?|support requests?|escalations?|bugs?", "tickets"),
    (r"fine[- ]?tun\w*|training (?:jobs?|runs?)|jobs?", "fine_tunes"),
    (r"surveys?|nps|csat|survey responses?|responses?", "surveys"),
    (r"milestones?|onboarding steps?|steps?", "milestones"),
    (r"notes?|calls?|meetings?|emails?|activit(?:y|ies)|touchpoints?|qbrs?|syncs?|check-?ins?|anything|something",
     "activities"),
]
_NOUN = "|".join(f"(?:{p})" for p, _ in _NOUNS)
_VERB = r"[a-z]+(?: (?:up|off|in|out))?"
# "when did they last open a ticket", "when was the last time we logged a note", "how long since they last ran a job"
_ASK = re.compile(r"\b(?:when did|when was the last time|last time|how long (?:has it been )?since|when have)\b"
                  r"[\w' ]{0,30}?\blast\s+(?P<verb>" + _VERB + r")\s+(?:a|an|any|the|their|one|some|us a|us an)?\s*"
                  r"(?:new |fresh |support |onboarding )?(?P<noun>" + _NOUN + r")\b|"
                  r"\b(?:when was the last time|last time)\b[\w' ]{0,30}?\b(?:they|we|you|i|anyone|someone)\s+"
                  r"(?P<verb2>" + _VERB + r")\s+(?:a|an|any|the|their|one|some|us a|us an)?\s*"
                  r"(?:new |fresh |support |onboarding )?(?P<noun2>" + _NOUN + r")\b|"
                  r"\bwhen (?:was|were) (?:their|the|its|our) (?:last|latest|most recent) (?P<noun3>" + _NOUN +
                  r")\s+(?P<verb3>" + _VERB + r")\b|"
                  r"\b(?:their|the|its|the account'?s|the company'?s) (?:last|latest|most recent|newest) "
                  r"(?P<noun4>tickets?|cases?|fine[- ]?tun\w*|survey responses?|surveys?|nps|csat)\b"
                  r"(?! (?:\w+ )?(?:by|of|first)\b)")
_KINDS = {"note": "note", "call": "call", "meeting": "meeting", "email": "email", "qbr": "meeting", "sync": "meeting",
          "check": "meeting"}
_VERB_FIELD: dict[str, list[tuple[str, str]]] = {  # entity -> (verb pattern, date field); first match wins
    "tickets": [(r"^(?:clos|resolv|fix|solv)", "closed_at"), (r".", "opened_at")],
    "milestones": [(r"^(?:complet|finish|hit|reach|clos|do|did|don)", "completed_date"), (r".", "due_date")],
    "fine_tunes": [(r".", "created_on")], "surveys": [(r".", "responded_on")], "activities": [(r".", "occurred_on")],
}
_NOT_VERBS = {"week", "month", "year", "quarter", "time", "few", "two", "three"}


def asks(low: str) -> bool:
    """Whether a message asks when a record of some kind was last opened, logged, run..."""
    m = _ASK.search(low)
    return m is not None and (m.group("verb") or m.group("verb2") or m.group("verb3") or "") not in _NOT_VERBS


def latest(low: str, account: AccountRef) -> Plan | None:
    """The newest record of the kind asked, by the date its verb names, any status; None if not asked that way."""
    m = _ASK.search(low)
    if m is None:
        return None
    verb = m.group("verb") or m.group("verb2") or m.group("verb3") or "opened"
    noun = m.group("noun") or m.group("noun2") or m.group("noun3") or m.group("noun4") or ""
    if verb in _NOT_VERBS:
        return None
    entity = next(e for p, e in _NOUNS if re.fullmatch(p, noun))
    field = next(f for p, f in _VERB_FIELD[entity] if re.search(p, verb))
    spec = ENTITIES[entity]
    filters = [Filter(field=field, op="not_null")]
    kind = next((k for w, k in _KINDS.items() if noun.startswith(w)), None)
    if entity == "activities" and kind:
        filters.append(Filter(field="kind", value=kind))
    if entity == "surveys" and noun in ("nps", "csat"):
        filters.append(Filter(field="kind", value=noun))
    label = spec.label_field
    extra = {"tickets": ["priority", "status", "opened_at", "closed_at", "body"], "activities": ["kind", "author"],
             "fine_tunes": ["status", "eval_score", "loss_summary"], "surveys": ["kind", "score", "comment"],
             "milestones": ["status", "due_date", "completed_date"]}[entity]
    fields = list(dict.fromkeys([field, label, *extra]))
    q = Query(entity=entity, account_ids=[account["account_id"]], fields=fields,  # type: ignore[arg-type]
              filters=filters, sort=[Sort(field=field, desc=True)], limit=1)
    survey = f"{noun.upper()} response" if entity == "surveys" and noun in ("nps", "csat") else "survey response"
    word = {"fine_tunes": "fine-tune", "activities": kind or "activity", "surveys": survey}.get(entity, entity[:-1])
    said = _said(field)
    return Plan("lookup", f"{account['name']}: latest {word} {said}", q, what=f"latest {word} {said}",
                accounts=[account])


def _said(field: str) -> str:
    return {"opened_at": "opened", "closed_at": "closed", "created_on": "started", "occurred_on": "logged",
            "responded_on": "answered", "completed_date": "completed", "due_date": "due"}.get(field, field)
