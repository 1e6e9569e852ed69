"""What the conversation gives a request: the person it was about, the record it was about.

"draft her a note about the SSO issue" right after a turn about one contact goes to that contact;
"draft morgan a note" goes to the one Morgan at the thread's account; "send their admin a heads-up about
that ticket" after one ticket carries that ticket's subject into the draft's topic, cited.
"""

from __future__ import annotations

import re

from agents.state import AccountRef, Dialogue, RequestJSON
from tools import crm
from tools.query import ENTITIES

PRONOUN = re.compile(r"(?:^\s*(?:draft|write|compose|send|shoot|fire off|drop|e-?mail|mail|ping|message|msg|slack|"
                      r"dm|text)\s+|\b(?:to|for|with)\s+)(?:her|him)\b(?!\s+(?:\w+\s+)?(?:admin|champion|sponsor|"
                      r"exec\w*|boss|manager|team|contact|lead|engineer)s?\b)", re.I)
_FIRST = re.compile(r"^\s*(?:draft|write|compose|send|shoot|fire off|drop|e-?mail|mail|ping|message|msg|slack|dm|"
                    r"text)\s+([^\W\d_][\w'-]+)(?=\s+(?:an?|the|some|one|about|re|regarding|on|that|to say|asking|"
                    r"quick|short|brief)\b|\s*[,:]|\s*$)|"
                    r"^\s*(?:draft|write|compose|send|shoot|drop)\b.{0,40}?\b(?:to|for)\s+([^\W\d_][\w'-]+)"
                    r"(?=\s+(?:about|re|regarding|on|that|asking|telling|saying)\b|\s*[,:]|\s*$)", re.I)
_NOT_NAMES = {"her", "him", "them", "it", "me", "us", "the", "a", "an", "their", "our", "my", "his", "its", "out",
              "over", "up", "off", "someone", "everyone", "somebody", "champion", "admin", "owner", "team", "sponsor",
              "exec", "customer", "client", "account", "this", "that", "all", "each", "both", "another", "back"}
_THING = r"(?:ticket|issue|problem|one|job|run|fine-?tune|milestone|step|plan|renewal|response|note|call|meeting|email)"
_BACK = re.compile(rf"\b(?:(?:that|this|the) {_THING}|it|that|this)\b", re.I)
_ONLY = re.compile(rf"^(?:(?:that|this|the) )?{_THING}?$", re.I)  # "about that ticket": the record is the topic
_WORD = {"tickets": "ticket", "fine_tunes": "fine-tune", "milestones": "milestone", "plans": "onboarding plan",
         "renewals": "renewal", "surveys": "survey response", "activities": "activity"}


def lower_name(text: str) -> str | None:
    """A first name written in lower case where the recipient goes ("draft morgan a note", "a note to jo about")."""
    m = _FIRST.search(re.sub(r"^\s*(?:(?:hey|hi|ok|okay)\s+)?(?:retain\b[\s,:!-]*)?(?:(?:please|pls)\s+)?"
                             r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?", "", text, flags=re.I))
    word = (m.group(1) or m.group(2)) if m else None
    return word if word and word.lower() not in _NOT_NAMES and len(word) > 1 else None


def person(text: str, d: Dialogue | None) -> tuple[str, AccountRef] | None:
    """The one contact the last turn was about, when the request writes to "her" / "him"."""
    if not d or not PRONOUN.search(text) or d.get("entity") != "contacts":
        return None
    rows = d.get("rows") or []
    if len({r["id"] for r in rows}) != 1:
        return None  # several people shown: "her" is not known, the recipient is asked
    r = rows[0]
    return r["label"], {"account_id": r["account_id"], "name": r["account"]}


def subject(d: Dialogue | None) -> dict[str, str | int] | None:
    """The one record (a ticket, a fine-tune, a milestone ...) the last turn was about, as the request carries it."""
    entity = (d or {}).get("entity") or ""
    rows = (d or {}).get("rows") or []
    if entity not in _WORD or len(rows) != 1:
        return None
    r = rows[0]
    return {"entity": entity, "id": r["id"], "label": r["label"], "date": r.get("date") or "",
            "account_id": r["account_id"]}


def said(about: dict[str, str | int]) -> str:
    """The record in words: 'the ticket “Okta SSO failing” (opened 2026-11-11)'."""
    word, label, day = _WORD[str(about["entity"])], str(about["label"]), str(about["date"] or "")
    named = f"the {label} {word}" if about["entity"] in ("fine_tunes",) else f"the {word} \u201c{label}\u201d"
    return named + (f" of {day}" if day else "")


def topic_with(topic: str, raw: RequestJSON, account_id: int) -> tuple[str, crm.Source | None]:
    """The topic with the thread's record named where it points back at it ("about it", "re that ticket")."""
    about = raw.get("about")
    if not about or int(about["account_id"]) != account_id:
        return topic, None
    src = crm.src(ENTITIES[str(about["entity"])].source, about["id"], about["date"] or None, about["label"])
    m = _BACK.search(topic)
    if _ONLY.match(topic.strip()):
        return said(about), src
    if m is None:
        return topic, None
    if m.group(0).lower() in ("it", "that", "this"):
        return f"{topic[:m.end()]} ({said(about)}){topic[m.end():]}", src
    return f"{topic[:m.start()]}{said(about)}{topic[m.end():]}", src
