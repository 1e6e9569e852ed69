"""Who or what a follow-up is about: a corrected account, another person named, another CSM's or team's scope.

"no, Umbrella not Hooli", "not Hooli, Umbrella", "I meant Umbrella": the subject is replaced, the account said
after "not" dropped. "and Riley's email?" after a contact was shown: a person of the conversation's accounts (or
the asker's scope) named by first name is the new subject. "what about Noah's team, same thing" after a pick:
the list the thread built, for that team (the router re-runs it, access re-checked).
"""

from __future__ import annotations

import re

from agents.state import AccountRef

# A word (or words) said just before an account that takes it out: "not Hooli", "instead of Hooli".
_NOT = re.compile(r"(?:\bnot|n't|\binstead of|\brather than|\bother than|\bbut not|\bnot for|\bnot at|\bnot about)"
                  r"\s+(?:the\s+)?$")
_WRONG = re.compile(r"^\s*(?:was|is|'s|were)?\s*(?:wrong|the wrong one|a mistake|my bad)\b")


def _mentions(low: str, name: str) -> list[re.Match[str]]:
    """Where the message says an account: its name, or its first word when that is distinctive."""
    words = [name.lower()] + ([name.lower().split()[0]] if len(name.split()[0]) >= 4 else [])
    for w in words:
        found = list(re.finditer(rf"\b{re.escape(w)}(?:'s)?\b", low))
        if found:
            return found
    return []


def negated(low: str, account: AccountRef) -> bool:
    """Whether the message takes this account out ("umbrella not hooli", "hooli is wrong, umbrella")."""
    return any(_NOT.search(low[:m.start()]) or _WRONG.match(low[m.end():]) for m in _mentions(low, account["name"]))


def kept(low: str, named: list[AccountRef]) -> list[AccountRef]:
    """The named accounts a correction keeps: every one the message does not take out (all, if it took all)."""
    out = [a for a in named if not negated(low, a)]
    return out or list(named)
