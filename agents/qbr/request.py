"""Whether a message asks for a QBR deck ("make me a QBR deck for Acme"), and for which account."""

from __future__ import annotations

import re

_ASK = re.compile(
    r"\b(?:make|build|create|generate|prepare|put together|draft|give|send|get)\b(?:\s+me)?\s+"
    r"(?:an?\s+|the\s+)?(?:(?:qbr|ebr|quarterly business review|business review)\s+)?"
    r"(?:deck|slides?|slide deck|presentation|pptx|powerpoint)\b"
    r"(?:\s+for\s+(?P<name>.+?))?"
    r"(?:\s+(?:(?:for|in|of)\s+)?(?P<quarter>(?:\d{4}\s*-?\s*q[1-4])|(?:q[1-4]\s*-?\s*\d{4})))?\s*[.?!]*$", re.I)
_DECK_WORDS = re.compile(r"\b(qbr|ebr|business review)\b", re.I)
_POSSESSIVE = re.compile(r"^(?P<name>.+?)'s\s+(?:qbr|ebr|business review)\s*$", re.I)


def deck_request(text: str) -> dict[str, str | None] | None:
    """{'account': the name as typed, 'quarter': '2026Q4' or None} for a deck request, else None.

    Only a request that names a QBR/EBR/business review and a deck (slides, presentation) counts:
    "prep me for Acme's QBR" is a question for the agents, not a file.
    """
    low = re.sub(r"<@[UW][A-Z0-9]+>", "", text).strip()
    m = _ASK.search(low)
    if not m or not _DECK_WORDS.search(low):
        return None
    name = (m.group("name") or "").strip()
    name = re.sub(r"^(?:the\s+)?(?:qbr|ebr|business review)\s+(?:with|of|for)\s+", "", name, flags=re.I)
    name = re.sub(r"\s+(?:qbr|ebr|business review)$", "", name, flags=re.I).removesuffix("'s").strip(" '\"")
    poss = _POSSESSIVE.match(name)
    if poss:
        name = poss.group("name")
    quarter = re.sub(r"\s|-", "", m.group("quarter")).upper() if m.group("quarter") else None
    return {"account": name or None, "quarter": quarter}
