"""The words of a follow-up, read into edit parts: its window, filters, totals, order, and what it leaves out."""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.understand import picks, resort
from agents.understand.edit_ops import (
    _DATE_FIELD,
    _MONEY_FIELD,
    _SCORE_FIELD,
    DropFilters,
    Edit,
    Reorder,
    SetFilters,
    ShiftPeriod,
    Summarise,
    SwitchEntity,
    Unreadable,
)
from agents.understand.measures import record_thresholds
from agents.understand.model import Plan
from agents.understand.phrases import BOOK
from agents.understand.slots import _account_filters, _vocab_filters, thresholds
from agents.understand.statuses import status_filters
from agents.understand.vocabulary import Vocabulary
from agents.when import MONTHS, NUMBER_WORDS, Span, span
from tools.query import ENTITIES, Aggregate, Filter, Sort

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

def _future(p: Plan, today: date) -> bool:
    if p.period is not None:
        return p.period.end > today
    for f in p.query.filters if p.query else []:
        if f.op == "between" and isinstance(f.value, list):
            return str(f.value[1]) > today.isoformat()
    return p.query is not None and p.query.entity == "accounts"


def period_of(low: str, today: date, future: bool, fiscal_start: int = 1, cur: Span | None = None) -> Span | None:
    """A window named in a follow-up: "March", "for Q3", "H1", "last quarter", "Feb to Jun", "Feb + Mar".

    An upper bound ("through the end of Feb") keeps the start of the current window `cur`, when there is one.
    """
    per = _period_of(low, today, future, fiscal_start)
    bound = re.search(r"\b(?:until|till|through|thru|up to|up until)\b", low)
    if per is not None and cur is not None and cur.start <= per.end and bound and \
            not re.search(r"\d|\b(?:from|since|after|" + "|".join(m[:3] for m in MONTHS) + r")", low[:bound.start()]):
        return Span(cur.start, per.end, per.text)  # an upper bound alone, not "feb thru march"
    return per


def _period_of(low: str, today: date, future: bool, fiscal_start: int = 1) -> Span | None:
    body = re.sub(r"^\W*(?:and|or|so|ok|okay|now)\s+", "", low)
    both = re.split(r"\s*(?:\+|&|\bplus\b|\band\b)\s*", body, maxsplit=1)
    if len(both) == 2 and re.search(r"\+|&|\bplus\b|\btogether\b|\bcombined\b|\bboth\b", low):
        a = _one_period(both[0], today, future, fiscal_start)
        b = _one_period(both[1], today, future, fiscal_start)
        if a is not None and b is not None:  # "Feb + Mar together": one window over both (ends joined when apart)
            first, last = (a, b) if a.start <= b.start else (b, a)
            if first.end + timedelta(days=1) >= last.start:
                return Span(first.start, max(first.end, last.end), f"{first.text} and {last.text}")
    return _one_period(low, today, future, fiscal_start)


