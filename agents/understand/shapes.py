"""Portfolio shapes: lists, rankings, aggregates, metrics over a period, comparisons, ordinals, today."""

from __future__ import annotations

import re
from datetime import date

from agents.understand import absence, activity_words
from agents.understand.constraint_words import deadline
from agents.understand.counts import most_of, most_records, per_account, record_verb
from agents.understand.measures import field_words, next_due, record_thresholds, singular, superlative
from agents.understand.model import Plan, Shape
from agents.understand.phrases import _ENTITY_CUES, _FIELD_WORDS, _TODAY, METRICS, PLURAL
from agents.understand.reading import DEFAULT_PERIOD
from agents.understand.slots import _account_filters, _group, _limit, _say, _sort, _vocab_filters, thresholds
from agents.understand.statuses import INCLUDING_DONE, status_filters, still_to_do
from agents.understand.vocabulary import Vocabulary
from agents.when import Span, span
from tools.query import ENTITIES, Aggregate, Filter, Query, Sort


def _metric(low: str, today: date) -> Plan | None:
    if re.search(r"\b(worst|best|lowest|highest|which|who|top|bottom)\b", low) and "rate" not in low:
        return None  # "who has the worst NPS" ranks accounts; it is not a metric
    for pat, name in METRICS:
        if re.search(pat, low):
            period = span(low, today, future=False)
            if period is None or period.end > today:
                period = Span(today.replace(year=today.year - 1), today, DEFAULT_PERIOD) if period is None \
                    else Span(period.start, min(period.end, today), period.text)
            return Plan("metric", name, metric=name, period=period)
    return None


_PAST_OUTCOME = re.compile(r"\b(churned|cancell?ed|walked|left us|shr[au]nk|contracted|downgraded|downsized|reduced|"
                           r"expanded|grew|upsold|downsold|upgraded|uplift|flat|like[- ]for[- ]like|price increase|"
                           r"(?:at|for) the same price|lost(?! (?:their|a|the|its|our|his|her)\b))\b"
                           r"(?! usage| seats| champion)")
LOST_ARR = re.compile(r"^(?!.*\b(could|might|would|may|stand to|at risk|going to)\b)"
                      r".*(\bhow much\b.{0,40}\b(lose|lost)\b|"
                      r"\b(arr|revenue|money|dollars)\b.{0,15}\b(lost|lose)\b|\blost (arr|revenue)\b)")
"""ARR lost on past renewals ("how much ARR did we lose in Q3?"), not what is at risk ahead."""
_SURVEYED = re.compile(r"\b(detractors?|promoters?|passives?|nps|csat|surveys?)\b")
_DID = re.compile(r"(?<!\bbe )(?<!\bbeen )(?<!\bget )(?<!\bgetting )\b(renewed|churned|lost|expanded|downsized|"
                  r"downgraded|shrank|shrunk|cancell?ed|upsold|grew)\b(?! (?:their|a|the|its|our|his|her)\b)")
"""A renewal verb in the past tense ("what we renewed in March", "which accounts renewed in May"): history."""
_LOST = re.compile(r"\bhow much\b.{0,40}\b(?:lost|lose|churned|contracted|shrank|shrunk|downsized)\b|"
                   r"\b(?:arr|revenue) (?:we )?(?:lost|churned)\b")
_ORDERED = re.compile(r"\b(?:list|show|sort|sorted|order|ordered|rank|ranked|arrange|all)\b.*\bby\b|"
                      r"\b(?:sort|sorted|order|ordered|rank|ranked)\b|\b\w+est (?:ones? )?first\b|"
                      r"\b(?:ascending|descending|alphabetical(?:ly)?)\b")
"""An order asked for ("list accounts by ARR, largest first"): every row in that order, no invented top ten."""
_PAST = {"close": "closed", "resolve": "resolved", "fix": "fixed", "complete": "completed", "finish": "finished",
         "start": "started", "kick off": "kicked off", "begin": "began", "open": "opened", "file": "filed",
         "raise": "raised", "log": "logged", "submit": "submitted", "sign": "signed", "renew": "renewed",
         "lose": "lost", "churn": "churned", "expand": "expanded", "grow": "grew", "upsell": "upsold",
         "downsize": "downsized", "downgrade": "downgraded", "shrink": "shrank", "cancel": "cancelled",
         "hit": "hit", "reach": "reached", "launch": "launched", "onboard": "onboarded", "escalate": "escalated"}
