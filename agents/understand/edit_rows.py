"""The rows of the last answer a follow-up points at or leaves out (split from edits.py).

"the second", "the Acme one", "the biggest" pick one row; "besides that one" leaves rows out.
"""

from __future__ import annotations

import re
from datetime import date

from agents.state import AccountRef, RowRef
from agents.understand import picks
from agents.understand.edit_ops import Edit, ExcludeRows, SelectRow, SetFilters, Unmatched
from agents.understand.edit_words import _entity_of, _filters
from agents.understand.per_row import EACH
from agents.understand.vocabulary import Vocabulary

# "what's overdue besides that one", "other than the blocked one": the rows of the last answer left out.
BESIDES = re.compile(r"\b(?:besides|apart from|aside from|other than|except(?: for)?|excluding|not counting|"
                     r"leaving out)\s+(?:that|this|the|those|these|it)\b(?:\s+(?:[\w-]+\s+){0,2}?(?:ones?|steps?|"
                     r"milestones?|tickets?|rows?|accounts?|renewals?|responses?|jobs?|contacts?)\b)?")
# Several rows meant, not one: "only the open ones", "their tickets".
_MANY = re.compile(r"\b(ones|only|just|all|those|these|them|any|tickets|accounts|customers|renewals|contacts|"
                   r"responses|surveys|notes|milestones|plans|fine-?tunes|jobs|steps|how many|count|"
                   r"number of)\b")