def _one_period(low: str, today: date, future: bool, fiscal_start: int = 1) -> Span | None:
    sp = span(low, today, future=future, fiscal_start=fiscal_start)
    if sp is not None:
        return sp
    y = re.search(r"\b(20\d\d)\b", low)  # "what about 2024?": that year
    if y and not re.search(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", low):
        return Span(date(int(y.group(1)), 1, 1), date(int(y.group(1)), 12, 31), y.group(1))
    n = re.search(r"\b(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\s*(days?|weeks?|months?)\b", low)
    if n and not re.search(r"\b(ago|after|before|later|earlier|prior)\b", low):  # "stretch it to 60 days"
        return span(f"{'next' if future else 'last'} {n.group(1)} {n.group(2)}", today, future=future)
    m = re.search(r"\b(?:for|in|of|during)?\s*(" + "|".join(x[:3] + r"(?:" + x[3:] + ")?" for x in MONTHS) +
                  r")\b(?:\s+(\d{4}))?", low)
    if m and not re.search(r"\bmay (i|we|you)\b", low):
        return span(f"in {m.group(1)} {m.group(2) or ''}", today, future=future, fiscal_start=fiscal_start)
    return None


def _shift(low: str) -> ShiftPeriod | None:
    n = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
    m = re.search(r"\b(?:the\s+)?(?:next\s+|following\s+|previous\s+|prior\s+)?" + n +
                  r"\s*(days?|weeks?|months?)?\s+(after|before|later|earlier|prior)(?:\s+(?:that|those|this|it))?\b|"
                  r"\bthe (following|previous|prior|preceding) " + n + r" (days?|weeks?|months?)\b", low)
    if m:
        k = m.group(1) or m.group(5)
        count = int(k) if k.isdigit() else NUMBER_WORDS[k]
        unit = (m.group(2) or m.group(6) or "day").rstrip("s")
        later = (m.group(3) or "") in ("after", "later") or (m.group(4) or "") == "following"
        sign = 1 if later else -1
        if k in ("a", "an", "one") and m.group(3) in ("earlier", "later"):  # "a week earlier": the window moved
            return ShiftPeriod(sign if unit == "month" else 0, m.group(0), days=0 if unit == "month" else sign * (
                7 if unit == "week" else 1), slide=True)
        if unit == "month":
            return ShiftPeriod(sign * count, m.group(0))
        return ShiftPeriod(0, m.group(0), days=sign * count * (7 if unit == "week" else 1))
    m = re.search(r"\b(?:the)\s+(week|month|quarter|year|period|half)\s+(?:before|earlier|prior)\b|"
                  r"\b(?:a|one)\s+(week|month|quarter|year)\s+(?:earlier|before|ago)\b|"
                  r"\b(?:the )?(week|month|quarter|year|period) (?:after|later)\b|"
                  r"\b(?:the )?(prior|preceding|previous|following) (week|month|quarter|year|period|half)\b", low)
    if not m:
        return None
    unit = next(g for g in (m.group(1), m.group(2), m.group(3), m.group(5)) if g)
    months = {"week": 0, "month": 1, "quarter": 3, "half": 6, "year": 12, "period": 0}[unit]
    later = bool(m.group(3)) or m.group(4) == "following"
    if m.group(2):  # "a year earlier": the same window, that much earlier
        return ShiftPeriod(-months, m.group(0), days=-7 if unit == "week" else 0, slide=True)
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
    limits = (record_thresholds(entity, low) if entity in ENTITIES and entity != "accounts" else []) or \
        thresholds(low)  # "how many of those scored under 7?": the rows' own number first
    out += limits
    if _DROP.search(low):  # "drop the ones under 50k": keep the others
        out = [f.model_copy(update={"op": _OPPOSITE[f.op]}) if f.op in _OPPOSITE and isinstance(f.value, (int, float))
               else f for f in out]
        said = [f"not {s}" for s in said]
    more, w = status_filters(low, entity, today, vocab.statuses, follow_up=True)  # shared with new questions
    return out + more, said + w


_DROP = re.compile(r"\b(?:drop|remove|exclude|excluding|leave out|take out|hide|skip|minus|get rid of|lose|filter out|"
                   r"without)\s+(?:all\s+)?(?:the\s+)?(?:ones?|those|accounts?|customers?|renewals?|tickets?|deals?)?\s*"
                   r"(?:that are\s+|which are\s+|worth\s+|with\s+(?:an?\s+)?(?:arr|health|score)?\s*)?"
                   r"(?:over|above|more than|at least|under|below|less than|at most|smaller than|bigger than)\b")
_OPPOSITE = {"gt": "le", "ge": "lt", "lt": "ge", "le": "gt"}

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


_NEG = r"(?:exclude|excluding|except|without|not|minus|leave out|leaving out|other than|drop|skip|ignore|no)"
_SORT = re.compile(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?|arrange[ds]?)\s+(?:it |them |those |that |the list )?"
                   r"by\s+([a-z()][a-z() ]{1,30}?)(?:\s+(desc\w*|asc\w*|highest first|lowest first|newest first|"
                   r"oldest first|latest first|earliest first|biggest first|smallest first))?\s*[?.!]*$")


