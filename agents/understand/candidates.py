"""A bare reply to Retain's own clarifying question: which of the offered candidates it picks.

After "“vandelay” matches several accounts: Vandelay Imports, Vandelay Industries. Which one do you mean?"
the thread keeps the question and its candidates (`agents.state.Pending`); "the second", "industries",
"the imports one" or the full name picks one, and the original question is asked again about it.
"""

from __future__ import annotations

import re

from agents.state import Pending, RowRef
from agents.understand import picks

_FILLER = {"i", "mean", "meant", "the", "one", "ones", "that", "this", "please", "pls", "oh", "sorry", "ok", "okay",
           "yes", "yeah", "no", "it", "its", "is", "was", "account", "customer", "company", "contact", "person",
           "guy", "lady", "of", "course", "obviously", "sure", "um", "uh", "a", "an", "at", "in", "for", "about",
           "with", "and", "talking", "asking", "re"}
_MAX_WORDS = 7  # longer than this is a new question, not a pick


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def choose(reply: str, candidates: list[str]) -> str | None:
    """The one candidate a short reply picks, by ordinal ("the second") or by its own words ("industries")."""
    low = reply.lower().strip()
    if len(candidates) < 2 or not low or len(_words(low)) > _MAX_WORDS:
        return None
    exact = [c for c in candidates if c.lower() == re.sub(r"^\W+|\W+$", "", low)]
    if exact:
        return exact[0]
    rows: list[RowRef] = [{"id": k, "account_id": k, "account": c, "label": c, "date": None, "values": {}}
                          for k, c in enumerate(candidates)]
    hit = picks.by_ordinal(low, rows)
    if hit is not None:
        return hit.row["label"]
    said = [w for w in _words(low) if w not in _FILLER]
    if not said:
        return None
    shared = set.intersection(*(set(_words(c)) for c in candidates))  # "vandelay": names every candidate
    own = [w for w in said if w not in shared]
    if not own:
        return None

    def has(c: str, w: str) -> bool:
        return any(t == w or len(w) >= 3 and t.startswith(w) for t in _words(c))

    fits = [c for c in candidates if all(has(c, w) for w in own)]
    return fits[0] if len(fits) == 1 else None


def asked_again(p: Pending, chosen: str) -> str:
    """The original question with the ambiguous name replaced by the chosen candidate."""
    typed = re.sub(r"^(?:s|'s|\u2019s)\s+", "", p["text"].strip())
    typed = re.sub(r"(?:\s+s|'s|\u2019s|'|\u2019)$", "", typed).strip() or p["text"]
    q = p["question"]
    m = re.search(re.escape(typed), q, re.I)
    if m is None:
        return f"{q} ({chosen})"
    return q[:m.start()] + chosen + q[m.end():]
