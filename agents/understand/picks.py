"""Which row of the last answer a follow-up points at, and which of its fields a follow-up names.

Read from the rows themselves, not from sentences: an ordinal ("the second"), a comparative or
superlative on any field the rows carry ("the newer one", "the one with the most seats", "lowest
health"), a value one row has and the others do not ("the closed one", "the enterprise one"), a
month or a date ("the July one", "Oct 29"), a name. Field words come from the query layer's own
field names and labels, plus a few synonyms CSMs use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.state import RowRef
from agents.when import MONTHS
from tools.query import ENTITIES, Filter

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
             "5th": 4, "sixth": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1, "top": 0,
             "penultimate": -2, "second to last": -2, "second-to-last": -2, "second last": -2}
_NTH = r"(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|seventh|eighth|ninth|tenth|last|penultimate|" \
       r"second[- ]to[- ]last|second last)"
ORD = re.compile(r"(?:\bthe\s+" + _NTH + r"\b|\b" + _NTH + r"\s+(?:one|row|item|account|customer|ticket|renewal|"
                 r"response|survey|milestone|contact|fine-?tune|note|meeting|plan|entry|line|job|step)\b|"
                 r"^\W*(?:and\s+)?(?:what about\s+|how about\s+)?(?:the\s+)?" + _NTH + r"(?:\s+one)?\W*$)"
                 r"(?!\s+(?:\d|few|two|three|week|month|quarter|year|day|half|time|meeting|call|touch))|"
                 r"#\s?(\d{1,2})\b|\bnumber (\d{1,2})\b|\bno\.\s?(\d{1,2})\b|\b(?:row|item|line) (\d{1,2})\b")

# Comparatives and superlatives, by what they measure: a date, an amount, a score.
_DATE_HI = ("newer", "newest", "latest", "most recent", "more recent", "later", "recent")
_DATE_LO = ("older", "oldest", "earlier", "earliest", "first filed", "first opened", "most overdue", "longest overdue",
            "most late", "furthest behind", "longest open", "longest running", "been open the longest",
            "sitting longest", "sitting the longest", "waiting longest", "waiting the longest", "open longest",
            "open the longest", "been around longest", "aged longest")
_MONEY_HI = ("bigger", "biggest", "larger", "largest", "most valuable", "more valuable", "worth the most",
             "worth more", "pricier", "priciest", "most expensive", "more expensive", "top")
_MONEY_LO = ("smaller", "smallest", "least valuable", "less valuable", "worth the least", "worth less", "cheaper",
             "cheapest", "tiniest")
_SCORE_HI = ("better", "best", "higher", "highest", "healthiest", "happiest")
_SCORE_LO = ("worse", "worst", "lower", "lowest", "least healthy", "unhealthiest", "sickest", "unhappiest")
_ADJ = sorted(_DATE_HI + _DATE_LO + _MONEY_HI + _MONEY_LO + _SCORE_HI + _SCORE_LO, key=len, reverse=True)
_BY_FIELD = re.compile(r"\b(most|least|highest|lowest|biggest|smallest|largest|fewest|greatest|max(?:imum)?|"
                       r"min(?:imum)?|more|less|fewer|higher|lower|bigger|smaller)\s+(?!by\b|than\b|of\b)"
                       r"([a-z(][a-z()0-9_ ]{1,30})")
_MONEY = ("arr", "arr_before", "arr_after", "contract_value", "spend_30d", "spend")
_URGENCY = {"low": 0, "normal": 1, "medium": 1, "high": 2, "urgent": 3, "critical": 4}  # "the worst" ticket
_SCORE = ("eval_score", "score", "health", "nps", "p_renew")

# Words CSMs use for fields, beyond the fields' own names and labels.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "arr": ("arr", "revenue", "annual value", "contract size", "size", "worth"),
    "renewal_date": ("renewal date", "renewal dates", "renew date", "renews", "renewal day", "when they renew",
                     "when do they renew", "renewal"),
    "owner": ("owner", "owners", "csm", "csms", "account manager", "who owns"),
    "health": ("health", "health score", "health scores"),
    "band": ("band", "color", "colour", "rag"),
    "p_renew": ("p(renew)", "renewal probability", "chance of renewing", "likelihood", "probability"),
    "seats": ("seats", "seat count", "licenses", "licences"),
    "seats_used": ("seats in use", "seats used", "active seats"),
    "seat_utilization": ("seat use", "seat utilization", "utilisation", "utilization", "adoption"),
    "nps": ("nps", "latest nps"),
    "score": ("score", "scores", "rating", "ratings"),
    "opened_at": ("opened", "filed", "raised", "created", "open date", "date opened"),
    "closed_at": ("closed", "resolved", "close date"),
    "priority": ("priority", "priorities", "severity"),
    "status": ("status", "state", "statuses"),
    "team": ("team", "teams"),
    "segment": ("segment", "segments", "tier"),
    "industry": ("industry", "industries", "vertical", "sector"),
    "last_touch": ("last touch", "last contact", "last heard", "last touched", "last meeting"),
    "days_since_touch": ("days since", "silence", "quiet"),
    "spend_30d": ("spend", "spending", "bill", "cost"),
    "open_tickets": ("open tickets", "ticket count"),
    "is_champion": ("champion", "champions", "champs"),
    "comment": ("comment", "comments", "what they said", "what did they say", "feedback", "verbatim"),
    "body": ("body", "details", "description", "what it was about", "what was it about", "what they said"),
    "loss_summary": ("what went wrong", "loss", "why it failed", "what happened"),
    "loss_final": ("final loss", "end loss", "ending loss", "last loss"),
    "role": ("role", "roles", "title", "titles", "job title"),
    "due_date": ("due", "due date", "deadline"),
    "last_engaged": ("last engaged", "last heard", "last hear from", "last talked", "last spoke", "last contact",
                     "last touch", "last in touch"),
    "email": ("email", "emails", "email address", "e-mail"),
    "contract_start": ("signed", "contract start", "start date", "signing date"),
    "days_to_renewal": ("days to renewal", "days left", "days until renewal"),
    "onboarding_progress": ("onboarding progress", "progress"),
    "error_rate": ("error rate", "errors"),
    "p95_ms": ("latency", "p95"),
}


def field_words(f: str) -> tuple[str, ...]:
    """The words that name field `f`: its name, its labels, and CSMs' synonyms."""
    spec_labels = {c.label for e in ENTITIES.values() for k, c in e.fields.items() if k == f}
    return tuple(dict.fromkeys((f.replace("_", " "), *spec_labels, *FIELD_WORDS.get(f, ()))))


