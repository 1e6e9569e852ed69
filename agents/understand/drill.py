"""Drilling into one group of a grouped answer: "lowest one - show me their 3 worst accounts", "list his"."""

from __future__ import annotations

import re
from datetime import date

from agents.understand.edit_ops import DrillGroup, Edit, Reorder, SetFilters, ShowFields, SwitchEntity
from agents.understand.edit_words import _entity_of, _filters
from agents.understand.model import Plan
from agents.understand.vocabulary import Vocabulary
from agents.when import NUMBER_WORDS
from tools.query import ENTITIES, Sort

_GROUPS = ("owner", "team", "segment", "industry")
_PICK = re.compile(r"\b(?:the\s+)?(lowest|highest|worst|best|weakest|strongest|top|bottom|biggest|smallest|most|"
                   r"least)\s+(?:one|team|csm|owner|person|rep|group|segment)\b|"
                   r"\b(?:whoever|who)(?:'s| is)\s+(lowest|highest|worst|best|top|bottom)\b")
_LOW = ("lowest", "worst", "weakest", "bottom", "smallest", "least")
_THEIRS = re.compile(r"\b(?:his|hers|her|their|theirs|that (?:csm|team|owner|person|rep)'s)\b")
_OWN = re.compile(r"\b(?:his|her|their|that (?:csm|team|owner|person|rep)'s)\s+(?:\d+\s+)?(?:\w+\s+)?(?:accounts|book|"
                  r"ones|customers|list|renewals|tickets|contacts|champions|notes|meetings|calls|activities|plans|milestones|"
                  r"surveys|fine[- ]?tunes)\b")
_PAST = re.compile(r"histor|\bpast\b|previous|prior|\blast\b|\bwent\b|outcomes?|renewed|churned")
_LIST = re.compile(r"\b(?:list|show|see|give|accounts|ones|book|customers|which|what are)\b")
_N = r"(\d{1,2}|" + "|".join(w for w in NUMBER_WORDS if w not in ("a", "an")) + r")"
_RANKED = re.compile(r"\b" + _N + r"\s+(worst|lowest|weakest|unhealthiest|best|highest|healthiest|biggest|largest|"
                     r"smallest)\b")


def drill_of(low: str, prev: Plan) -> list[Edit]:
    """The group a follow-up drills into and the order it asks for; [] when it does not drill into a group.

    Only after an answer grouped by owner, team, segment or industry, and only when the message asks for the rows
    ("list", "show", "accounts") of a group it points at by rank ("the lowest one") or by pronoun ("his").
    """
    if prev.query is None or prev.query.group_by not in _GROUPS or not (_LIST.search(low) or _entity_of(low)):
        return []
    pick = _PICK.search(low)
    if pick is None and not (_THEIRS.search(low) and (len(low.split()) <= 4 or _OWN.search(low))):
        return []  # "show me hers", "and their accounts?"; not "show me their renewal dates"
    word = (pick.group(1) or pick.group(2)) if pick else ""
    out: list[Edit] = [DrillGroup("min" if word in _LOW else "max" if word else "first", pick.group(0) if pick
                                  else _THEIRS.search(low).group(0))]  # type: ignore[union-attr]
    ranked = _RANKED.search(low)
    if ranked:  # "their 3 worst accounts": that many, in that order
        k = ranked.group(1)
        n = int(k) if k.isdigit() else NUMBER_WORDS[k]
        money = ranked.group(2) in ("biggest", "largest", "smallest")
        field = "arr" if money else "health"
        desc = ranked.group(2) in ("best", "highest", "healthiest", "biggest", "largest")
        if prev.query.entity == "accounts":
            out.append(Reorder(Sort(field=field, desc=desc), n))
    return out


def drill_narrowed(rest: str, prev: Plan, today: date, vocab: Vocabulary, asker: str) -> list[Edit]:
    """What a drill-down says beside the group ("his red accounts", "her at-risk renewals").

    The group's rows of that kind, narrowed by those filters (the group's own key is the drill's, never replaced).
    """
    if prev.query is None:
        return []
    switch = _entity_of(rest)
    ahead = switch == "renewals" and not _PAST.search(rest)  # "her at-risk renewals": her accounts' next renewals
    entity = switch if switch is not None and switch != "accounts" and not ahead else prev.query.entity
    found, said = _filters(rest, entity, today, vocab, asker)
    keep = [f for f in found if f.field != prev.query.group_by and f.field not in ("owner", "team")]
    out: list[Edit] = [SwitchEntity(entity)] if entity != prev.query.entity and entity in ENTITIES else []
    out += [SetFilters(keep, said)] if keep else []
    if ahead and prev.query.entity == "accounts":
        out += [Reorder(Sort(field="renewal_date"), None), ShowFields(["renewal_date"])]
    return out
