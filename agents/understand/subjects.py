"""Who or what a follow-up is about: a corrected account, another person named, another CSM's or team's scope.

"no, Umbrella not Hooli", "not Hooli, Umbrella", "I meant Umbrella": the subject is replaced, the account said
after "not" dropped. "and Riley's email?" after a contact was shown: a person of the conversation's accounts (or
the asker's scope) named by first name is the new subject. "what about Noah's team, same thing" after a pick:
the list the thread built, for that team (the router re-runs it, access re-checked).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from agents.state import AccountRef, Dialogue, RowRef
from agents.understand.edit_apply import prev_shape
from agents.understand.edit_ops import Edit, Resubject, SwitchPerson
from agents.understand.model import Plan
from agents.understand.phrases import LEXICON
from agents.understand.row_asks import person_fields
from agents.understand.vocabulary import Vocabulary
from tools.query import Filter

# A word (or words) said just before an account that takes it out: "not Hooli", "instead of Hooli".
_NOT = re.compile(r"(?:\bnot|n't|\binstead of|\brather than|\bother than|\bbut not|\bnot for|\bnot at|\bnot about)"
                  r"\s+(?:the\s+)?$")
_WRONG = re.compile(r"^\s*(?:was|is|'s|were)?\s*(?:wrong|the wrong one|a mistake|my bad)\b")


_CORRECTED = re.compile(r"\b(i meant|meant|no|nope|not|wait|oops|actually|sorry|instead|rather|what about|how about|"
                        r"same for|and for|and|wrong (?:one|account|customer)|i mean|make (?:it|that)|try|switch to|"
                        r"for)\b")
_LEXICON = set(LEXICON)


def resubject(low: str, d: Dialogue, prev: Plan | None, named: list[AccountRef],
              fresh: Plan | None) -> list[Edit] | None:
    """Accounts named that are not the last answer's subject: the same question of them (a correction), or [].

    [] when the message is a new question about them; None when the caller reads on (a row of the last list named).
    """
    keep = kept(low, named)
    if fresh is not None and prev is not None and fresh.shape == "lookup" == prev.shape and fresh.what != prev.what \
            and fresh.what not in ("record", "person"):
        return []  # "arr and health for Umbrella" after Hooli's champion: its own question of Umbrella
    if _CORRECTED.search(low) and (prev is None or prev.shape in ("lookup", "metric", "compare") or d.get("intents")) \
            and len(low.split()) <= 8 and (fresh is None or fresh.shape == prev_shape(prev) or len(keep) < len(named)):
        if prev is None or prev.shape != "compare":
            return [Resubject(keep)]  # "umbrella not hooli": Hooli out, Umbrella the subject
    ids = [a["account_id"] for a in named]
    return None if any(r["account_id"] in ids for r in d.get("rows") or []) else []


def person_switch(low: str, d: Dialogue, prev: Plan | None, vocab: Vocabulary) -> SwitchPerson | None:
    """After a contact was shown, another person the message names (see `person_named`)."""
    if prev is None or prev.query is None or prev.query.entity != "contacts" or not d.get("rows"):
        return None
    return person_named(low, d.get("rows") or [], (d.get("base") or {}).get("rows") or [], vocab.people, vocab.csms,
                        _LEXICON)


def _mentions(low: str, name: str, shortest: int = 4) -> list[re.Match[str]]:
    """Where the message says a name: whole, or its first word when that is distinctive (a CSM's first name)."""
    words = [name.lower()] + ([name.lower().split()[0]] if name.split() and len(name.split()[0]) >= shortest else [])
    for w in words:
        found = list(re.finditer(rf"\b{re.escape(w)}(?:'s)?\b", low))
        if found:
            return found
    return []


def negated(low: str, account: AccountRef) -> bool:
    """Whether the message takes this account out ("umbrella not hooli", "hooli is wrong, umbrella")."""
    return any(_NOT.search(low[:m.start()]) or _WRONG.match(low[m.end():]) for m in _mentions(low, account["name"]))


def without_negated(low: str, filters: list[Filter]) -> list[Filter]:
    """Filters without the values the message takes out: "the west team, not the east team" is West only."""
    out = []
    for f in filters:
        values = f.value if isinstance(f.value, list) else [f.value]
        if f.op not in ("eq", "in") or not all(isinstance(v, str) for v in values):
            out.append(f)
            continue
        keep = [v for v in values if not any(_NOT.search(low[:m.start()]) for m in _mentions(low, str(v), 3))]
        if keep and len(keep) < len(values):
            f = Filter(field=f.field, value=keep[0]) if len(keep) == 1 else f.model_copy(update={"value": keep})
        if keep:
            out.append(f)
    return out


def kept(low: str, named: list[AccountRef]) -> list[AccountRef]:
    """The named accounts a correction keeps: every one the message does not take out (all, if it took all)."""
    out = [a for a in named if not negated(low, a)]
    return out or list(named)


NAMED = "named in the message"
"""How a person named by first name is picked (the reading line names the person; no "picked" line)."""
_PLAIN_WORDS = {"and", "the", "what", "whats", "about", "how", "who", "whos", "his", "her", "hers", "him", "she",
                "their", "them", "they", "this", "that", "one", "email", "mail", "phone", "title", "role", "job",
                "still", "there", "here", "last", "when", "did", "does", "was", "is", "are", "for", "with", "same",
                "thing", "also", "too", "then", "ok", "okay", "now", "number", "address", "contact", "engaged",
                "hear", "heard", "from", "our", "any", "all", "each", "where", "which", "why", "team"}


def _first(name: str) -> str:
    return name.split()[0].lower().translate(str.maketrans("áàäâéèëêíìïîóòöôúùüûñç", "aaaaeeeeiiiioooouuuunc"))


def _last_is(said: str, name: str) -> bool:
    """Whether a word is (the start of) this person's last name ("and elena adeyemi?")."""
    last = _first(name.split()[-1])
    return len(said) >= 3 and last.startswith(_first(said)[:max(3, min(len(said), len(last)))])


def person_named(low: str, rows: list[RowRef], others: list[RowRef], people: list[str], csms: list[str],
                 lexicon: set[str]) -> SwitchPerson | None:
    """Another contact named by first name after a contact was shown ("and riley's email?", "what about Sofia?").

    The person is looked for among the conversation's people (`rows`, then the list they came from, `others`),
    then among every contact (the query layer keeps the asker's scope). None when the message names no one new:
    the person shown, a CSM, an account's word or a plain word are not a new person.
    """
    current = {_first(r["label"]) for r in rows if r.get("label")}
    taken = {_first(c) for c in csms} | {w for r in [*rows, *others]
                                         for w in re.findall(r"[a-z]+", r["account"].lower())}
    words = re.findall(r"[a-z][a-z'\-]+", low.replace("\u2019", "'"))
    fields = tuple(person_fields(low)) or ("role", "email", "last_engaged")
    seen = list({r["label"]: r for r in [*rows, *others] if r.get("label")}.values())
    for k, raw in enumerate(words):
        word = re.sub(r"'s?$", "", raw)
        if len(word) < 3 or word in _PLAIN_WORDS or word in taken:
            continue
        rest = re.sub(r"'s?$", "", words[k + 1]) if k + 1 < len(words) else ""
        strict = word in current  # "elena adeyemi" while Elena Nguyen is shown: another Elena, by her last name
        if strict and any(_first(r["label"]) == word and _last_is(rest, r["label"]) for r in rows):
            continue  # the person shown
        hits = [r for r in seen if fuzz.ratio(word, _first(r["label"])) >= 85 and r not in (rows if strict else [])]
        lasts = [r for r in hits if _last_is(rest, r["label"])]
        hits = lasts if strict or lasts else hits  # a person of the conversation's accounts: all its namesakes
        if not hits and (word in lexicon or not (raw.endswith("'s") or strict or re.search(
                rf"\b(?:about|and|for|is|was|to|of|from|with)\s+{re.escape(raw)}\b", low))):
            continue  # anyone in the CRM only when said as a name is: "riley's", "and riley?"
        names = [p for p in people if " " in p and fuzz.ratio(word, _first(p)) >= 85]
        lasts_ = [p for p in names if _last_is(rest, p)]
        names = lasts_ if strict or lasts_ else names
        names = [p for p in names if all(p != r["label"] for r in rows)] if strict else names
        if names:  # looked up at the conversation's accounts first (`local`: only there), then in scope
            return SwitchPerson(word, tuple(dict.fromkeys(names)), fields, bool(hits))
    return None