# Fields asked by a question's shape rather than a noun ("when do those 3 renew?").
_ASKED = {"renewal_date": re.compile(r"\bwhen (?:do|does|will|is|are)\b(?:\s+[\w-]+){0,3}?\s+"
                                     r"(?:renew|up for renewal)\b")}


def fields_named(low: str, entity: str) -> list[str]:
    """The fields of `entity` a message names ("their renewal dates", "and owners?"), longest phrase first."""
    known = ENTITIES[entity].fields
    hits: list[tuple[int, str]] = [(m.start(), f) for f, pat in _ASKED.items() if f in known and (m := pat.search(low))]
    for f in known:
        if known[f].kind == "json":
            continue
        for w in field_words(f):
            m = re.search(r"(?<![a-z])" + re.escape(w.lower()) + r"(?:s|es)?(?![a-z])", low)
            if m and len(w) >= 3:
                hits.append((m.start(), f))
                break
    return list(dict.fromkeys(f for _, f in sorted(hits)))


@dataclass(frozen=True)
class Pick:
    """A row of the last answer, and the phrase that picked it."""

    row: RowRef
    how: str
    among: tuple[int, ...] = ()  # several rows tie ("the highest" when two score 10): ask which


def _num(r: RowRef, k: str) -> float | None:
    v = r["values"].get(k)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _extreme(rows: list[RowRef], key: str, hi: bool) -> list[RowRef]:
    vals = [r for r in rows if _num(r, key) is not None]
    if not vals:
        return []
    best = (max if hi else min)(_num(r, key) for r in vals)  # type: ignore[type-var]
    return [r for r in vals if _num(r, key) == best]


