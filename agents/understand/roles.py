"""A contact asked for by role at one account: "who's the IT admin at Hooli?", "technical contact there?".

A role is said in the CSM's words ("it admin", "IT person", "sysadmin", "tech contact", "engineer", "procurement",
"purchasing", "finance person") and read as a kind of contact; the CRM titles that fill it are found among the
CRM's own titles (`tools.contacts.titles_for`), so the answer is the contacts holding those titles. A title's own
words ("ML engineer", "director of operations") are read as that title. No contact of the account holds such a
title: the answer says so and names who is there (`ROLE_MARK` tells the query agent to).
"""

from __future__ import annotations

import re

from agents.state import AccountRef
from agents.understand.model import Plan
from tools.contacts import titles_for
from tools.query import Filter, Query

# (what the CSM says, the role in `tools.contacts`, how the answer says it)
_ROLES: list[tuple[str, str, str]] = [
    (r"\b(?:it|sys(?:tems?)?|platform)\s*admin(?:istrator)?s?\b|\bsysadmins?\b|\badmin(?:istrator)?s?\b|"
     r"\bit (?:person|guy|contact|lead|manager|team|side|dept|department|folks|people|owner|poc)\b",
     "admin", "IT admin"),
    (r"\btech(?:nical)?\s+(?:contact|lead|person|poc|owner|side|folks|people|buyer)\b|\btechnical\b|"
     r"\bengineers?\b|\bdevelopers?\b|\bdevs?\b|\barchitects?\b",
     "technical", "technical contact"),
    (r"\bprocurement\b|\bpurchasing\b|\bsourcing\b|\bvendor management\b|"
     r"\b(?:finance|billing|accounts payable|ap)\s+(?:contact|person|people|team|side|folks|lead)\b|"
     r"\b(?:in|from) (?:finance|billing)\b",
     "procurement", "procurement or finance contact"),
]
_ASKS = re.compile(r"\bwho\b|\bwhom\b|\bcontacts?\b|\bname of\b|\bwhich (?:one|person|contact|of them)\b|"
                   r"\b(?:any(?:one|body)?|some(?:one|body)|a|an)\b.{0,20}\b(?:there|at|for|on)\b|"
                   r"\b(?:do|did) we (?:have|know|got)\b|\bis there\b|\bhave we got\b|"
                   r"^\W*(?:and |so |ok )?(?:their|the|an?|any|its)?\s*[a-z ]{2,30}(?:\s+(?:there|here))?\W*$")
_TITLE_ASKS = re.compile(r"\bwho\b|\bcontact\b|\bname of\b|\bwhich (one|person|contact|of them)\b|"
                         r"^\W*(and )?(their|the) [a-z ]{2,30}\?*$")
"""A title's own words ask for a person only so ("who's the ML engineer there?", "their director of ops?")."""
_NOT_A_PERSON = re.compile(r"\b(?:review|process|step|issue|ticket|question|approval|sign-?off|cycle|freeze|"
                           r"delay|hold|blocker|problem|debt|docs?|documentation|call|meeting)\b")


def said_role(low: str) -> tuple[str, str, str] | None:
    """The role a message asks a contact for: (role, the words said, how the answer names it), if any."""
    for pat, role, name in _ROLES:
        m = re.search(pat, low)
        if m is not None:
            return role, m.group(0), name
    return None


def by_role(low: str, account: AccountRef, roles: list[str]) -> list[Plan]:
    """"who's the IT admin at Cyberdyne?": the account's contacts whose CRM title fills the role asked."""
    said = said_role(low) if _ASKS.search(low) else None
    if said is not None and not _NOT_A_PERSON.search(low[low.find(said[1]) + len(said[1]):][:25]):
        role, said_words, name = said
        titles = titles_for(role, roles)
        q = Query(entity="contacts", account_ids=[account["account_id"]], fields=["name", "role", "email", "left_on"],
                  filters=[Filter(field="role", op="in", value=titles)])
        return [Plan("lookup", f"{account['name']}: {said_words}", q, what=name, accounts=[account])]
    if not _TITLE_ASKS.search(low):
        return []
    words = {w for r in roles for w in re.findall(r"[a-z]{2,}", r.lower())} - {"of", "and", "the", "head"}
    hits = [w for w in re.findall(r"[a-z]{2,}", low) if (w in words or w.rstrip("s") in words) and
            (w != "it" or re.search(r"\bit (?:admin|manager|lead|director|ops|head|person|contact)", low))]
    hit = max(hits, key=len) if hits else None  # "IT admin": the telling word, not "it"
    if hit is None:
        return []
    q = Query(entity="contacts", account_ids=[account["account_id"]], fields=["name", "role", "email", "left_on"],
              filters=[Filter(field="role", op="contains", value=hit.rstrip("s") if hit not in words else hit)])
    return [Plan("lookup", f"{account['name']}: {hit}", q, what=f"contacts with '{hit}' in their title",
                 accounts=[account])]


_HEALTH = re.compile(r"\bhealth(?:\s+score)?\b|\bhow healthy\b|\bwhat band\b")


def with_health(low: str, account: AccountRef, found: list[Plan]) -> list[Plan]:
    """"ARR and health for Acme": the fields asked, and its health beside them.

    Health asked alone is the health agent's (drivers, alerts); beside another field it is one more field.
    """
    shown = any(p.query is not None and p.query.entity == "accounts" and "health" in p.query.fields for p in found)
    if not found or len(found) >= 3 or not _HEALTH.search(low) or shown:
        return found
    q = Query(entity="accounts", account_ids=[account["account_id"]], fields=["health", "band"])
    return [*found, Plan("lookup", f"{account['name']}: health", q, what="health", accounts=[account])]
