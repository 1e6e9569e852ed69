"""Conversation edits: a follow-up read as a typed operation on the last query ("same for March").

The dialogue state is the last `Plan` and its result rows. A new message is either a new question
(it replaces the state) or one or more edits of it:

- `SetPeriod` / `ShiftPeriod`: "same for March", "and the quarter before?"
- `SetFilters`: "what about the West team?", "only enterprise", "just the red ones"
- `SwitchEntity`: "and their tickets?", "who owns those?" (keeps the account set)
- `SelectRow`: "the second", "the July one", "the biggest", "the Acme one" (then asks about that row)
- `Summarise`: "how much ARR is that?", "how many are enterprise?"
- `Reorder`: "oldest first", "top 3"
- `Resubject`: "no, I meant Hooli"

`read` finds the edits; `apply` returns the edited plan. Access is not decided here: the query
layer re-applies the asker's scope whenever a plan runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from agents.state import AccountRef, Dialogue, RowRef
from agents.understand.model import Plan, from_json
from agents.understand.slots import _account_filters, _vocab_filters, thresholds
from agents.understand.statuses import status_filters
from agents.understand.vocabulary import Vocabulary
from agents.when import MONTHS, NUMBER_WORDS, Span, span
from tools.query import ENTITIES, Aggregate, Filter, Query, Sort

# A message that leans on the last answer: it starts like a follow-up or points back at it.
CUE = re.compile(r"^\s*(?:and|so|ok(?:ay)?|what about|how about|same(?: thing)?(?: for| but| with| again)?|now|only|"
                 r"just|then|but|also|instead|no\b|nope|not\b|i meant|actually|sorry|rather|what of|show me|"
                 r"and what about|do the same|same question)\b|"
                 r"\b(?:those|these|them|that one|this one|that list|the list|of them|among them|there)\b")
_BACK = re.compile(r"\b(?:those|these|them|their|that one|this one|that list|the list|of them|among them|there|it|"
                   r"that|they)\b|\b(?:the|which) (?:\w+ )?ones?\b")
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
             "5th": 4, "sixth": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1, "top": 0}
_NTH = r"(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|seventh|eighth|ninth|tenth|last)"
_ORD = re.compile(r"(?:\bthe\s+" + _NTH + r"\b|\b" + _NTH + r"\s+(?:one|row|item|account|customer|ticket|renewal|"
                  r"response|survey|milestone|contact|fine-?tune|note|meeting|plan)\b|^\W*(?:and\s+)?" + _NTH +
                  r"\W*$)(?!\s+(?:\d|few|two|three|week|month|quarter|year|day|half|time|meeting|call|touch))|"
                  r"#\s?(\d{1,2})\b|\bnumber (\d{1,2})\b|\bno\.\s?(\d{1,2})\b")
_ENTITY_NOUNS: list[tuple[str, str]] = [
    (r"\btickets?\b|\bcases?\b|\btix\b|support (issues|requests)|escalations?", "tickets"),
    (r"\bcontacts?\b|\bchampions?\b|\bpeople\b|\bstakeholders?\b", "contacts"),
    (r"\brenewals?\b(?! date)|renewal history", "renewals"),
    (r"\b(?:onboarding |implementation )?plans\b|\bonboarding plan\b", "plans"),
    (r"\bmilestones?\b|\bsteps?\b|onboarding (steps|tasks)", "milestones"),
    (r"fine[- ]?tun\w*", "fine_tunes"),
    (r"\bsurveys?\b|\bnps\b|\bcsat\b|survey (responses|answers|comments)", "surveys"),
    (r"\bnotes?\b|\bmeetings?\b|\bcalls?\b|\bemails?\b|\bactivit(y|ies)\b", "activities"),
    (r"\baccounts?\b|\bcustomers?\b|\bclients?\b|\bwho owns\b|\bowners?\b|\bcsms?\b", "accounts"),
]
_DATE_FIELD = {"accounts": "renewal_date", "renewals": "renewal_date", "tickets": "opened_at",
               "activities": "occurred_on", "surveys": "responded_on", "fine_tunes": "created_on",
               "milestones": "due_date", "contacts": "last_engaged", "telemetry": "day", "plans": "target_date"}
_MONEY_FIELD = {"accounts": "arr", "renewals": "arr_before"}
_SCORE_FIELD = {"accounts": "health", "surveys": "score", "fine_tunes": "eval_score"}


@dataclass(frozen=True)
class SetPeriod:
    """Replace the window."""

    span: Span


@dataclass(frozen=True)
class ShiftPeriod:
    """Move the window by whole months (negative: earlier)."""

    months: int
    text: str


@dataclass(frozen=True)
class SetFilters:
    """Replace filters on the same fields, add the rest."""

    filters: list[Filter]
    said: list[str]
    account_ids: list[int] | None = None  # account-level filters on other records, resolved to accounts


@dataclass(frozen=True)
class SwitchEntity:
    """The same accounts (or rows' accounts), another kind of record."""

    entity: str
    owners: bool = False  # "who owns those?"


@dataclass(frozen=True)
class SelectRow:
    """One row of the last result, and what is asked about it."""

    row: RowRef
    how: str


@dataclass(frozen=True)
class Summarise:
    """Totals over the last rows (optionally narrowed first)."""

    aggregates: list[Aggregate]
    filters: list[Filter] = field(default_factory=list)
    account_ids: list[int] | None = None


@dataclass(frozen=True)
class Reorder:
    """Another order or length."""

    sort: Sort | None
    limit: int | None
    lowest: bool = False  # "the bottom 3": the lowest by the list's own order


@dataclass(frozen=True)
class GroupBy:
    """The same question, per team / CSM / segment ("broken down by team")."""

    field: str


@dataclass(frozen=True)
class Resubject:
    """The same question about other accounts."""

    accounts: list[AccountRef]


@dataclass(frozen=True)
class Unmatched:
    """The message points at a row of the last answer that is not there, or at several: ask, never guess."""

    rows: int
    among: tuple[int, ...] = ()  # the positions of the rows it could mean, when several


_TOPIC = re.compile(r"\b(renew\w*|churn\w*|nps|csat|grr|nrr|retention|health\w*|at[- ]risk|onboard\w*|milestones?|"
                    r"champions?|contacts?|owners?|csms?|portfolio|book|fine[- ]?tun\w*|latency|usage|spend)\b")
_REFERS = re.compile(r"\b(?:the|that|this)\s+(?:\w+\s+)?one\b|\bthe\s+(?:first|second|third|fourth|fifth|last)\b|"
                     r"#\s?\d\b")

Edit = SetPeriod | ShiftPeriod | SetFilters | SwitchEntity | SelectRow | Summarise | Reorder | Resubject | Unmatched | \
    GroupBy


def _future(p: Plan, today: date) -> bool:
    if p.period is not None:
        return p.period.end > today
    for f in p.query.filters if p.query else []:
        if f.op == "between" and isinstance(f.value, list):
            return str(f.value[1]) > today.isoformat()
    return p.query is not None and p.query.entity == "accounts"


def period_of(low: str, today: date, future: bool, fiscal_start: int = 1) -> Span | None:
    """A window named in a follow-up: "March", "for Q3", "H1", "last quarter", "Feb to Jun"."""
    sp = span(low, today, future=future, fiscal_start=fiscal_start)
    if sp is not None:
        return sp
    y = re.search(r"\b(20\d\d)\b", low)  # "what about 2024?": that year
    if y and not re.search(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", low):
        return Span(date(int(y.group(1)), 1, 1), date(int(y.group(1)), 12, 31), y.group(1))
    m = re.search(r"\b(?:for|in|of|during)?\s*(" + "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in MONTHS) +
                  r")\b(?:\s+(\d{4}))?", low)
    if m and not re.search(r"\bmay (i|we|you)\b", low):
        return span(f"in {m.group(1)} {m.group(2) or ''}", today, future=future, fiscal_start=fiscal_start)
    return None


def _shift(low: str) -> ShiftPeriod | None:
    m = re.search(r"\b(?:the|a)\s+(week|month|quarter|year|period|half)\s+(?:before|earlier|prior)\b|"
                  r"\b(?:a|one)\s+(week|month|quarter|year)\s+(?:earlier|before|ago)\b|"
                  r"\b(?:the )?(week|month|quarter|year|period) (?:after|later)\b|"
                  r"\b(?:the )?(prior|preceding|following) (week|month|quarter|year|period)\b", low)
    if not m:
        return None
    unit = next(g for g in (m.group(1), m.group(2), m.group(3), m.group(5)) if g)
    months = {"week": 0, "month": 1, "quarter": 3, "half": 6, "year": 12, "period": 0}[unit]
    later = bool(m.group(3)) or m.group(4) == "following"
    return ShiftPeriod(months * (1 if later else -1) if months else (1 if later else -1) * 1000, m.group(0))


def _entity_of(low: str) -> str | None:
    return next((e for pat, e in _ENTITY_NOUNS if re.search(pat, low)), None)


def _filters(low: str, entity: str, today: date, vocab: Vocabulary, asker: str) -> tuple[list[Filter], list[str]]:
    """Filters a follow-up names, in the CRM's own words; no renewal window (that is a period)."""
    out, said = _vocab_filters(low, vocab, asker)
    if not any(f.field == "team" for f in out):  # "what about West?": a team named bare in a follow-up
        bare = [t for t in vocab.teams if re.search(rf"\b{re.escape(t.lower())}\b", low)]
        if len(bare) == 1:
            out.append(Filter(field="team", value=bare[0]))
            said.append(f"{bare[0]} team")
    m = re.search(r"\b(over|above|more than|at least|under|below|less than|at most)\s+\$?(\d[\d,]*(?:\.\d+)?\s?[km])\b",
                  low)
    if m and not thresholds(low):  # "only the ones over 300k": money is ARR (before the renewal, for renewals)
        v = float(m.group(2).replace(",", "").rstrip("km ")) * (1000 if m.group(2).endswith("k") else 1e6)
        fld = _MONEY_FIELD.get(entity, "arr")
        out.append(Filter(field=fld, op="gt" if m.group(1) in ("over", "above", "more than", "at least") else "lt",
                          value=v))
        said.append(f"{fld} {m.group(1)} ${v:,.0f}")
    acc, words, _ = _account_filters(re.sub(r"renew\w*|renewal|expir\w*|churn\w*", "", low), today)
    out += acc
    said += words
    limits = thresholds(low)
    out += limits
    more, w = status_filters(low, entity, today, vocab.statuses, follow_up=True)  # shared with new questions
    return out + more, said + w


def _select(low: str, rows: list[RowRef], names: list[str], roles: list[str]) -> SelectRow | None:
    """The row a follow-up points at: by ordinal, attribute, month or name."""
    if not rows:
        return None
    role_words = {w for r in roles for w in re.findall(r"[a-z]{3,}", r.lower())} - {"head", "the", "and", "of"}
    other_person = bool(set(re.findall(r"[a-z]{3,}", low)) & role_words)  # "and their admin?": another contact
    when = re.search(r"\b(due|renew\w*|expir\w*|ends?|comes? up|up)\s+(first|last|next)\b", low)
    m = None if when else _ORD.search(low)
    if m:
        word = next((g for g in m.groups()[:3] if g), None)
        n = next((g for g in m.groups()[3:] if g), None)
        k = int(n) - 1 if n else _ORDINALS[word or "first"]
        if -len(rows) <= k < len(rows):
            return SelectRow(rows[k], m.group(0).strip())
    if len(rows) == 1 and not other_person and (
            re.search(r"\b(that|this|the) (one|step|ticket|milestone|contact|person|response|plan|renewal|meeting|"
                      r"note)\b", low) or re.search(r"\b(their|its|his|her)\b", low)):
        return SelectRow(rows[0], "that one")
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
    months = "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in MONTHS)
    m = re.search(r"\b(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b", low)
    if m:
        mon = next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(m.group(1)[:3]))
        hits = [r for r in rows if r.get("date") and int(str(r["date"])[5:7]) == mon
                and int(str(r["date"])[8:10]) == int(m.group(2))]
        if len(hits) == 1:
            return SelectRow(hits[0], m.group(0))
    one = r"(?:one|account|customer|deal|renewal|ticket|response|survey|milestone|row)"
    counted = re.search(r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+(biggest|largest|smallest|worst|"
                        r"best|lowest|highest|oldest|earliest|newest|latest|most recent)\b", low)
    m = None if counted else re.search(
        r"\b(?:the )?(biggest|bigger|largest|larger|most valuable|worth the most|smallest|smaller|"
                  r"least valuable|worst|lowest|best|highest|oldest|earliest|newest|latest|most recent)\b"
                  r"(?: " + one + r")?(?! (?:ones? )?first)", low)
    if m and (re.search(r"\b(the|that|which)\b", low) or len(low.split()) <= 5):
        word = m.group(1)
        by_date = word in ("oldest", "earliest", "newest", "latest", "most recent")
        if by_date:
            dated = [r for r in rows if r.get("date")]
            if dated:
                pick = (min if word in ("oldest", "earliest") else max)(dated, key=lambda r: str(r["date"]))
                return SelectRow(pick, m.group(0))
        else:
            key = next((k for k in ("arr", "arr_before", "contract_value", "spend_30d", "seats", "score", "health",
                                    "eval_score") if any(isinstance(r["values"].get(k), (int, float))
                                                         for r in rows)), None)
            if word in ("worst", "lowest", "best", "highest") or re.search(r"\bscor", low):
                key = next((k for k in ("eval_score", "score", "health", "nps") if any(
                    isinstance(r["values"].get(k), (int, float)) for r in rows)), key)
            if key is not None:
                vals = [r for r in rows if isinstance(r["values"].get(key), (int, float))]
                hi = word in ("biggest", "bigger", "largest", "larger", "most valuable", "worth the most", "best",
                              "highest")
                pick = (max if hi else min)(vals, key=lambda r: float(r["values"][key]))
                return SelectRow(pick, m.group(0))
    m = re.search(r"\b(?:the|that)\s+(?:one\s+(?:from|in|on)\s+)?(" +
                  "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in MONTHS) + r")\b(?:\s+one)?", low)
    if m:
        mon = next(i + 1 for i, full in enumerate(MONTHS) if full.startswith(m.group(1)[:3]))
        hits = [r for r in rows if r.get("date") and int(str(r["date"])[5:7]) == mon]
        if len(hits) > 1:
            hits = _by_tone(low, hits) or hits
        if len(hits) == 1:
            return SelectRow(hits[0], m.group(0))
    for n in names:
        hits = [r for r in rows if r["account"] == n]
        if len(hits) == 1:
            return SelectRow(hits[0], f"the {n} one")
    words = set(re.findall(r"[a-z]{4,}", low)) - {"that", "this", "what", "when", "which", "with", "from", "about",
                                                 "there", "their", "those", "these", "they", "them", "why", "were",
                                                 "was", "does", "have", "been", "tell", "more", "show", "open",
                                                 "filed", "opened", "closed", "so", "bad", "good", "low", "high"}
    hits = [r for r in rows if words & set(re.findall(r"[a-z]{4,}", " ".join(
        [str(r.get("label", ""))] + [str(v) for v in r["values"].values() if isinstance(v, str)]).lower()))]
    if len(hits) == 1 and (re.search(r"\b(ones?|ticket|renewal|response|milestone|contact|person)\b", low)
                           or len(low.split()) <= 6):
        return SelectRow(hits[0], "the one named")
    return None


def _by_tone(low: str, rows: list[RowRef]) -> list[RowRef]:
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


def _renumber(low: str, prev: Plan) -> SetFilters | None:
    """"make that more than 2", "change it to 60": the last threshold again with another number."""
    m = re.search(r"\b(?:make (?:it|that|those)|change (?:it|that) to|try|instead|what about|how about)\s+"
                  r"(more than|over|above|at least|under|below|less than|at most)?\s*\$?(\d[\d,]*(?:\.\d+)?)\s*"
                  r"([km%])?", low)
    if not m or prev.query is None:
        return None
    nums = [f for f in prev.query.filters if isinstance(f.value, (int, float)) and not isinstance(f.value, bool)
            and f.op in ("gt", "ge", "lt", "le")]
    if not nums:
        return None
    old = nums[-1]
    v = float(m.group(2).replace(",", "")) * {"k": 1000, "m": 1e6, "%": 0.01}.get(m.group(3) or "", 1)
    op = old.op if not m.group(1) else ("gt" if m.group(1) in ("more than", "over", "above") else
                                        "ge" if m.group(1) == "at least" else
                                        "le" if m.group(1) == "at most" else "lt")
    if float(old.value) < 0:  # "dropped more than 20%" is usage change under -20%: the size changes, not the sense
        op, v = old.op, -abs(v)
    return SetFilters([Filter(field=old.field, op=op, value=v)], [])


def _summarise(low: str, entity: str, filters: list[Filter]) -> Summarise | None:
    money = re.search(r"\bhow much\b|\b(total|sum|combined|in total|add up|worth)\b|\barr\b.*\b(is that|are they|"
                      r"lose|lost|gain|at stake|at risk)\b", low)
    count = re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", low)
    avg = re.search(r"\b(average|avg|mean)\b", low)
    if not (money or count or avg):
        return None
    aggs: list[Aggregate] = []
    if money or (avg and re.search(r"\barr\b|revenue|value", low)):
        fld = _MONEY_FIELD.get(entity, "arr")
        aggs.append(Aggregate(fn="avg" if avg and not money else "sum", field=fld))
        if entity == "renewals":
            aggs.append(Aggregate(fn="sum", field="arr_after"))
    elif avg:
        aggs.append(Aggregate(fn="avg", field=_SCORE_FIELD.get(entity, "health")))
    else:
        aggs.append(Aggregate(fn="count"))
    return Summarise(aggs, filters)


def _reorder(low: str, entity: str) -> Reorder | None:
    d = _DATE_FIELD.get(entity)
    sort = None
    if re.search(r"\b(oldest|earliest)(?: ones?)? first\b|\bchronological", low) and d:
        sort = Sort(field=d, desc=False)
    elif re.search(r"\b(newest|latest|most recent)(?: ones?)? first\b|\breverse chronological", low) and d:
        sort = Sort(field=d, desc=True)
    elif re.search(r"\b(biggest|largest|most valuable)(?: ones?)? first\b|\bby (arr|size|value|revenue)\b", low):
        sort = Sort(field=_MONEY_FIELD.get(entity, "arr"), desc=True)
    elif re.search(r"\b(smallest)(?: ones?)? first\b", low):
        sort = Sort(field=_MONEY_FIELD.get(entity, "arr"), desc=False)
    elif re.search(r"\b(worst|lowest)(?: ones?)? first\b|\bby health\b", low) and entity in _SCORE_FIELD:
        sort = Sort(field=_SCORE_FIELD[entity], desc=False)
    elif re.search(r"\b(best|highest)(?: ones?)? first\b", low) and entity in _SCORE_FIELD:
        sort = Sort(field=_SCORE_FIELD[entity], desc=True)
    elif re.search(r"\b(longest (?:silence|since|without)|least (?:recently )?touched|quietest)\b", low) and \
            entity == "accounts":
        sort = Sort(field="days_since_touch", desc=True)
    n = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"
    m = re.search(r"\b(?:the|top|first|just|only|show me|give me)\s+" + n + r"\s+(oldest|earliest|newest|latest|"
                  r"most recent|biggest|largest|smallest)\b", low)
    if m and d and m.group(2) in ("oldest", "earliest", "newest", "latest", "most recent"):
        sort = Sort(field=d, desc=m.group(2) not in ("oldest", "earliest"))
    elif m:
        sort = Sort(field=_MONEY_FIELD.get(entity, "arr"), desc=m.group(2) != "smallest")
    bottom = re.search(r"\b(?:the )?bottom\s+" + n + r"\b", low)
    if bottom and sort is None:
        k = bottom.group(1)
        return Reorder(None, int(k) if k.isdigit() else NUMBER_WORDS[k], lowest=True)
    m = m or re.search(r"\b(?:top|first|just|only|show me|give me)\s+" + n + r"\b", low)
    limit = None
    if m and m.group(1) not in ("a", "an"):
        limit = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
    if sort is None and limit is None:
        return None
    return Reorder(sort, limit)


def read(text: str, d: Dialogue, today: date, vocab: Vocabulary, asker: str, named: list[AccountRef],
         fresh: Plan | None, fiscal_start: int = 1) -> list[Edit]:
    """The edits a message makes to the dialogue's last query; [] when it is a new question."""
    low = text.lower().replace("\u2019", "'").strip()
    prev = from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    topic = _entity_of(low) is not None or bool(_TOPIC.search(low))  # names what it is about, on its own
    cue = bool(CUE.search(low) or _BACK.search(low)) or len(low.split()) <= 4 or not topic
    subject = [a["account_id"] for a in d.get("accounts") or []]
    if named and [a["account_id"] for a in named] != subject:
        corrected = re.search(r"\b(i meant|meant|no,|not\b|actually|sorry|instead|rather|what about|how about|same for|"
                              r"and for|and)\b", low)
        if corrected and (prev is None or prev.shape in ("lookup", "metric", "compare") or d.get("intents")) \
                and len(low.split()) <= 8 and (fresh is None or fresh.shape == prev_shape(prev)):
            if prev is None or prev.shape != "compare":
                return [Resubject(named)]
        if not any(r["account_id"] in [a["account_id"] for a in named] for r in d.get("rows") or []):
            return []
    if prev is None or not cue:
        return []
    standalone = topic and len(low.split()) > 4
    if fresh is not None and standalone and not _BACK.search(low) and not CUE.search(low) and fresh.shape != "lookup":
        return []  # a complete question of its own
    entity: str = prev.query.entity if prev.query is not None else \
        ("renewals" if prev.shape == "metric" else "accounts")
    out: list[Edit] = []
    rows = d.get("rows") or []
    sel = _select(low, rows, [a["name"] for a in named], vocab.roles)
    if sel is not None:
        return [sel]
    if _REFERS.search(low) and not named:
        return [Unmatched(len(rows))]
    for a in named:  # "the Cyberdyne one" when the list has two of Cyberdyne's: which?
        hits = tuple(k for k, r in enumerate(rows) if r["account_id"] == a["account_id"])
        if len(hits) > 1 and _REFERS.search(low):
            return [Unmatched(len(rows), hits)]
    again = _renumber(low, prev)
    if again is not None:
        return [again]
    switch = _entity_of(low)
    if switch and len({r["account_id"] for r in rows}) == 1 and prev.shape != "lookup":
        return []  # "their champion?" after a list of one: a question about that account, routed as usual
    if switch and switch != entity and (_BACK.search(low) or CUE.search(low)) and prev.shape != "metric":
        out.append(SwitchEntity(switch, owners=bool(re.search(r"\bwho owns\b|\bowners?\b|\bcsms?\b", low))))
        entity = switch
    elif switch == "accounts" and re.search(r"\bwho owns\b|\bowners?\b", low):
        out.append(SwitchEntity("accounts", owners=True))
    shift = _shift(low)
    if shift is not None and (prev.period is not None or _has_window(prev)):
        out.append(shift)
    else:
        ahead = _future(prev, today) or bool(re.search(r"\b(renew\w*|due|expir\w*|upcoming|coming up|next)\b", low))
        per = period_of(low, today, ahead, fiscal_start)
        if per is not None:
            out.append(SetPeriod(per))
    filters, _ = _filters(low, entity, today, vocab, asker)
    summ = _summarise(low, entity, filters)
    if summ is not None:
        out.append(summ)
    elif filters:
        out.append(SetFilters(filters, []))
    reo = _reorder(low, entity)
    if reo is not None:
        out.append(reo)
    group = re.search(r"\b(?:broken down|break(?: it)? down|split|grouped|group(?: it)?)\s+by\s+(team|csm|owner|"
                      r"segment|industry|priority|status|outcome)s?\b|\b(?:per|by|for each)\s+(team|csm|segment|"
                      r"industry)\b", low)
    if group and not out:
        out.append(GroupBy({"csm": "owner"}.get(group.group(1) or group.group(2), group.group(1) or group.group(2))))
    if not out and switch == entity and re.search(r"\b(the|those|these|them)\b", low):
        out.append(Reorder(None, None))  # "what are the tickets?" after a list of tickets: that list again
    return out


def prev_shape(p: Plan | None) -> str | None:
    """The shape of the last plan (a correction keeps it)."""
    return p.shape if p is not None else None


def _has_window(p: Plan) -> bool:
    if p.query is None:
        return False
    return any(ENTITIES[p.query.entity].fields[f.field].kind == "date" and f.op == "between"
               for f in p.query.filters)


def _with_period(p: Plan, sp: Span) -> Plan:
    if p.shape == "metric" or p.query is None:
        return replace(p, period=sp) if p.shape == "metric" else p
    fld = _DATE_FIELD.get(p.query.entity)
    keep = [f for f in p.query.filters if not (ENTITIES[p.query.entity].fields[f.field].kind == "date"
                                               and f.op in ("between", "lt", "le", "gt", "ge"))]
    date_filter = next((f.field for f in p.query.filters if ENTITIES[p.query.entity].fields[f.field].kind == "date"
                        and f.op == "between"), fld)
    if date_filter is None:
        return p
    new = keep + [Filter(field=date_filter, op="between", value=[sp.start.isoformat(), sp.end.isoformat()])]
    return replace(p, query=p.query.model_copy(update={"filters": new}), period=None)


def current_period(p: Plan) -> Span | None:
    """The window a plan covers, if it has one."""
    if p.period is not None:
        return p.period
    for f in p.query.filters if p.query else []:
        if ENTITIES[p.query.entity].fields[f.field].kind == "date" and f.op == "between":  # type: ignore[union-attr]
            a, b = date.fromisoformat(str(f.value[0])[:10]), date.fromisoformat(str(f.value[1])[:10])
            return Span(a, b, f"{a.isoformat()} to {b.isoformat()}")
    return None


def _shifted(sp: Span, e: ShiftPeriod) -> Span:
    """The unit just before (or after) the window: "the quarter before" Mar-Aug is Dec-Feb."""
    if abs(e.months) >= 1000:  # "the period before": as long as this one, just before (or after) it
        days = (sp.end - sp.start).days + 1
        start = sp.start + timedelta(days=days if e.months > 0 else -days)
        return Span(start, start + timedelta(days=days - 1), e.text)
    if e.months < 0:
        return Span(sp.start + relativedelta(months=e.months), sp.start - timedelta(days=1), e.text)
    start = sp.end + timedelta(days=1)
    return Span(start, start + relativedelta(months=e.months, days=-1), e.text)


def _account_ids(d: Dialogue) -> list[int]:
    ids = list(dict.fromkeys(r["account_id"] for r in d.get("rows") or []))
    return ids or [a["account_id"] for a in d.get("accounts") or []]


def apply(d: Dialogue, edits: list[Edit]) -> Plan | None:
    """The last plan with `edits` applied; None when the edit has no plan to act on (an agent's card)."""
    if not d.get("plan"):
        return None
    p = from_json(d["plan"] or {})
    if p.query is None and not (p.shape == "metric" and all(
            isinstance(e, SetPeriod | ShiftPeriod | Resubject | SetFilters | GroupBy) for e in edits)):
        return None  # "today's priorities" or a comparison: nothing to edit, the message is read afresh
    for e in edits:
        if isinstance(e, SetPeriod):
            p = _with_period(p, e.span)
        elif isinstance(e, ShiftPeriod):
            cur = current_period(p)
            if cur is not None:
                p = _with_period(p, _shifted(cur, e))
        elif isinstance(e, Resubject):
            ids = [a["account_id"] for a in e.accounts]
            q = p.query.model_copy(update={"account_ids": ids, "row_ids": []}) if p.query is not None and \
                (p.query.account_ids or p.shape == "lookup") else p.query
            title = p.title
            for old in p.accounts:
                title = title.replace(old["name"], e.accounts[0]["name"])
            p = replace(p, accounts=list(e.accounts), query=q, title=title)
        elif isinstance(e, SwitchEntity):
            ids = _account_ids(d)
            spec = ENTITIES[e.entity]
            fields = ["account", "owner", "team", "health", "arr"] if e.owners else list(spec.default_fields)
            keep = [f for f in (p.query.filters if p.query else []) if f.field in ("owner", "team", "segment",
                                                                                  "industry")]
            q = Query(entity=e.entity, account_ids=ids, fields=fields, filters=keep,  # type: ignore[arg-type]
                      limit=25 if e.entity != "accounts" else None)
            if e.entity == "tickets":
                q = q.model_copy(update={"filters": [*keep, Filter(field="status", op="ne", value="closed")]})
            what = {"accounts": "owners" if e.owners else "accounts", "fine_tunes": "fine-tunes"}.get(e.entity,
                                                                                                 e.entity)
            p = Plan("list", f"{what} of the last answer's accounts", q, what=what)
        elif isinstance(e, SelectRow):
            ent = d.get("entity") or "accounts"
            spec = ENTITIES[ent]
            fields = [k for k in spec.fields if k not in ("hyperparameters",)][:12]
            if ent == "accounts":
                q = Query(entity="accounts", account_ids=[e.row["account_id"]],
                          fields=["account", "health", "band", "arr", "renewal_date", "p_renew", "owner"])
            elif ent == "plans":  # a plan picked from a list: its steps not done yet, what is stuck first
                q = Query(entity="milestones", account_ids=[e.row["account_id"]],
                          fields=["name", "status", "owner", "due_date", "plan"],
                          filters=[Filter(field="status", op="ne", value="done")], sort=[Sort(field="due_date")])
            else:
                q = Query(entity=ent, row_ids=[e.row["id"]], fields=fields)  # type: ignore[arg-type]
            ref: AccountRef = {"account_id": e.row["account_id"], "name": e.row["account"]}
            p = Plan("lookup", f"{ref['name']}: {e.row['label']}", q, what="record", accounts=[ref])
        elif isinstance(e, Summarise) and p.query is not None:
            q = p.query
            money_elsewhere = any(a.field == "arr" for a in e.aggregates) and "arr" not in ENTITIES[q.entity].fields
            if money_elsewhere:
                q = Query(entity="accounts", account_ids=_account_ids(d), fields=["account", "arr", "health"])
            base = [f for f in q.filters if f.field not in {x.field for x in e.filters}]
            rows = d.get("rows") or []
            if q.limit and q.limit < 25 and rows and not money_elsewhere:  # "add those up" after a top 3: those 3
                q = q.model_copy(update={"row_ids": [r["id"] for r in rows]} if q.entity != "accounts"
                                 else {"account_ids": [r["account_id"] for r in rows]})
            q = q.model_copy(update={"filters": base + list(e.filters), "aggregates": list(e.aggregates),
                                     "limit": None, "group_by": q.group_by,
                                     **({"account_ids": e.account_ids} if e.account_ids is not None else {})})
            p = replace(p, shape="aggregate", query=q)
        elif isinstance(e, GroupBy):
            if p.query is None and p.shape == "metric":
                p = replace(p, query=Query(entity="surveys" if p.metric in ("nps", "avg_nps", "avg_csat")
                                           else "renewals"))
            if p.query is not None and e.field in ENTITIES[p.query.entity].fields:
                aggs = p.query.aggregates or [Aggregate(fn="count")]
                p = replace(p, shape=p.shape if p.shape == "metric" else "aggregate",
                            query=p.query.model_copy(update={"group_by": e.field, "aggregates": aggs
                                                             if p.shape != "metric" else [], "limit": None}))
        elif isinstance(e, SetFilters):
            if p.query is None and p.shape == "metric":  # "and East?" after "NRR last quarter": the metric, per team
                p = replace(p, query=Query(entity="surveys" if p.metric in ("nps", "avg_nps", "avg_csat")
                                           else "renewals"))
            if p.query is None:
                continue
            ent = p.query.entity
            known = ENTITIES[ent].fields
            new = [f for f in e.filters if f.field in known]
            named = {f.field for f in new}
            base = [f for f in p.query.filters if f.field not in named]
            p = replace(p, query=p.query.model_copy(update={
                "filters": base + new, **({"account_ids": e.account_ids} if e.account_ids is not None else {})}))
        elif isinstance(e, Reorder) and p.query is not None:
            upd: dict[str, Any] = {}
            if e.sort is not None and e.sort.field in ENTITIES[p.query.entity].fields:
                upd["sort"] = [e.sort]
            if e.limit is not None:
                upd["limit"] = e.limit
            if e.lowest and p.query.sort and p.query.sort[0].desc:
                upd["sort"] = [p.query.sort[0].model_copy(update={"desc": False})]
            grouped = e.sort is not None and bool(p.query.group_by)
            if grouped:  # "oldest first" after "by priority": the records themselves, in that order
                upd |= {"group_by": None, "aggregates": []}
            p = replace(p, shape="list" if grouped else p.shape, query=p.query.model_copy(update=upd))
    return p


def rows_of(entity: str, result_rows: list[dict[str, Any]]) -> list[RowRef]:
    """The rows of a query result as the dialogue keeps them (ids in order, figures for "the biggest")."""
    spec = ENTITIES[entity]
    out: list[RowRef] = []
    for r in result_rows[:50]:
        src = r.get("source") or {}
        ident = r["account_id"] if entity == "accounts" else src.get("id")
        try:
            rid = int(str(ident))
        except (TypeError, ValueError):
            continue
        when = r.get(spec.date_field) if spec.date_field else r.get("renewal_date")
        values = {k: v for k, v in r.items() if k != "source" and (isinstance(v, (int, float)) and not
                                                                   isinstance(v, bool) or
                                                                   isinstance(v, str) and len(v) <= 60)}
        out.append({"id": rid, "account_id": int(r["account_id"]), "account": str(r.get("account", "")),
                    "label": str(src.get("label") or r.get(spec.label_field) or r.get("account", "")),
                    "date": str(when)[:10] if when else None, "values": values})
    return out