def _by_date(rows: list[RowRef], hi: bool) -> list[RowRef]:
    dated = [r for r in rows if r.get("date")]
    if not dated:
        return []
    best = (max if hi else min)(str(r["date"]) for r in dated)
    return [r for r in dated if str(r["date"]) == best]


def _picked(rows: list[RowRef], top: list[RowRef], how: str) -> Pick | None:
    if not top:
        return None
    if len(top) == 1:
        return Pick(top[0], how)
    return Pick(top[0], how, tuple(k for k, r in enumerate(rows) if r in top))


def _first_key(rows: list[RowRef], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if any(_num(r, k) is not None for r in rows)), None)


def by_measure(low: str, rows: list[RowRef], entity: str) -> Pick | None:
    """"the newer one", "the biggest", "the one with the most seats", "lowest health": the extreme row."""
    m = _BY_FIELD.search(low)
    if m:
        named = [f for f in fields_named(m.group(2), entity) if any(_num(r, f) is not None for r in rows)]
        if named:
            hi = m.group(1) in ("most", "highest", "biggest", "largest", "greatest", "max", "maximum", "more",
                                "higher", "bigger")
            hit = _picked(rows, _extreme(rows, named[0], hi), m.group(0).strip())
            if hit is not None:
                return hit
    adj = next((a for a in _ADJ if re.search(rf"\b{re.escape(a)}\b(?! (?:ones? )?first)", low)), None)
    if adj is None or (adj == "top" and not re.search(r"\bthe top (?:one|account|customer)\b", low)):
        return None
    if adj in _DATE_HI + _DATE_LO:
        if adj == "recent" and "most recent" not in low and "more recent" not in low:
            return None
        top = _by_date(rows, adj in _DATE_HI)
    elif adj in _MONEY_HI + _MONEY_LO:
        key = _first_key(rows, _MONEY) or _first_key(rows, ("seats",) + _SCORE)
        top = _extreme(rows, key, adj in _MONEY_HI) if key else []
    else:
        key = _first_key(rows, _SCORE)
        top = _extreme(rows, key, adj in _SCORE_HI) if key else []
        if key is None and adj in _SCORE_LO and any(r["values"].get("priority") in _URGENCY for r in rows):
            worst = max(_URGENCY.get(str(r["values"].get("priority")), -1) for r in rows)  # tickets: most urgent
            top = [r for r in rows if _URGENCY.get(str(r["values"].get("priority")), -1) == worst]
    return _picked(rows, top, f"the {adj}")


def by_value(low: str, rows: list[RowRef]) -> Pick | None:
    """"the closed one", "the enterprise one", "the high-priority ticket": the one row with that value."""
    if len(rows) < 2:
        return None
    text = re.sub(r"[-_]", " ", low)
    found: list[tuple[str, list[RowRef]]] = []
    keys = {k for r in rows for k, v in r["values"].items() if isinstance(v, str)} - {"account", "comment", "body",
                                                                                        "loss_summary"}
    for k in keys:
        values = {str(r["values"].get(k)).lower() for r in rows if isinstance(r["values"].get(k), str)}
        if len(values) < 2:
            continue  # every row has it: it picks nothing
        for v in values:
            if len(v) < 3 or re.match(r"^\d{4}-\d\d-\d\d", v):
                continue
            if re.search(r"(?<![a-z])" + re.escape(v.replace("-", " ").replace("_", " ")) + r"(?![a-z])", text):
                found.append((v, [r for r in rows if str(r["values"].get(k, "")).lower() == v]))
    if not found:
        return None
    common = [r for r in rows if all(r in hit for _, hit in found)]
    if len(common) == 1:
        return Pick(common[0], "the " + " ".join(v for v, _ in found) + " one")
    return None


