"""Which constraints a message carries, and which of them the plan answering it could not apply.

A phrase that carries a constraint (a window, an order, a superlative, a verb tied to a date, a
status, a number) and is not reflected in the plan is reported, so the answer says "I did not apply
'before the board meeting'" instead of confidently answering another question (split from reading.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from agents.understand.model import Plan
from agents.understand.reading import DEFAULT_PERIOD
from agents.when import span
from tools.query import ENTITIES, Filter


@dataclass(frozen=True)
class Constraint:
    """A phrase that restricts the answer, and what kind of restriction it is."""

    phrase: str
    kind: str  # window | order | superlative | verb_date | status | number | topic


_ORDER = re.compile(r"\b(?:oldest|newest|earliest|latest|most recent|biggest|largest|smallest|highest|lowest)"
                    r" (?:ones? )?first\b|\b(?:ascending|descending|alphabetical(?:ly)?|reverse order)\b|"
                    r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?) (?:them |it )?by [\w()]+")
_SUPER = re.compile(r"\b(?:worth the (?:most|least)|(?:the )?(?:biggest|largest|smallest|highest|lowest|most|least|"
                    r"fewest|best|worst|riskiest|healthiest|oldest|newest|earliest|latest|longest|slowest|fastest)"
                    r"(?= (?:\w+ )?(?:one|account|customer|deal|renewal|ticket|nps|arr|health|score|spend|latency|"
                    r"open|usage|value|risk|seats?|contract|first)\b|\?|$| by\b| in\b))")
_VERB = re.compile(r"\b(opened|filed|raised|created|logged|submitted|closed|resolved|signed|renewed|churned|"
                   r"expanded|downgraded|started|kicked off|launched|due|touched|heard from|answered|responded)\b")
VERB_FIELDS = {"opened": "opened_at", "filed": "opened_at", "raised": "opened_at", "created": "opened_at",
               "logged": "opened_at", "submitted": "opened_at", "closed": "closed_at", "resolved": "closed_at",
               "signed": "contract_start", "renewed": "renewal_date", "churned": "renewal_date",
               "expanded": "renewal_date", "downgraded": "renewal_date", "started": "created_on",
               "kicked off": "created_on", "launched": "created_on", "due": "due_date",
               "touched": "occurred_on", "heard from": "occurred_on", "answered": "responded_on",
               "responded": "responded_on"}
_STATUS = re.compile(r"\b(open|closed|resolved|pending|failed|failing|running|succeeded|blocked|stuck|overdue|"
                     r"done|completed|churned|renewed|expanded|contracted|escalated|red|yellow|green|at[- ]risk)\b")
_TIME_PREP = re.compile(r"\b(before|after|since|until|till|prior to|ahead of|by)\s+((?:the |our |my |their |next |"
                        r"this )?[a-z0-9][\w'-]*(?: [a-z][\w'-]*){0,2})")
_NUMBER = re.compile(r"(?<![\w./:-])(\$?\d[\d,]*(?:\.\d+)?\s?(?:ms|s|secs?|seconds|[km%]|million|thousand)?)"
                     r"(?![\w/:-])")
"""A number with its unit ("$10k", "2%", "1.5s", "800 ms"), not a time or a "1:1"."""


def deadline(text: str, today: date) -> str | None:
    """A time phrase no calendar reading resolves ("before the board meeting"), if the message has one."""
    low = text.lower().replace("\u2019", "'")
    if span(low, today, future=True) is not None:
        return None
    return next((c.phrase for c in constraints(low, today) if c.kind == "window"), None)


def constraints(text: str, today: date) -> list[Constraint]:
    """The constraint-bearing phrases of a message."""
    low = text.lower().replace("\u2019", "'")
    out: list[Constraint] = []
    sp = span(low, today, future=True)
    if sp is not None:
        out.append(Constraint(sp.text, "window"))
    else:
        for m in _TIME_PREP.finditer(low):
            if m.group(1) == "by" and not re.search(r"\b(next|end|the \w+ (?:meeting|call|review|board|launch))\b",
                                                    m.group(2)):
                continue  # "by priority", "by CSM" group; "by the board meeting" is a deadline
            if re.match(r"(we|i|they|you|he|she|anyone|anybody|someone|somebody)\b", m.group(2)):
                continue  # "since we touched them": a clause, the question itself, not a time
            out.append(Constraint(m.group(0), "window"))
            break
    for m in _ORDER.finditer(low):
        out.append(Constraint(m.group(0), "order"))
    for m in _SUPER.finditer(low):
        if not any(m.group(0) in c.phrase for c in out):
            out.append(Constraint(m.group(0).strip(), "superlative"))
    for m in _VERB.finditer(low):
        if sp is not None or any(c.kind == "window" for c in out):
            out.append(Constraint(m.group(0), "verb_date"))
    for m in _STATUS.finditer(low):
        if m.group(0) == "open" and re.search(r"\b(did|do|does|will|to)\s+(?:\w+\s+)?$", low[:m.start()]):
            continue  # "how many tickets did customers open": a verb, the window says when
        if m.group(0) in ("done", "completed") and re.search(
                r"\b(supposed|meant|due|scheduled|planned|expected|set|going)\s+to\s+be\s+$", low[:m.start()]):
            continue  # "when was it supposed to be done": its due date is asked, not a status to filter on
        out.append(Constraint(m.group(0), "status"))
    about = re.search(r"\b(?:notes?|tickets?|meetings?|calls?|emails?|comments?|responses?|activities)\b.{0,40}?"
                      r"\b(?:about|mentioning|that mention|which mention|containing|regarding|related to)\s+[\"']?"
                      r"([a-z][a-z0-9 /-]{1,30}?)[\"']?\s*(?:\?|$|\bin\b|\bfrom\b|\bsince\b|\bduring\b|\bthis\b|"
                      r"\blast\b|,)", low)
    if about:
        out.append(Constraint(about.group(1).strip(), "topic"))
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}", low)) | {
        m.group(2) for m in re.finditer(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})\b",
                                        low)}
    window_text = sp.text if sp is not None else ""
    for m in _NUMBER.finditer(low):
        tok = m.group(1)
        if tok in window_text or any(tok == d or len(d) > 2 and tok in d for d in dates) or \
                re.fullmatch(r"20\d\d", tok):
            continue
        unit = re.match(r"\s*(?:\+|plus)?\s*(?:or (?:more|longer)\s+)?(days?|weeks?|months?|quarters?|years?)\b",
                        low[m.end(1):])  # "3+ weeks", "45 days or more" is a span of time
        out.append(Constraint(f"{tok} {unit.group(1)}", "window") if unit else Constraint(tok, "number"))
    return out


def _date_filters(p: Plan) -> list[Filter]:
    if p.query is None:
        return []
    return [f for f in p.query.filters if (c := ENTITIES[p.query.entity].fields.get(f.field)) is not None
            and c.kind == "date" and f.op in ("between", "lt", "le", "gt", "ge")]


def _number_used(tok: str, p: Plan) -> bool:
    t = tok.replace("$", "").replace(",", "").replace(" ", "").replace("million", "m").replace("thousand", "k")
    secs = re.fullmatch(r"([\d.]+)(?:s|secs?|seconds)", t)  # "1.5s" is 1,500 ms, as telemetry holds it
    t = f"{float(secs.group(1)) * 1000:g}" if secs else re.sub(r"ms$", "", t)
    mult = 1000.0 if t.endswith("k") else 1e6 if t.endswith("m") else 1.0
    try:
        v = float(t.rstrip("km%")) * mult
    except ValueError:
        return True
    q = p.query
    if q is None:
        return False
    values: list[float] = [float(q.limit)] if q.limit else []
    if q.having is not None and isinstance(q.having.value, (int, float)):  # "accounts with more than 3 tickets"
        values += [float(q.having.value), float(q.having.value) * 100]  # "averaging an error rate above 2%"
    for f in q.filters:
        for x in f.value if isinstance(f.value, list) else [f.value]:
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                values += [float(x), float(x) * 100]
    return any(abs(abs(v) - abs(x)) < 1e-6 for x in values)


_VERB_STEMS = {"open": "opened_at", "close": "closed_at", "resolve": "closed_at", "done": "completed_date",
               "completed": "completed_date"}
_STATUS_FIELDS = {"status", "outcome", "band", "risk", "priority", "lifecycle_stage", "open_tickets",
                  "onboarding_overdue", "due_date"}


def unapplied(text: str, p: Plan | None, today: date, window_days: int | None = None) -> list[str]:
    """The constraint phrases of `text` that plan `p` does not reflect (None: an agent's card answered)."""
    out: list[str] = []
    q = p.query if p is not None else None
    dated = _date_filters(p) if p is not None else []
    newest = {q.sort[0].field} if q is not None and q.sort and q.limit == 1 else set()  # "last open a ticket"
    has_window = bool(dated) or (p is not None and p.period is not None and p.period.text != DEFAULT_PERIOD) or \
        window_days is not None or \
        (q is not None and any(f.field.startswith("days_since_") or f.field == "usage_change_30d" for f in q.filters))
    for c in constraints(text, today):
        ok = True
        if (p is None or p.shape == "signals") and c.kind != "window":
            continue  # an agent's card or risk signals: its status words are its subject ("at risk?", "red flags")
        if c.kind == "window":
            ok = has_window
        elif c.kind == "verb_date":
            want = VERB_FIELDS.get(c.phrase)
            fields = {f.field for f in dated}
            ok = not has_window or p is None or p.period is not None or want is None or want in fields or \
                not (q is not None and want in ENTITIES[q.entity].fields)
            if not has_window and q is not None and want in ENTITIES[q.entity].fields and \
                    any(x.kind == "window" for x in constraints(text, today)):
                ok = False  # "opened since the pricing change": the verb's window was not applied, so neither was it
        elif c.kind in ("order", "superlative"):
            ok = bool(q is not None and (q.sort or q.group_by or any(a.fn in ("min", "max") for a in q.aggregates)))
            shown_desc = q is not None and bool(q.sort) and q.sort[0].desc != q.reverse  # the order rows are shown
            if ok and q is not None and q.sort and re.search(r"\b(oldest|earliest)\b", c.phrase):
                ok = not shown_desc
            elif ok and q is not None and q.sort and re.search(r"\b(newest|latest|most recent)\b", c.phrase):
                ok = shown_desc
            ok = ok or (p is not None and p.shape == "today")
        elif c.kind == "status":
            ok = q is not None and any(f.field in _STATUS_FIELDS for f in q.filters) or \
                VERB_FIELDS.get(c.phrase, "-") in {f.field for f in dated} | newest or \
                _VERB_STEMS.get(c.phrase, "-") in newest or \
                (c.phrase in ("completed", "done") and "completed_date" in {f.field for f in dated}) or \
                (p is not None and p.shape in ("metric", "today")) or \
                (q is not None and c.phrase in ("open",) and q.entity == "accounts")
        elif c.kind == "topic":
            ok = q is not None and any(f.op == "contains" for f in q.filters)
        elif c.kind == "number":
            ok = p is not None and (_number_used(c.phrase, p) or p.shape in ("metric", "today", "lookup"))
        if not ok and c.phrase not in out:
            out.append(c.phrase)
    return out
