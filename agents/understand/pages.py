"""Paging a ranked list: "the next 3", "5 more", "the ones after that" (a `Reorder` with `page`)."""

from __future__ import annotations

import re

from agents.understand.edit_ops import Reorder
from agents.when import NUMBER_WORDS

_N = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r"|few|couple(?: of)?)"
_PAGE = re.compile(r"^\W*(?:(?:and|ok(?:ay)?|so|then|now|what about|how about|show me|give me|list|and show me)\s+)*"
                   r"(?:(?:the\s+)?next\s+" + _N + r"(?:\s+(?:ones?|accounts?|rows?|of them))?"
                   r"(?:\s+(?:after|below|down from|behind)\s+(that one|it|that|those|them|these))?|"
                   + _N + r"\s+more(?:\s+(?:ones?|accounts?|rows?|of them))?|"
                   r"the (?:ones|rest|next ones) (?:after|below) (that one|it|that|those|them|these))"
                   r"\s*(?:please|pls|too)?\W*$")


def page(low: str) -> Reorder | None:
    """"the next 3", "5 more", "and the next 2 after it", "the ones after that": the ranks after those shown.

    A bare follow-up only (a unit after the number is a window: "the next 3 months").
    """
    m = _PAGE.search(low)
    if not m:
        return None
    k = (m.group(1) or m.group(3) or "").replace(" of", "")
    n = int(k) if k.isdigit() else NUMBER_WORDS.get(k)
    after = m.group(2) or m.group(4) or ""
    return Reorder(None, n, page=True, after_first=after in ("it", "that one"), text=m.group(0).strip(" ?.!"))