def by_date(low: str, rows: list[RowRef]) -> Pick | None:
    """"the Oct 29 one", "the July one"."""
    months = "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in MONTHS)
    m = re.search(r"\b(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" +
                  months + r")\b", low)
    if m:
        name, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        mon = next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(name[:3]))
        hits = [r for r in rows if r.get("date") and int(str(r["date"])[5:7]) == mon
                and int(str(r["date"])[8:10]) == int(day)]
        if hits:
            return _dated(low, rows, hits, m.group(0))
    m = re.search(r"\b(\d{4}-\d\d-\d\d)\b", low)
    if m:
        hits = [r for r in rows if str(r.get("date") or "")[:10] == m.group(1)]
        if hits:
            return _dated(low, rows, hits, m.group(0))
    m = re.search(r"\b(?:on|the)\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?(?:" + months + r")\b)", low)
    if m and 1 <= int(m.group(1)) <= 31:  # "the one filed on the 20th": the day of the month of its date
        hits = [r for r in rows if r.get("date") and int(str(r["date"])[8:10]) == int(m.group(1))]
        if hits:
            return _dated(low, rows, hits, m.group(0))
    m = re.search(r"\b(?:the|that)\s+(?:one\s+(?:from|in|on)\s+)?(" + months + r")\b(?!\.?\s*\d)(?:\s+one)?|"
                  r"\b(?:from|in|on)\s+(" + months + r")\b(?!\.?\s*\d)", low)
    if m:
        name = m.group(1) or m.group(2)
        mon = next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(name[:3]))
        hits = [r for r in rows if r.get("date") and int(str(r["date"])[5:7]) == mon]
        if len(hits) > 1:
            hits = by_tone(low, hits) or hits
        if len(hits) == 1:
            return Pick(hits[0], m.group(0))
    return None


def _dated(low: str, rows: list[RowRef], hits: list[RowRef], how: str) -> Pick | None:
    """The row of a day; of several, the one the picking phrase also names ("the Oct 29 meeting"), else a tie.

    A word of the question after the pick ("is it still open?") never picks one of them.
    """
    said = re.split(r"\s[-\u2013,:;]\s|\?|\b(?:is|was|has|did|does|were|are) (?:it|that|this)\b", low)[0]
    one = (by_value(said, hits) or by_token(said, hits)) if len(hits) > 1 else None
    if one is not None or len(hits) == 1:
        return Pick(one.row if one is not None else hits[0], how)
    if not re.search(r"\b(?:the|that|this)\s+one\b|\bit\b", said):
        return None  # "any opened on the 12th?" narrows the list to that day; only a singular pick is a tie
    return Pick(hits[0], how, tuple(k for k, r in enumerate(rows) if r in hits))


def by_tone(low: str, rows: list[RowRef]) -> list[RowRef]:
    """Among several candidates, the one a judgement points at: "so bad" / "so low" is the lowest score."""
    key = next((k for k in ("score", "health", "eval_score", "nps") if all(
        isinstance(r["values"].get(k), (int, float)) for r in rows)), None)
    if key is None:
        return []
    if re.search(r"\b(bad|low|worst|poor|unhappy|negative|angry|terrible|awful)\b", low):
        return [min(rows, key=lambda r: float(r["values"][key]))]
    if re.search(r"\b(good|high|best|great|happy|positive)\b", low):
        return [max(rows, key=lambda r: float(r["values"][key]))]
    return []