_DID_VERB = re.compile(r"\bdid\s+((?:[\w']+\s+){1,3}?)(" + "|".join(_PAST) + r")\b")


def past_tense(low: str) -> str:
    """"did we renew" as "we renewed": a question about what happened reads its verb as a past event."""
    return _DID_VERB.sub(lambda m: m.group(1) + _PAST[m.group(2)], low)
_RENEWAL_WORDS = re.compile(r"\b(renew\w*|expir\w*|up for|signed|contracts?)\b")


def _records_asked(entity: str, low: str, today: date) -> str:
    """Accounts asked for by what their records did in a past window are those records.

    "which renewals were downsized in 2026?", "who grew this year?" list renewal events; "which accounts
    left detractor scores in October?" lists the survey responses of that window (an account's latest
    NPS has no date).
    """
    if entity != "accounts":
        return entity
    past = span(low, today, future=False)
    dated = past is not None and past.start <= today and not _RENEWAL_WORDS.search(low.replace("renewals", ""))
    if _PAST_OUTCOME.search(low) and (dated or re.search(r"\brenewals\b", low)) or LOST_ARR.search(low):
        return "renewals"
    if past is not None and past.start <= today and _DID.search(low):  # "what did we renew in March?": done ones
        return "renewals"
    if past is not None and past.start < today and re.search(r"\brenew\w*\b", low) and \
            span(low, today, future=True) == past:  # "what did we renew in Q3?": a window wholly past is history
        return "renewals"
    if _SURVEYED.search(low) and dated and not re.search(r"\b(latest|current)\b", low):
        return "surveys"
    return entity