def _select(low: str, rows: list[RowRef], names: list[str], roles: list[str],
            entity: str) -> SelectRow | Unmatched | None:
    """The row a follow-up points at: by ordinal, a measure, a value only it has, a date or a name."""
    if not rows or EACH.search(low):  # "latest nps for each": asked of every row, no row picked
        return None
    role_words = {w for r in roles for w in re.findall(r"[a-z]{3,}", r.lower())} - {"head", "the", "and", "of"}
    other_person = bool(set(re.findall(r"[a-z]{3,}", low)) & role_words)  # "and their admin?": another contact
    on_day = re.search(r"\b(?:on|since|after|before|until|till|by|from) the \d{1,2}(?:st|nd|rd|th)\b", low)
    hit = picks.by_rank(low, rows, entity) or (None if on_day else picks.by_ordinal(low, rows))  # "on the 3rd": a day
    if hit is not None:
        return SelectRow(hit.row, hit.how)
    m = re.search(r"\b(quietest|longest (?:silence|since)|least (?:recently )?touched|most neglected)\b(?! first)", low)
    if m and any(isinstance(r["values"].get("days_since_touch"), (int, float)) for r in rows):
        vals = [r for r in rows if isinstance(r["values"].get("days_since_touch"), (int, float))]
        return SelectRow(max(vals, key=lambda r: float(r["values"]["days_since_touch"])), m.group(0))
    m = re.search(r"\b(?:due|renews?|renewing|expir\w*|ends?|next|up) (first|soonest|"
                  r"next(?!\s+(?:week|month|quarter|year|half|\d|few|two|three|fiscal))|"
                  r"last(?!\s+(?:week|month|quarter|year|half|\d|few|two|three)))\b|\b(soonest|next up)\b", low)
    if m and any(r.get("date") for r in rows):
        dated = [r for r in rows if r.get("date")]
        last = (m.group(1) or "") == "last"
        return SelectRow((max if last else min)(dated, key=lambda r: str(r["date"])), m.group(0))
    hit = picks.by_date(low, rows)
    if hit is not None:  # "the one filed on the 21st" when two were: which of them
        return Unmatched(len(rows), hit.among) if hit.among else SelectRow(hit.row, hit.how)
    counted = re.search(r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+(biggest|largest|smallest|worst|"
                        r"best|lowest|highest|oldest|earliest|newest|latest|most recent)\b", low)
    shift = re.search(r"\b(week|month|quarter|year|period|half|days?)\s+(earlier|later|before)\b|"
                      r"\b(earlier|later)\s+(this|that|today|in|on)\b|\b(higher|lower|more|less|bigger|smaller|"
                      r"better|worse|older|newer)\s+than\b", low)
    listed = re.search(r"\b(?:top|first|bottom|last|just|only)\s+(?:\d+|two|three|four|five|ten)\b", low)
    if not counted and not shift and not listed and (re.search(r"\b(the|that|which|one)\b", low) or
                                                     len(low.split()) <= 5):
        hit = picks.by_measure(low, rows, entity)
        if hit is not None:
            return Unmatched(len(rows), hit.among) if hit.among else SelectRow(hit.row, hit.how)
    if not _MANY.search(low):
        hit = picks.by_value(low, rows)
        if hit is not None:
            return SelectRow(hit.row, hit.how)
    for n in names:
        hits = [r for r in rows if r["account"] == n]
        if len(hits) == 1:
            return SelectRow(hits[0], f"the {n} one")
    other_kind = _entity_of(low) not in (None, entity)  # "and their open tickets?": another kind of record
    if len(rows) == 1 and not other_person and not other_kind and (
            re.search(r"\b(that|this|the) (one|step|ticket|milestone|contact|person|response|plan|renewal|meeting|"
                      r"note|job|fine-?tune|survey)\b", low) or re.search(r"\b(their|its|his|her|it)\b", low)):
        return SelectRow(rows[0], "that one")
    hit = picks.by_token(low, rows) if re.search(r"\bone\b|\bthe \w+ (?:ticket|contact|person|response|renewal|"
                                                 r"milestone|plan|job|note|step|account|customer)\b", low) else None
    if hit is not None and not _MANY.search(low):
        return SelectRow(hit.row, hit.how)
    words = set(re.findall(r"[a-z]{4,}", low)) - {"that", "this", "what", "when", "which", "with", "from", "about",
                                                 "there", "their", "those", "these", "they", "them", "why", "were",
                                                 "was", "does", "have", "been", "tell", "more", "show", "open",
                                                 "filed", "opened", "closed", "so", "bad", "good", "low", "high",
                                                 "still", "already", "only", "just", "also", "ever", "even", "now",
                                                 "since", "after", "before", "until", "till", "through", "during",
                                                 "many", "much", "total", "count", "number", "overall", "altogether",
                                                 "combined", "together", "here"}  # "how many is that"
    words -= set(re.findall(r"\b(?:just|only)\s+([a-z]+)'s\b", low))  # "just marcus's": his rows, a filter
    hits = [r for r in rows if words & set(re.findall(r"[a-z]{4,}", " ".join(
        [str(r.get("label", ""))] + [str(v) for v in r["values"].values() if isinstance(v, str)]).lower()))]
    many = re.search(r"\b(?:which|any|all|how many|none|some) (?:of )?(?:them|those|these)\b", low) or \
        re.search(r"\b(?:only|just)\b.*\bones\b", low)  # several meant: "just the blocked ones" narrows the list
    if len(hits) == 1 and not many and (re.search(r"\b(one|ticket|renewal|response|milestone|contact|person)\b",
                                                  low) or len(low.split()) <= 6):
        return SelectRow(hits[0], "the one named")
    return None


def _left_out(low: str, rows: list[RowRef], named: list[AccountRef], vocab: Vocabulary, entity: str, today: date,
              asker: str) -> list[Edit]:
    """"besides that one" leaves rows of the last answer out; the rest of the message edits the query as usual."""
    m = BESIDES.search(low)
    if m is None or not rows:
        return []
    said = m.group(0)
    if len(rows) == 1 or re.search(r"\b(?:those|these)\b|\bones\b", said):
        gone = list(rows)
    else:
        sel = _select(re.sub(r"^\w+(?: from| for| than| counting| out)?\s+", "", said), rows,
                      [a["name"] for a in named], vocab.roles, entity)
        if not isinstance(sel, SelectRow):
            return [Unmatched(len(rows))]
        gone = [sel.row]
    rest = low[:m.start()] + " " + low[m.end():]
    filters, _ = _filters(rest, entity, today, vocab, asker)
    return [ExcludeRows(gone), *([SetFilters(filters, [])] if filters else [])]