def by_rank(low: str, rows: list[RowRef], entity: str) -> Pick | None:
    """"the second lowest", "third biggest": that place in the order of the measure."""
    m = re.search(r"\b(second|2nd|third|3rd|fourth|4th|fifth|5th)[- ](" + "|".join(re.escape(a) for a in _ADJ) +
                  r")\b", low)
    if not m:
        return None
    k = _ORDINALS[m.group(1)]
    adj = m.group(2)
    if adj in _DATE_HI + _DATE_LO:
        ranked = sorted([r for r in rows if r.get("date")], key=lambda r: str(r["date"]), reverse=adj in _DATE_HI)
    else:
        key = _first_key(rows, _MONEY if adj in _MONEY_HI + _MONEY_LO else _SCORE)
        if key is None:
            return None
        ranked = sorted([r for r in rows if _num(r, key) is not None], key=lambda r: _num(r, key) or 0.0,
                        reverse=adj in _MONEY_HI + _SCORE_HI)
    return Pick(ranked[k], m.group(0)) if k < len(ranked) else None


def by_ordinal(low: str, rows: list[RowRef]) -> Pick | None:
    """"the second", "#3", "the last one", "row 2"."""
    if re.search(r"\b(due|renew\w*|expir\w*|ends?|comes? up|up)\s+(first|last|next)\b|"  # "and the last 7 days?":
                 r"\b(?:first|last|next|past)\s+(?:\d{1,3}|few|couple)\s*(?:day|week|month|quarter|year)s?\b", low):
        return None  # a window, not a row
    m = ORD.search(low)
    if not m:
        return None
    word = next((g for g in m.groups()[:3] if g), None)
    n = next((g for g in m.groups()[3:] if g), None)
    k = int(n) - 1 if n else _ORDINALS[re.sub(r"-", " ", word or "first")] if word and \
        re.sub(r"-", " ", word) in _ORDINALS else _ORDINALS.get(word or "first", 0)
    if -len(rows) <= k < len(rows):
        return Pick(rows[k], m.group(0).strip())
    return None


_STOP = {"the", "one", "ones", "that", "this", "what", "whats", "when", "which", "who", "whos", "with", "from", "about",
         "and", "for", "was", "is", "are", "its", "it", "their", "they", "them", "of", "a", "an", "to", "in", "on",
         "at", "me", "my", "our", "we", "i", "you", "so", "please", "thanks", "thx", "pls", "ok", "okay", "hmm",
         "did", "does", "do", "say", "said", "tell", "show", "give", "get", "has", "have", "had", "email", "name",
         "role", "title", "date", "how", "why", "where", "his", "her", "s", "again", "more", "details"}


def by_token(low: str, rows: list[RowRef]) -> Pick | None:
    """"the vp one", "the Okta ticket": the one row whose label or values carry the message's distinctive words."""
    if len(rows) < 2:
        return None
    words = [w for w in re.findall(r"[a-z0-9]+", low) if w not in _STOP and len(w) >= 2]
    if not words:
        return None
    toks = [set(re.findall(r"[a-z0-9]+", " ".join([str(r.get("label", "")), str(r.get("account", ""))] +
                                                  [str(v) for k, v in r["values"].items() if isinstance(v, str)
                                                   and k not in ("comment", "body", "loss_summary")]).lower()))
            for r in rows]
    toks = [t | {x[:-1] for x in t if x.endswith("s") and len(x) > 3} for t in toks]  # "the 503 one": "503s"
    hits = [k for k, t in enumerate(toks) if any(w in t for w in words)]
    if len(hits) == 1:
        return Pick(rows[hits[0]], "the " + " ".join(w for w in words if w in toks[hits[0]]) + " one")
    return None