def portfolio(low: str, today: date, vocab: Vocabulary, asker: str, ids: list[int]) -> Plan | None:
    """A list, ranking or aggregate over the asker's accounts (or `ids`, the previous list)."""
    low = past_tense(low)
    entity = next((e for pat, e in _ENTITY_CUES if re.search(pat, low)), "accounts")
    asks_accounts = re.search(r"\b(which|what) (accounts?|customers?|clients?|one)\b|"
                              r"\b(accounts?|customers?|clients?|the one|who) (with|that ha(?:ve|s)|has|have)\b", low)
    one = re.search(r"\b(?:the|which) (?:one|account|customer|client)\b", low)  # "the one with the most tickets"
    counted = any(f.field in ("open_tickets", "open_high_tickets", "onboarding_overdue") for f in thresholds(low)) or \
        bool(re.search(r"\b(?:accounts?|customers?|clients?) (?:with|that have|that has|having|have|has)\b"
                       r"[^?.]{0,30}\b(?:open|unresolved)\b[^?.]{0,20}\btickets?\b", low))  # "... open high tickets"
    top = most_records(low, entity) and (record_verb(low) or span(low, today, future=False) is not None)
    if entity != "accounts" and asks_accounts and not top and (counted or ((PLURAL.search(low) or one) and
                                                                           _sort(low) is not None)):
        entity = "accounts"  # "which customers have the most open tickets?" ranks accounts, not tickets
    if absence.gap(low, today) is not None:
        entity = "accounts"  # "which of mine have had nothing logged since X": accounts by their touch gap
    entity = _records_asked(entity, low, today)
    if entity == "accounts" and re.search(r"\bcsat\b", low):
        entity = "surveys"  # an account has no CSAT of its own: its survey responses do
    filters, said = _vocab_filters(low, vocab, asker)
    window: Span | None = None
    named: list[str] = []
    if entity == "accounts":
        more, words, window = _account_filters(low, today)
        limits = thresholds(low)  # "more than 2 open high tickets": the count, not only "any"
        filters += [f for f in more if not (f.op == "gt" and f.value == 0 and any(x.field == f.field for x in limits))]
        filters += limits
        said += words + [_say(f) for f in limits]
    elif entity in ("tickets", "fine_tunes", "milestones", "plans"):
        filters = [f for f in filters if f.field in ("owner", "team") or entity == "plans" and f.field == "segment"]
        more, words = status_filters(low, entity, today, vocab.statuses)
        if entity == "tickets" and not any(f.field == "status" for f in more) and \
                span(low, today, future=False) is None and not re.search(r"\b(all|every)\b", low) and \
                not re.search(r"\b(?:opened|filed|raised|logged|submitted|created)\b", low):  # "opened since X": any
            more.append(Filter(field="status", op="ne", value="closed"))  # tickets asked bare: the open ones
            words.append("open")
        filters += more
        said += words
    elif entity == "contacts":
        filters = [f for f in filters if f.field in ("owner", "team")]
        quiet = re.search(r"\b(?:haven'?t|have not|hasn'?t|not|no one|nobody)\b.{0,30}\b(?:engaged|heard|talked|spoken|"
                          r"contacted|met|reached)\b.{0,20}\bsince\b", low)
        since = span(low[quiet.start():], today, future=False) if quiet else None
        if since is not None:  # "contacts we haven't engaged since September": last engaged before then
            filters.append(Filter(field="last_engaged", op="lt", value=since.start.isoformat()))
            said.append(f"not engaged since {since.start.isoformat()}")
            window = since
        if re.search(r"\b(left|departed|gone|quit|moved on)\b", low) and span(low, today, future=False) is None:
            filters.append(Filter(field="left_on", op="not_null"))
            said.append("who have left")
        if "champion" in low:
            filters.append(Filter(field="is_champion", value=True))
            said.append("champions")
    elif entity == "renewals":
        more, words = status_filters(low, entity, today, vocab.statuses)
        if not more and _LOST.search(low):  # "how much ARR did we lose in Q3?": what churned or shrank, summed
            how = [o for o, pat in (("churned", r"\bchurn"), ("contracted", r"\b(?:shr|contract|downsiz|downgrad)"))
                   if re.search(pat, low)] or ["churned", "contracted"]  # "lose to churn" is the churned only
            more = [Filter(field="outcome", op="in", value=how) if len(how) > 1 else Filter(field="outcome",
                                                                                          value=how[0])]
            words = [" or ".join(how)]
        filters += more
        said += words
    elif entity == "activities":
        filters = [f for f in filters if f.field in ("owner", "team", "segment")]
        named = [] if activity_words.ALL.search(low) else activity_words.kinds(low)  # "call notes": calls
        if named:  # "csm notes": notes; "anything logged", "activities": every kind
            filters.append(Filter(field="kind", value=named[0]) if len(named) == 1 else
                           Filter(field="kind", op="in", value=named))
    elif entity == "surveys":
        filters = [f for f in filters if f.field in ("owner", "team", "segment")]
        more, words = status_filters(low, entity, today, vocab.statuses)
        filters += more
        said += words
        kinds = [k for k in ("nps", "csat") if re.search(rf"\b{k}\b", low)]
        if len(kinds) == 1:
            filters.append(Filter(field="kind", value=kinds[0]))
    topic = re.search(r"\b(?:about|mentioning|that mention|which mention|mentions?|containing|regarding|re:|related to|"
                      r"with the words?|that say|saying)\s+[\"']?([a-z][a-z0-9 /-]{1,30}?)[\"']?\s*"
                      r"(?:\?|$|\bin\b|\bfrom\b|\bsince\b|\bduring\b|\bthis\b|\blast\b|\bover\b|,)", low)
    text_field = {"activities": "body", "tickets": "subject", "surveys": "comment"}.get(entity)
    if topic and text_field:  # "notes about pricing": the records whose text mentions it
        filters.append(Filter(field=text_field, op="contains", value=topic.group(1).strip()))
        said.append(f"mentioning \u201c{topic.group(1).strip()}\u201d")
    upcoming = next_due(entity, low, today)
    if upcoming is not None:  # "the next milestone coming due after today": the soonest not done
        low = re.sub(r"\b(?:after|from|beyond|starting|as of)\s+today\b", " ", low)
        filters += [f for f in upcoming[0] if f.field == "status" or span(low, today) is None]
        said.append("next due, not done")
    if entity in ("tickets", "activities", "surveys", "renewals", "fine_tunes", "milestones", "plans", "contacts") \
            and window is None:
        past = span(low, today, future=entity in ("milestones", "plans") and date_field(entity, low) != "started_on"
                    and not re.search(r"\b(completed|finished|done|started|kicked off|began|launched|hit|reached|"
                                      r"onboarded)\b", low))  # a start is read in the past: plans run from it
        if past is not None:
            fld = date_field(entity, low)
            filters.append(Filter(field=fld, op="between", value=[past.start.isoformat(), past.end.isoformat()]))
            said.append(past.describe())
    todo = still_to_do(entity, filters, low, today)  # "due in the next 2 weeks": not done yet
    filters += todo
    said += [f"not {f.value}" for f in todo]
    if entity in ("milestones", "plans") and INCLUDING_DONE.search(low):
        said.append("including done ones")
    if entity != "accounts":  # "score under 7", "eval score above 0.8", "renewals worth over 100k"
        bounds = record_thresholds(entity, low)
        filters += bounds
        said += [_say(f) for f in bounds]
    sort = _sort(low) if entity == "accounts" else upcoming[1] if upcoming is not None else \
        _record_sort(entity, low, _dated(entity, filters)) or superlative(entity, low, date_field(entity, low))
    if sort is not None and entity == "accounts":
        sort = _top_by(low, sort)
    ranked = sort is not None and (entity == "accounts" or ENTITIES[entity].fields[sort.field].kind != "date")
    limit = _limit(low) or (1 if sort is not None and singular(entity, low) else None)
    group = _group(low)
    aggs: list[Aggregate] = []
    total = re.search(r"\b(total|sum|combined|how much|aggregate|overall)\b|how big is (my|our) (book|portfolio)|"
                      r"\bin dollars\b", low)
    avg = re.search(r"\b(average|avg|mean|typical)\b\s*(?:(?!health|arr|nps|p\(renew\)|seats?|score)\w+\s)?"
                    r"(health|arr|nps|p\(renew\)|seats?|score)?", low)
    if entity == "renewals" and total and _LOST.search(low):
        aggs += [Aggregate(fn="sum", field="arr_before"), Aggregate(fn="sum", field="arr_after")]
    if entity == "accounts" and total:
        aggs.append(Aggregate(fn="sum", field="arr"))
    if entity == "renewals" and (total or LOST_ARR.search(low)):  # per renewal before and after: lost and gained
        aggs += [Aggregate(fn="sum", field="arr_before"), Aggregate(fn="sum", field="arr_after")]
    if entity == "accounts" and avg:
        fld = {"health": "health", "score": "health", "arr": "arr", "nps": "nps", "p(renew)": "p_renew",
               "seat": "seats", "seats": "seats"}.get(avg.group(2) or "health", "health")
        aggs.append(Aggregate(fn="avg", field=fld))
    if group is None and any(f.field == "owner" and f.op == "in" for f in filters):
        group = "owner"  # two or more CSMs named: side by side
    if group is None and any(f.field == "team" and f.op == "in" for f in filters):
        group = "team"
    if group and not any(a.field == "arr" for a in aggs) and re.search(r"\barr\b|revenue", low):
        aggs.insert(0, Aggregate(fn="sum", field="arr"))
    if group and not any(a.field == "health" for a in aggs) and re.search(r"\bhealth", low):
        aggs.append(Aggregate(fn="avg", field="health"))
    count = re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", low)
    bar = per_account(low, entity) if entity != "accounts" else None
    if bar is not None:  # "accounts with more than 3 tickets this year": each account's count, bounded
        group, aggs = "account", [Aggregate(fn="count")]
    if (count or group) and not aggs:
        aggs.append(Aggregate(fn="count"))
        if group and entity == "accounts":
            aggs += [Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")]
    most = re.search(r"\b(who|which (?:account|customer|client|csm|rep)s?)\b(?: \w+){1,2}? (?:the )?(most|fewest|least)"
                     r"(?! recent| recently)\b", low)  # "who has the most …", "who filed the most tickets in May"
    if (most or top) and entity != "accounts" and group is None:  # "who has the most overdue milestones?": per group
        group = "owner" if re.search(r"\b(csm|rep|on (my|the) team)\b", low) else "account"
        aggs = [Aggregate(fn="count")]
    top = top and group == "account" and aggs == [Aggregate(fn="count")]  # "which account closed the most": the top
    summary = entity == "accounts" and not aggs and \
        re.search(r"\bhow(?:'s| is| are)\b.*\b(book|portfolio|accounts|team)\b", low)
    if summary:  # "how is Priya's book looking?": its totals, then its accounts worst first
        aggs = [Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")]
    if entity == "accounts" and sort is None and not filters and not group and not aggs and \
            re.search(r"\b(renew\w*|up for renewal|expir\w*)\b", low) and deadline(low, today):
        sort = Sort(field="renewal_date")  # "renewing before the board meeting": soonest first, the phrase named
    if ids:
        said.insert(0, "from the last list")
    specific = bool(filters or sort or limit or group or aggs or ids or entity != "accounts")
    if not specific:
        return None
    if entity == "accounts" and sort is None and window is not None:
        sort = Sort(field="renewal_date")
    if entity == "accounts" and sort is None and limit and not aggs:
        sort = Sort(field="arr", desc=True) if re.search(r"\btop\b", low) else Sort(field="health")
    if group and aggs and (count or most_of(low)):  # "how many … per CSM", "the most red accounts": biggest first
        sort, limit = None, (limit if limit and limit > 1 else None)
    elif group and aggs:  # groups ranked by their first figure: "which CSM has the lowest average health?"
        first = next((a for a in aggs if a.field), None)
        sort = Sort(field=first.field, desc=not re.search(r"\b(lowest|least|fewest|worst|smallest|bottom)\b", low)) \
            if first and first.field else None
        limit = limit if limit and limit > 1 else None
    elif ranked and sort is not None and limit is None and not aggs:
        if not _ORDERED.search(low):  # a superlative shows its top ten; an order asked with no limit, all of it
            limit = 10
        if sort.field in ("open_tickets", "open_high_tickets") and sort.desc:
            filters.append(Filter(field=sort.field, op="gt", value=0))
    if entity == "accounts" and sort is None and not group and (gap := next((f.field for f in filters if f.field in (
            "days_since_touch", "days_since_call", "days_since_meeting", "days_since_email", "days_since_note")), "")):
        sort = Sort(field=f"last_{gap[11:]}")  # "no touch in 30+ days": the longest silent first, with its last one
    if entity == "accounts" and sort is None and not group:
        sort = Sort(field="health")  # lists show the accounts that need attention first
    if entity == "activities" and sort is None and not group and not aggs:
        sort = Sort(field="occurred_on", desc=True)  # what was logged: newest first, each with who and what
    logged = [] if group or aggs else ["occurred_on", "kind", "author", "subject", "body"]
    fields = {"accounts": _account_fields(sort, filters, aggs), "activities": logged}.get(entity, [])
    q = Query(entity=entity, fields=fields, filters=filters, account_ids=ids,  # type: ignore[arg-type]
              sort=[sort] if sort else [], limit=limit,
              group_by=group if group in _group_fields(entity) else None, aggregates=aggs, having=bar)
    shape: Shape = "aggregate" if aggs and (count or total or avg or group or summary or most) else "list"
    what = {"accounts": "accounts", "tickets": "tickets", "fine_tunes": "fine-tunes", "milestones": "milestones",
            "plans": "onboarding plans",
            "contacts": "contacts", "surveys": "survey responses", "activities": "activities",
            "renewals": "renewals"}[entity]
    head = activity_words.noun(named) if entity == "activities" and named else what  # "notes last week"
    title = " ".join([head, *said]) if said else head
    return Plan(shape, title, q, what=what, top=top)


_VERB_FIELDS: dict[str, list[tuple[str, str]]] = {  # entity -> (verb pattern, date field); first match wins
    "tickets": [(r"\b(closed|resolved|fixed)\b", "closed_at"), (r".", "opened_at")],
    "milestones": [(r"\bdue\b|\b(?:not|n't)\s+(?:yet\s+)?(?:completed|finished|done)\b", "due_date"),
                   (r"\b(completed|finished|done|hit|reached)\b", "completed_date"), (r".", "due_date")],
    "activities": [(r".", "occurred_on")], "surveys": [(r".", "responded_on")],
    "renewals": [(r".", "renewal_date")], "fine_tunes": [(r".", "created_on")],
    "plans": [(r"\b(?:start(?:ed|s|ing)?|kick(?:ed|s)? off|began|begun|launch(?:ed)?)\b(?! (?:of|to) )", "started_on"),
              (r".", "target_date")],
    "contacts": [(r"\b(left|departed|gone|quit|moved on)\b", "left_on"), (r".", "last_engaged")],
}
_RECORD_SORTS: list[tuple[str, str, bool]] = [  # (pattern, field kind or name, descending)
    (r"\b(oldest|earliest)(?: ones?)? first\b|\bchronological|\bin order of date\b", "@date", False),
    (r"\b(newest|latest|most recent)(?: ones?)? first\b|\breverse chronological", "@date", True),
    (r"(?:\b(?:the|my|our|'s|is)\s*|^)next (?!(?:\d|few|two|three|four|five|six)\b|"
     r"(?:week|month|quarter|year|half)\b)\w+|"
     r"\bsoonest\b|\bnext (?:one )?(?:due|up)\b", "@date", False),  # "the next milestone due": soonest first
    (r"worth the most|most valuable|biggest|largest|highest arr|most arr", "arr_before", True),
    (r"worth the least|smallest|least valuable", "arr_before", False),
    (r"\b(lowest|worst) (score|nps|csat)|\bworst\b|\blowest\b", "score", False),
    (r"\b(highest|best) (score|nps|csat)|\bbest\b|\bhighest\b", "score", True),
]


def date_field(entity: str, low: str) -> str:
    """The date field a verb ties a window to: "closed in May" is closed_at, "filed in May" opened_at."""
    return next(f for pat, f in _VERB_FIELDS[entity] if re.search(pat, low))


def _dated(entity: str, filters: list[Filter]) -> str | None:
    """The date field a window of the message is on ("kicked off since September": started_on), if any."""
    return next((f.field for f in filters if f.op == "between" and ENTITIES[entity].fields[f.field].kind == "date"),
                None)


def _record_sort(entity: str, low: str, on: str | None = None) -> Sort | None:
    """An order asked for records: "oldest first", "the one worth the most", "lowest score".

    A date order is on the date the message's window is on (`on`: "kicked off since September, newest first" sorts
    by the start), else on the entity's usual date.
    """
    fields = ENTITIES[entity].fields
    for pat, fld, desc in _RECORD_SORTS:
        if re.search(pat, low):
            name = (on or _VERB_FIELDS.get(entity, [(".", ENTITIES[entity].date_field or "")])[-1][1]
                    if fld == "@date" else fld)
            if name in fields:
                return Sort(field=name, desc=desc)
    by = re.search(r"\b(?:sort|order|rank|arrange)\w*\b.{0,40}?\bby (?:the |their |its )?([a-z][a-z() ]{1,30})", low)
    if by is None:  # "rank fine-tunes by eval score": that field, best first unless the message says otherwise
        return None
    said = by.group(1)
    named = next((f for f, w in field_words(entity).items() if re.match(rf"(?:{w})\b", said)), None)
    if named is None and re.match(r"(?:\w+ )?(?:date|day|time|when)\b", said):
        named = _VERB_FIELDS.get(entity, [(".", ENTITIES[entity].date_field or "")])[-1][1]
    if named is None or named not in fields:
        return None
    up = re.search(r"\b(?:highest|best|largest|biggest|most|newest|latest|descending|desc)\b", said)
    down = re.search(r"\b(?:lowest|worst|smallest|least|oldest|earliest|ascending|asc)\b", said)
    return Sort(field=named, desc=bool(up) if up or down else fields[named].kind != "date")


def _top_by(low: str, sort: Sort) -> Sort:
    """"top 3 by health" is the healthiest three, "bottom 5 by ARR" the smallest: the word sets the direction."""
    m = re.search(r"\b(top|bottom|best|worst)\b.*\bby\s+", low)
    words = _FIELD_WORDS.get(sort.field)
    if m and words and sort.field != "p_renew" and re.search(rf"\bby\s+(?:{words})\b", low[m.end() - 4:]):
        return Sort(field=sort.field, desc=m.group(1) in ("top", "best"))
    return sort


def _group_fields(entity: str) -> set[str]:
    return set(ENTITIES[entity].fields)


def _account_fields(sort: Sort | None, filters: list[Filter], aggs: list[Aggregate]) -> list[str]:
    base = ["account", "health", "band", "arr", "renewal_date", "p_renew", "owner"]
    extra = [x.field for x in filters if x.field not in base and x.field not in ("risk", "team")]
    extra = [f"last_{x[11:]}" if x.startswith("days_since_") and x != "days_since_touch" else x for x in extra]
    extra += ["last_touch"] if "days_since_touch" in extra else []  # how long, and since when (of the kind asked)
    if sort and sort.field not in base:
        extra.append(sort.field)
    extra += [a.field for a in aggs if a.field and a.field not in base]
    return list(dict.fromkeys(base + extra))[:10]


def wants_today(low: str) -> bool:
    """A vague ask for the day's priorities ("anything I should worry about today?")."""
    return bool(_TODAY.search(low))