def _structural(low: str, entity: str, prev: Plan, today: date, fiscal_start: int) -> list[Edit]:
    """Edits read from the message's structure before anything else.

    Sort by a field, drop a condition, or a window or value to leave out (which a query cannot say: it is asked
    about, never applied backwards).
    """
    q = prev.query
    flip = re.fullmatch(r"\W*(?:and|what about|how about|now|ok|okay|then)?\s*(?:the|who(?:'s| is| has| had)?(?: the)?|"
                        r"which(?: one)?(?: is| has| had)?(?: the)?)?\s*(most|least|highest|lowest|biggest|smallest|"
                        r"largest|fewest|top|bottom|best|worst)(?: one)?\W*", low)
    if flip and q is not None and q.sort and q.limit:  # "and the most?" after "who spent the least?": the other end
        word, fld = flip.group(1), q.sort[0].field
        worse_up = fld in ("p95_latency_ms", "p95_ms", "error_rate", "days_since_touch", "open_tickets")
        up = word in ("most", "highest", "biggest", "largest", "top") or (word == "best") != worse_up and \
            word in ("best", "worst")
        return [Reorder(Sort(field=fld, desc=up), q.limit)]
    turned = resort.turned(low, q)
    if turned is not None:  # "flip it, smallest 5": the whole query re-sorted, then cut
        return [turned]
    m = _SORT.search(low)
    if m:
        fields = picks.fields_named(m.group(1), entity)
        if fields:
            kind = ENTITIES[entity].fields[fields[0]].kind
            word = m.group(2) or ""
            desc = bool(re.match(r"desc|highest|newest|latest|biggest", word)) if word else \
                kind in ("money", "number", "ratio")
            return [Reorder(Sort(field=fields[0], desc=desc), None)]
    m = re.search(r"\b(?:drop|remove|clear|forget|ignore|take off|lose|get rid of|without|minus|skip|no more|"
                  r"undo|scrap|cancel)\s+(?:the\s+|that\s+)?([a-z -]{2,30}?)\s*"
                  r"(?:filter|limit|condition|constraint|restriction|window|range|part|bit|piece|requirement)s?\b|"
                  r"\b(?:any|all|every)\s+(dates?|time|segments?|priorit(?:y|ies)|status(?:es)?|teams?|industr(?:y|ies)|"
                  r"owners?|csms?|bands?|outcomes?|kinds?|types?|activit(?:y|ies))\b(?!\s+(?:of|in|on|with|that|who|which))",
                  low)
    if m and prev.query is not None:
        said = (m.group(1) or m.group(2) or "").strip()
        if entity == "activities" and re.search(r"\b(kinds?|types?|activit(?:y|ies))\b", said) and \
                any(f.field == "kind" for f in prev.query.filters):  # "all kinds" after notes: calls, meetings too
            return [DropFilters(["kind"], m.group(0)), *_also(low, entity)]
        if re.search(r"\b(date|time|window|period|range|renewal|when)\b", said):
            dated = [f.field for f in prev.query.filters if ENTITIES[entity].fields[f.field].kind == "date"]
            return [DropFilters(dated, m.group(0)), *_also(low, entity)] if dated else []
        named = [f for f in picks.fields_named(said, entity) if any(x.field == f for x in prev.query.filters)]
        bar = prev.query.having  # "drop the latency filter" after "averaging p95 over 1.5s": the bound on the groups
        if bar is not None and bar.field != "count" and (bar.field in picks.fields_named(said, entity) or re.search(
                r"latenc|p95|error|spend|cost|token|request|threshold|bound|cut-?off", said)):
            named.append(bar.field)
        valued = [x.field for x in prev.query.filters if any(str(v).lower() in said for v in (
            x.value if isinstance(x.value, list) else [x.value]) if str(v).strip())]
        if named or valued:  # "drop the yellow filter", "without the band filter": the rest kept, the order asked too
            return [DropFilters(list(dict.fromkeys(named + valued)), m.group(0)), *_also(low, entity)]
        if m.group(1):  # "drop the enterprise filter" when the last answer had none: said, never guessed
            return [Unreadable(m.group(0), "my last answer had no such filter")]
    m = re.search(r"\b" + _NEG + r"\s+(?:the\s+)?(?:ones?\s+|those\s+|accounts?\s+|tickets?\s+)?(?:that are\s+|"
                  r"which are\s+)?((?:renewing|due|opened|filed|closed|signed|created)\s+)?(in|during|for|before|after|"
                  r"next|last|this)\b([^,.;?]{0,30})", low)
    if m and (m.group(1) or m.group(2) in ("in", "during", "for", "next", "last", "this")):
        per = period_of(m.group(2) + m.group(3), today, _future(prev, today), fiscal_start)
        if per is not None:
            return [Unreadable(m.group(0).strip(), "I can only keep a window, not leave one out")]
    m = re.search(r"\b(?:the\s+)?([a-z-]{3,20})\s+ones\s+(?:first|on top|at the top)\b", low)
    if m and prev.query is not None and not picks.fields_named(m.group(1), entity) and \
            m.group(1) not in ("biggest", "largest", "smallest", "oldest", "newest", "latest", "earliest", "worst",
                               "best", "highest", "lowest", "most", "least", "recent"):
        return [Unreadable(m.group(0).strip(), f"I can sort by a field, or list only the {m.group(1)} ones, but not "
                           "put one value first")]
    return []