def value_filters(low: str, rows: list[RowRef]) -> list[Filter]:
    """"only the high ones", "just the failed ones": a value some rows of the last answer have, as a filter."""
    if not re.search(r"\b(only|just|ones|those|them|which|filter|exclude|without|except)\b", low):
        return []
    text = re.sub(r"[-_]", " ", low)
    out: list[Filter] = []
    keys = {k for r in rows for k, v in r["values"].items() if isinstance(v, str)} - {
        "account", "comment", "body", "loss_summary", "subject", "name", "email", "label", "base_model"}
    for k in sorted(keys):
        values = {str(r["values"][k]) for r in rows if isinstance(r["values"].get(k), str)}
        if len(values) < 2 or any(re.match(r"^\d{4}-\d\d-\d\d", v) for v in values):
            continue
        said = [v for v in values if len(v) >= 3 and re.search(
            r"(?<![a-z])" + re.escape(v.lower().replace("-", " ").replace("_", " ")) + r"(?![a-z])", text)]
        if len(said) == 1:
            neg = re.search(r"\b(?:not|non|except|without|exclude|other than)\b\W*(?:the\s+)?" +
                            re.escape(said[0].lower()), text)
            out.append(Filter(field=k, op="ne" if neg else "eq", value=said[0]))
        elif len(said) > 1:
            out.append(Filter(field=k, op="in", value=sorted(said)))
    return out


def extreme_query(low: str, entity: str, rows: list[RowRef], truncated: bool = False) -> tuple[str, bool] | None:
    """The field to sort by, and whether highest first, for "which of them has the most seats?".

    Used when the rows do not carry that field, or the list was cut short.
    """
    m = _BY_FIELD.search(low)
    if not m or entity not in ENTITIES:
        return None
    named = [f for f in fields_named(m.group(2), entity)
             if ENTITIES[entity].fields[f].kind in ("number", "money", "ratio")]
    if not named or (any(_num(r, named[0]) is not None for r in rows) and not truncated):
        return None
    hi = m.group(1) in ("most", "highest", "biggest", "largest", "greatest", "max", "maximum", "more", "higher",
                        "bigger")
    return named[0], hi


_DATE_OF = {"accounts": "renewal_date", "renewals": "renewal_date", "tickets": "opened_at", "activities": "occurred_on",
            "surveys": "responded_on", "fine_tunes": "created_on", "milestones": "due_date", "plans": "started_on",
            "contacts": "last_engaged"}
_MONEY_OF = {"accounts": "arr", "renewals": "arr_before"}
_SCORE_OF = {"accounts": "health", "surveys": "score", "fine_tunes": "eval_score"}


def named_measure(low: str, entity: str) -> tuple[str, bool] | None:
    """The field a superlative names outright ("lowest final loss", "most seats"), and its direction."""
    m = _BY_FIELD.search(low)
    if m is None or entity not in ENTITIES:
        return None
    named = [f for f in fields_named(m.group(2), entity)
             if ENTITIES[entity].fields[f].kind in ("number", "money", "ratio", "date")]
    return (named[0], m.group(1) in ("most", "highest", "biggest", "largest", "greatest", "max", "maximum", "more",
                                     "higher", "bigger")) if named else None


def measure_of(low: str, entity: str) -> tuple[str, bool] | None:
    """The field and direction a superlative names, read without rows: "the biggest" is ARR, highest first."""
    if entity not in ENTITIES:
        return None
    named = named_measure(low, entity)
    if named is not None:
        return named
    adj = next((a for a in _ADJ if re.search(rf"\b(?:the|which)(?: one| account| customer| client)?"
                                               rf"(?: that'?s| that is| is)? {re.escape(a)}\b(?! (?:ones? )?first)",
                                               low)), None)
    if adj is None or adj in ("top", "recent"):
        return None
    if adj in _DATE_HI + _DATE_LO:
        f = _DATE_OF.get(entity)
        return (f, adj in _DATE_HI) if f else None
    if adj in _MONEY_HI + _MONEY_LO:
        f = _MONEY_OF.get(entity)
        return (f, adj in _MONEY_HI) if f else None
    f = _SCORE_OF.get(entity)
    return (f, adj in _SCORE_HI) if f else None
