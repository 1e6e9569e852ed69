"""Matching a typed account name to the CRM's names: on its distinctive words, never on a generic suffix.

"Nonexistent Corp" shares only "Corp" with "Acme Corp": a generic word (a legal form or an industry
word such as Corp, Inc, Health, Labs, Software) says nothing about which company is meant, so it can
neither make a match nor, alone, be one. It still tells apart names whose distinctive words agree
("Blue Labs" and "Blue Health"): candidates are ranked by the whole name.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

GENERIC = frozenset("""
    corp corporation inc incorporated llc ltd limited co company companies gmbh plc ag sa bv holdings group
    international global the and of labs lab health healthcare software systems technologies technology tech
    solutions services industries analytics logistics financial insurance retail energy media legal robotics
    bank biotech foods telecom travel learning security capital motors games realty pharma networks partners
    mobility studios outfitters clinics airlines freight data cloud ai devices markets works
""".split())


def distinctive(name: str) -> str:
    """The name's words that are not generic, normalised ("" when every word is generic)."""
    return " ".join(w for w in utils.default_process(name).split() if w not in GENERIC)


def candidates(query: str, names: dict[int, str], cutoff: float) -> list[tuple[str, float, int]]:
    """Names whose distinctive words match the query's (WRatio >= cutoff), best first by the whole name.

    Each is (name, score of the whole name, id); at most five. None when the query has no distinctive word.
    """
    core = distinctive(query)
    if not core:
        return []
    cores = {i: distinctive(n) or utils.default_process(n) for i, n in names.items()}
    ok = [i for _, _, i in process.extract(core, cores, scorer=fuzz.WRatio, score_cutoff=cutoff, limit=None)]
    scored = [(names[i], fuzz.WRatio(query, names[i], processor=utils.default_process), i) for i in ok]
    return sorted(scored, key=lambda m: (-m[1], m[0]))[:5]


def closest(query: str, names: list[str], limit: int = 3) -> list[str]:
    """The names nearest the query's distinctive words, for a "did you mean" (no cutoff)."""
    core = distinctive(query) or utils.default_process(query)
    if not core or not names:
        return []
    cores = [distinctive(n) or utils.default_process(n) for n in names]
    return [names[i] for _, _, i in process.extract(core, cores, scorer=fuzz.WRatio, limit=limit)]