def _also(low: str, entity: str) -> list[Edit]:
    """An order or length said beside another edit ("remove the band filter, top 5 by arr")."""
    reo = _reorder(low, entity)
    return [reo] if reo is not None else []


def _without_fields(low: str, entity: str) -> str:
    """The message without the words naming a field of a record other than an account.

    "their email?" after a contact is that field, not a list of e-mails.
    """
    if entity == "accounts" or entity not in ENTITIES:
        return low
    for f in picks.fields_named(low, entity):
        if f in ENTITIES[entity].fields and f not in ("owner", "team", "segment", "industry", "account"):
            for w in sorted(picks.field_words(f), key=len, reverse=True):
                low = re.sub(r"(?<![a-z])" + re.escape(w.lower()) + r"(?:s|es)?(?![a-z])", " ", low)
    return low


def _summary_word(low: str) -> bool:
    return bool(re.search(r"\bhow (?:much|many)\b|\b(total|sum|combined|add up|average|avg|mean|count)\b", low))


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


def _swap(low: str, prev: Plan, vocab: Vocabulary) -> SetFilters | None:
    """"and nimbus-small?": a short follow-up naming another value of a field the last query filtered on."""
    if prev.query is None or len(low.split()) > 6:
        return None
    said = re.sub(r"^\W*(?:and|or|what about|how about|same for|now|ok|okay)\b|[?!.]+$", "", low).strip()
    if len(said) < 3:
        return None
    known = {"model": vocab.models, "industry": vocab.industries, "plan": vocab.plans}
    for f in prev.query.filters:
        names = known.get(f.field)
        if not names or not isinstance(f.value, str) or said in f.value.lower():
            continue
        hits = [n for n in names if said in n.lower()]
        if hits:
            value = hits[0] if len(hits) == 1 else said
            return SetFilters([Filter(field=f.field, op="contains" if f.op == "contains" or len(hits) > 1 else "eq",
                                      value=value)], [value])
    return None


_OWNING = re.compile(r"\b(?:which|how many|any|all|none|some|who|are there any) (?:of )?(?:them|those|these|the ones)"
                     r"\s+"
                     r"(?:still |also |already |now |currently )?(?:have|has|had|got|with|having)\b")


_HAS = ("open_tickets", "open_high_tickets", "onboarding_overdue", "champion_present")  # what an account has


def _owning(low: str, entity: str, today: date, vocab: Vocabulary, asker: str) -> list[Edit]:
    """"which of those have open tickets?": the rows' accounts, filtered by what they have, counted if asked."""
    if not _OWNING.search(low):
        return []
    filters, said = _filters(low, "accounts", today, vocab, asker)
    filters = [f for f in filters if f.field in ENTITIES["accounts"].fields]
    if entity == "accounts" and not any(f.field in _HAS for f in filters) or \
            not any(f.field not in ENTITIES[entity].fields or f.field in _HAS for f in filters):
        return []  # "which of those have high priority?": a condition on the rows themselves
    summ = _summarise(low, "accounts", filters)
    out: list[Edit] = [SwitchEntity("accounts")] if entity != "accounts" else []
    return [*out, summ if summ is not None else SetFilters(filters, said)]


AHEAD = ["coming up"]  # what `_ahead` says it applied: the edit that widens a picked row back to the book ahead


def _ahead(low: str, prev: Plan, today: date) -> list[Edit] | None:
    """What is coming up across the asker's book, in the last list's terms (its kind of record, its date).

    None when the message does not name the whole book; [] when it does but asks something else (a new question).
    """
    q = prev.query
    if not BOOK.search(low):
        return None
    if q is None or _entity_of(low) not in (None, q.entity) or \
            not re.search(r"\b(?:coming up|upcoming|ahead|due|next|scheduled|on the horizon)\b", low):
        return []
    fld = {"accounts": "renewal_date", "renewals": None}.get(q.entity, _DATE_FIELD.get(q.entity))
    if fld not in ("renewal_date", "due_date", "target_date") or fld not in ENTITIES[q.entity].fields:
        return []
    sp = span(low, today, future=True)
    start = sp.start if sp is not None and sp.start >= today else today
    one = re.search(r"\b(?:the|my|our|^|'s|is)\s*next (?!(?:few|\d+|two|three|ones)\b)[a-z]+(?<!s)\b", low)
    return [SetFilters([Filter(field=fld, op="ge", value=start.isoformat())], AHEAD),
            Reorder(Sort(field=fld), 1 if one else None)]

