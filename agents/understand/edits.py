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
from dataclasses import replace
from datetime import date

from agents.holidays import date_named
from agents.state import AccountRef, Dialogue
from agents.understand import picks, row_asks, subjects
from agents.understand.account_asks import of_account, of_picked
from agents.understand.counts import most_of_last
from agents.understand.drill import drill_narrowed, drill_of
from agents.understand.edit_apply import _has_window, apply, current_period, rows_of
from agents.understand.edit_ops import (
    _DATE_FIELD,
    DrillGroup,
    DropFilters,
    Edit,
    ExcludeRows,
    GroupBy,
    Quote,
    RecordFilter,
    Reorder,
    Resubject,
    SelectRow,
    SetFilters,
    SetPeriod,
    ShiftPeriod,
    ShowFields,
    Summarise,
    SwitchEntity,
    SwitchPerson,
    Unmatched,
    Unreadable,
    UsageOf,
)
from agents.understand.edit_rows import _left_out, _select
from agents.understand.edit_words import (
    AHEAD,
    _ahead,
    _entity_of,
    _filters,
    _future,
    _owning,
    _renumber,
    _reorder,
    _shift,
    _structural,
    _summarise,
    _summary_word,
    _swap,
    _without_fields,
    period_of,
)
from agents.understand.latest import asks as asks_latest
from agents.understand.measures import next_due
from agents.understand.model import Plan, from_json
from agents.understand.pages import page
from agents.understand.per_row import BOTH, EACH, activity_kind, each_count, one_row, per_account
from agents.understand.records import by_records
from agents.understand.row_totals import asks_change, asks_text, counted_by_account, remeasure, usage_of
from agents.understand.slots import _limit
from agents.understand.statuses import still_to_do
from agents.understand.usage import bound_of
from agents.understand.vocabulary import Vocabulary
from agents.when import Span
from tools.query import ENTITIES, Filter, Sort

__all__ = ["AHEAD", "BOTH", "CUE", "NAMED", "ONLY", "WHOLE", "DrillGroup", "DropFilters", "Edit", "ExcludeRows",
           "GroupBy", "Quote", "RecordFilter", "Reorder", "Resubject", "SelectRow", "SetFilters", "SetPeriod",
           "ShiftPeriod", "ShowFields", "Summarise", "SwitchEntity", "SwitchPerson", "Unmatched", "one_row",
           "Unreadable", "UsageOf", "apply", "current_period", "period_of", "read", "rows_of"]

# A message that leans on the last answer: it starts like a follow-up or points back at it.
CUE = re.compile(r"^\s*(?:and|so|ok(?:ay)?|what about|how about|same(?: thing)?(?: for| but| with| again)?|now|only|"
                 r"just|then|but|also|instead|no\b|nope|not\b|i meant|actually|sorry|rather|what of|show me|"
                 r"and what about|do the same|same question)\b|"
                 r"\b(?:those|these|them|that one|this one|that list|the list|of them|among them|there)\b")
_BACK = re.compile(r"\b(?:those|these|them|their|that one|this one|that list|the list|of them|among them|there|it|"
                   r"that|they)\b|\b(?:the|which) (?:\w+ )?ones?\b|" + EACH.pattern)
_TOPIC = re.compile(r"\b(renew\w*|churn\w*|nps|csat|grr|nrr|retention|health\w*|at[- ]risk|onboard\w*|milestones?|"
                    r"champions?|contacts?|owners?|csms?|portfolio|book|fine[- ]?tun\w*|latency|usage|spend)\b")
_REFERS = re.compile(r"\b(?:the|that|this)\s+(?:[\w-]+\s+){0,3}?one\b|"
                     r"\bthe\s+(?:first|second|third|fourth|fifth|last)\b|"
                     r"#\s?\d\b")

# "all of them", "overall", "of the H1 ones": the whole list the conversation narrowed, not the narrowed part.
WHOLE = re.compile(r"\b(?:all of (?:them|those|these)|them all|altogether|overall|across (?:all|the board)|in all|"
                   r"of all|(?:the )?(?:whole|full|entire|original|first) list|all \d+|all (?:the )?accounts|"
                   r"of the [\w-]+ ones|of the [\w-]+ [\w-]+ ones|out of all)\b")
ONLY = row_asks.ONLY
NAMED = subjects.NAMED
# "ok show me all of them", "all of em, smallest first", "the full list": the list without its length.
_ALL = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|then|now|just|actually)\W+)*(?:(?:show|list|give|see|let me see)\s+"
                  r"(?:me\s+|us\s+)?)?(?:(?:all|every one|each)(?: of)? (?:them|em|'em|those|these)|them all|all|"
                  r"the (?:whole|full|entire|complete) (?:list|lot|thing)|everything|the rest|every one)\b")
_LOGGED = ("activities", "tickets", "surveys", "telemetry", "fine_tunes")  # records of what happened, never ahead
_WIDEN = re.compile(r"\b(?:include|including|add|adding|bring in|throw in)\b|\b(?:ones|them)\s+(?:too|as well)\b")
"""A value said as an addition ("include the red ones too"): kept beside the field's values, not instead of them."""
_REGROUP = re.compile(r"\b(?:break|split|broken|group)\b(?:\s+[\w'-]+){0,3}?\s+(?:down\s+)?by\s+(?:team|csm|owner|"
                      r"segment|industry)s?\b")
"""Regrouping said of the last grouped answer ("break east down by csm"): an edit of it, not a new question."""
_QUESTION = re.compile(r"\?\s*$|^(?:and\s+|so\s+|ok\s+)?(?:what|why|when|how|who|where|which|did|was|is|does|do|tell|"
                       r"any|has|had|were|can|could)\b")


def read(text: str, d: Dialogue, today: date, vocab: Vocabulary, asker: str, named: list[AccountRef],
         fresh: Plan | None, fiscal_start: int = 1) -> list[Edit]:
    """The edits a message makes to the dialogue's last query; [] when it is a new question."""
    low = text.lower().replace("\u2019", "'").strip()
    prev = from_json(d["plan"]) if d.get("plan") else None  # type: ignore[arg-type]
    grouping = re.sub(r"\b(?:per|by|for each|each)\s+(?:account|customer|client)s?\b", " ", low)  # not a topic
    topic = _entity_of(grouping) is not None or bool(_TOPIC.search(grouping))  # names what it is about, on its own
    cue = bool(CUE.search(low) or _BACK.search(low)) or len(low.split()) <= 4 or not topic or \
        (bool(d.get("rows")) and date_named(low, today) is not None)  # "what did the nov 9 meeting say?"
    due = next_due(prev.query.entity, low, today) if named and prev is not None and prev.query is not None else None
    if due is not None:  # "and Acme - the next one due there?": that account's soonest step not done
        return [Resubject(named), SetFilters(due[0], [], [a["account_id"] for a in named]), Reorder(due[1], 1)]
    other = subjects.person_switch(low, d, prev, vocab)
    if other is not None:  # "and riley's email?" after Raj was shown: Riley is the subject now
        return [other]
    subject = [a["account_id"] for a in d.get("accounts") or []]
    if named and [a["account_id"] for a in named] != subject:
        resub = subjects.resubject(low, d, prev, named, fresh)  # "no, umbrella not hooli"; [] a new question
        if resub is not None:
            return resub
    if prev is None:
        return []
    regroup = prev.query is not None and bool(prev.query.group_by) and bool(_REGROUP.search(low))
    cue = cue or regroup  # "break east down by csm" after a per-team figure: that team, per CSM
    ones = {r["account_id"] for r in d.get("rows") or []} or set(subject)
    if len(ones) == 1 and not named and (asks_latest(low) or prev.query is not None and prev.query.entity not in (
            "accounts", "contacts") and row_asks.SIDE.search(low)):
        return []  # "when did they last open a ticket?", "what's open on their side?": asked afresh of that account
    if prev.query is not None and prev.query.entity == "contacts" and d.get("rows"):
        by_name = any(f.field == "name" for f in prev.query.filters)  # "what's Jane Roe's title?": she is the subject
        rows = d.get("rows") or []
        sel = _select(low, rows, [a["name"] for a in named], vocab.roles, "contacts") if len(rows) > 1 else None
        asked = row_asks.of_contact(low, rows, sel, vocab.roles, by_name)
        if asked is not None:  # "her email?", "and what's open on their side?" after a contact: the person or account
            return [] if asked.about == "account" and named else [asked]  # "who else is at Acme?": Acme, asked anew
        if sel is None and len(rows) > 1 and row_asks.asks_person(low):
            return [Unmatched(len(rows))]  # "her email?" after several people: which of them
    if len(ones) == 1 and not named and prev.query is not None and of_account(low, prev.query.entity, today):
        return []  # "how many seats are they on?" after their tickets: the account's seats, asked afresh
    if prev.query is not None and prev.query.limit and _ALL.search(low) and not _summary_word(low) and \
            not re.search(r"\b(?:my|our|in|from|with|without|who|that|which|are|is|were|have|has)\b", low):
        reo = _reorder(low, prev.query.entity)  # "all of em, smallest first": the new order too
        return [Reorder(reo.sort if reo is not None else None, None, unlimited=True)]
    paged = page(low) if prev.query is not None and (prev.query.sort or prev.query.limit) else None
    if paged is not None:  # "the next 3", "5 more", "the ones after that": the next ranks of the same list
        return [paged]
    if re.match(r"\W*(?:(?:show|list|give)\s+(?:me\s+)?)?(?:my|our|all (?:my |our )?)\s*(?:\w+\s+){0,2}?"
                r"(?:accounts|customers|clients|book|portfolio)\b", low) and not _BACK.search(low):
        return []  # "my biggest accounts": a new question about the asker's own book
    if prev.query is not None and not named and most_of_last(low, prev.query.entity) and \
            not (fresh is not None and fresh.top and not _BACK.search(low)):  # "... closed in Q3": its own window
        return [GroupBy("account", top=True)]  # "which acct had the most?" after tickets closed in Q3: that account
    measured = remeasure(low, prev)
    if measured is not None:  # "rank by spend instead" after top accounts by tokens: the same ranking, by spend
        return [measured]
    early = _structural(low, prev.query.entity if prev.query is not None else "accounts", prev, today, fiscal_start)
    if early and isinstance(early[0], DropFilters) and prev.query is not None:  # "scrap the enterprise bit - which
        rest = low.replace(early[0].said, " ")  # of them are in the red?": the other conditions said beside it
        more = [f for f in _filters(rest, prev.query.entity, today, vocab, asker)[0] if f.field not in early[0].fields]
        return early + ([SetFilters(more, [])] if more else [])
    if early:
        return early
    coming = _ahead(low, prev, today)  # "anything else coming up across my book?": the list's next ones, over the
    if coming is not None:  # book; "and all my open tickets?": a new question
        return coming
    if not cue:
        return []
    standalone = topic and len(low.split()) > 4
    if fresh is not None and standalone and not _BACK.search(low) and not CUE.search(low) and fresh.shape != "lookup" \
            and not regroup:
        return []  # a complete question of its own
    entity: str = prev.query.entity if prev.query is not None else \
        ("renewals" if prev.shape == "metric" else "accounts")
    out: list[Edit] = []
    rows = d.get("rows") or []
    drill = drill_of(low, prev)
    if drill:  # "lowest one - show me their 3 worst accounts" after health by CSM: that CSM's accounts
        said = drill[0].said if isinstance(drill[0], DrillGroup) else ""  # "her yellow ones": yellow, of hers
        return drill + drill_narrowed(low.replace(said, " ", 1), prev, today, vocab, asker)
    narrowed = by_records(low, prev, today, vocab, asker) if not named else None
    if narrowed is not None:  # "only the high priority ones" after accounts with open tickets: by those tickets
        return [narrowed]
    if rows and asks_text(low, entity) and not named and not _entity_of(_without_fields(low, entity)) not in (
            None, entity) and not picks.by_ordinal(low, rows):
        return [Quote()]  # "what did they complain about?" after survey answers: their comments, quoted
    used = usage_of(low, prev, today, len(rows), fiscal_start) if rows else None
    if used is not None:  # "combined spend for those 3": the usage of the rows' accounts, never their ARR
        return [used]
    left = _left_out(low, rows, named, vocab, entity, today, asker)
    if left:  # "what's overdue besides that one": the query (edited by the rest) without that row
        return left
    per_row = each_count(low, entity)
    if per_row:  # "how many open tickets does each have?": one count per row's account
        return per_row
    counted = counted_by_account(low, entity, today, vocab, asker)
    if counted:  # "how many of those were high priority, and on which accounts?": the rows counted, their accounts
        return counted
    owning = _owning(low, entity, today, vocab, asker)
    if owning:  # "which of those have open tickets?" after tickets: the rows' accounts that have them
        return owning
    own_limit = prev.query is not None and prev.query.limit is not None and prev.query.limit <= len(rows) and \
        _limit(str(d.get("question") or "").lower()) is not None  # "top 10" asked for, not a list's default length
    cut = len(rows) >= 25 or int(d.get("total") or 0) > len(rows) and not own_limit  # not "the top 3" asked for
    named_top = picks.named_measure(low, entity) if rows else None
    unshown = named_top is not None and not any(isinstance(r["values"].get(named_top[0]), (int, float)) for r in rows)
    if cut or unshown:  # a list cut short, or a measure its rows do not show: asked of the query, not of the rows
        top = picks.measure_of(low, entity)
        if top is not None:
            return [Reorder(Sort(field=top[0], desc=top[1]), 1), ShowFields([top[0]])]
    nxt = re.search(r"\bnext (?:one |1 )?(?:due|up|coming|scheduled|on the list)\b|\bthe next one\b|\bnext upcoming\b",
                    low)
    date_field = ENTITIES[entity].date_field if entity in ENTITIES else None
    if nxt and date_field and date_field in ENTITIES[entity].fields and \
            all(str(r.get("date") or "") < today.isoformat() for r in rows):  # "when's the next one due?" after
        return [SetFilters([Filter(field=date_field, op="ge", value=today.isoformat())], []),  # overdue ones
                Reorder(Sort(field=date_field), 1)]
    swap = _swap(low, prev, vocab)
    if swap is not None:  # "and nimbus-small?" after a list on nimbus-large: the same field, another value
        return [swap]
    shifted = (prev.period is not None or _has_window(prev)) and _shift(low) is not None  # "the month after that one"
    theirs = picks.extreme_query(low, "accounts", [], truncated=True) if entity not in ("accounts", "telemetry") \
        else None
    if theirs is not None and theirs[0] not in ENTITIES[entity].fields:  # "the one with the most seats" after tickets
        return [SwitchEntity("accounts"), Reorder(Sort(field=theirs[0], desc=theirs[1]), 1), ShowFields([theirs[0]])]
    if named and fresh is not None and fresh.shape == "lookup" and not re.search(r"\bones?\b", low):
        return []  # "who do we still have at Acme?" after a list holding Acme: its own question about Acme
    sel = None if shifted else _select(low, rows, [a["name"] for a in named], vocab.roles, entity)
    if isinstance(sel, SelectRow) and entity in ("renewals", "accounts") and asks_change(low):
        return [SelectRow(sel.row, sel.how, change=True)]  # "how much did that one grow by?": its ARR change
    if isinstance(sel, SelectRow) and entity not in ("accounts", "contacts") and of_picked(low, today):
        return [replace(sel, about="account")]  # "the biggest one - who's the champion?": that row's account's
    if sel is not None:
        return [sel]
    day = date_named(low, today)
    bound = re.search(r"\b(?:since|after|before|until|till|through|thru|from|starting|by)\b", low)
    if day is not None and date_field and not named and not bound:  # "the nov 9 meeting" when the list lacks it
        kinds = [k for k in ("meeting", "call", "email", "note") if entity == "activities" and re.search(rf"\b{k}\b",
                                                                                                       low)]
        dated: list[Edit] = [SetPeriod(Span(day, day, day.isoformat()))]
        return dated + ([SetFilters([Filter(field="kind", value=kinds[0])], [])] if kinds else [])
    top = picks.extreme_query(low, entity, rows, truncated=cut)
    if top is not None:  # "which of them has the most seats?" when the list did not show seats: ask the query
        return [Reorder(Sort(field=top[0], desc=top[1]), 1), ShowFields([top[0]])]
    if _REFERS.search(low) and not named and not shifted and not (re.search(r"\b(?:only|just)\b", low) and (
            _filters(low, entity, today, vocab, asker)[0] or picks.value_filters(low, rows))):
        return [Unmatched(len(rows))]  # "only the open one" narrows the list by its status instead
    for a in named:  # "the Cyberdyne one" when the list has two of Cyberdyne's: which?
        hits = tuple(k for k, r in enumerate(rows) if r["account_id"] == a["account_id"])
        if len(hits) > 1 and _REFERS.search(low):
            return [Unmatched(len(rows), hits)]
    again = _renumber(low, prev)
    if again is not None:
        return [again]
    senior = re.search(r"\b(?:exec(?:utive)?s?\s+sponsors?|economic buyers?|decision[- ]makers?|most senior)\b", low)
    roles = [w for w in sorted({w for r in vocab.roles for w in re.findall(r"[a-z]{2,}", r.lower())} -
                               {"of", "and", "the", "head", "it", "ai"}, key=len, reverse=True)
             if re.search(rf"\b{re.escape(w)}s?\b", low)]
    if (senior or roles) and entity != "contacts" and re.search(r"\b(each|those|these|them|all|every|their)\b", low):
        found: list[Edit] = [SwitchEntity("contacts", senior=bool(senior),  # "who's the admin at each?"
                                          each=bool(senior or EACH.search(low)))]
        if roles and not senior:
            found.append(SetFilters([Filter(field="role", op="contains", value=roles[0])], []))
        return found
    switch = _entity_of(_without_fields(low, entity))
    many = len(set(prev.query.account_ids)) > 1 if prev.query is not None else False  # "at those 3 accounts"
    one = len({r["account_id"] for r in rows}) == 1 and not many
    upcoming = switch == "renewals" and not re.search(r"\brenewals\b|histor|\bpast\b|previous|prior|last renewal", low)
    if switch and one and (prev.shape != "lookup" or upcoming):
        return []  # "their champion?", "and their renewal?" after one account's answer: asked of that account
    if upcoming and not one and entity == "accounts" and not re.search(r"\b(?:go|went|outcomes?|results?)\b", low):
        wanted = picks.fields_named(low, "accounts")  # "who owns em + when do they renew": both fields, per row
        return [ShowFields(wanted if "renewal_date" in wanted else ["renewal_date", *wanted])]  # the next renewal
    if switch and switch != entity and (_BACK.search(low) or CUE.search(low)) and prev.shape != "metric":
        owners = bool(re.search(r"\bwho own(?:s|ed)\b|\bwhose\b|\bowners?\b|\bcsms?\b", low))
        out.append(SwitchEntity(switch, owners=owners, each=switch != "accounts" and bool(EACH.search(low))))
        entity = switch
        flags = [f for f in picks.fields_named(low, switch) if ENTITIES[switch].fields[f].kind == "bool"]
        if flags:  # "their champions?": the contacts that are champions
            out.append(SetFilters([Filter(field=flags[0], value=True)], []))
        out += activity_kind(low, switch)
    elif switch == "accounts" and re.search(r"\bwho own(?:s|ed)\b|\bwhose\b|\bowners?\b", low):
        out.append(SwitchEntity("accounts", owners=True))
    besides = [f for f in picks.fields_named(low, "accounts") if f not in ("account", "owner", "team", "health", "arr")]
    if besides and any(isinstance(e, SwitchEntity) and e.owners and e.entity == "accounts" for e in out):
        out.append(ShowFields(besides))  # "owner + renewal date for those?": every field asked, per row
    shift = _shift(low)
    per = None
    if shift is not None and (prev.period is not None or _has_window(prev)):
        out.append(shift)
    else:
        past = any(isinstance(e, SwitchEntity) and e.entity in _LOGGED for e in out)  # "calls with each this month"
        ahead = _future(prev, today) and not past or bool(re.search(r"\b(renew\w*|due|expir\w*|upcoming|coming up|"
                                                                    r"next)\b", low))
        per = period_of(low, today, ahead, fiscal_start, current_period(prev))  # "until the end of Nov": from its start
        if per is not None:
            out.append(SetPeriod(per))
    filters = subjects.without_negated(low, _filters(low, entity, today, vocab, asker)[0])  # "west, not east"
    over = bound_of(low, prev.query)  # "only the ones over $300" after spend per account: on that figure
    filters = filters if over is None else [*(f for f in filters if f.field in ("owner", "team", "segment")), over]
    if per is not None and prev.query is not None and entity in _DATE_FIELD:  # "due in 2 weeks": not done yet
        window = Filter(field=_DATE_FIELD[entity], op="between", value=[per.start.isoformat(), per.end.isoformat()])
        filters += still_to_do(entity, [*prev.query.filters, *filters, window], low, today)
    have = {f.field for f in filters}
    filters += [f for f in picks.value_filters(low, rows) if f.field not in have and f.field in ENTITIES[entity].fields]
    each = re.search(r"\b(?:per|by|for each|each)\s+(account|customer|client|owner|csm|team|segment|industry)s?\b",
                     low)
    summ = _summarise(low, entity, filters)
    if summ is not None and each and entity != "accounts" and not any(a.field for a in summ.aggregates
                                                                      if a.field in ENTITIES[entity].fields):
        word = {"customer": "account", "client": "account", "csm": "owner"}.get(each.group(1), each.group(1))
        return [GroupBy(word)]  # "what's the avg per account?" after tickets: how many each account has
    if summ is not None:
        out += [summ, *per_account([*out, summ])]
    elif filters:  # "include the red ones too": added to the values kept
        out.append(SetFilters(filters, [], widen=bool(_WIDEN.search(low))))
    reo = _reorder(low, entity)
    if reo is not None:
        out.append(reo)
    group = re.search(r"\b(?:broken down|break(?: it)? down|split|grouped|group(?: it)?)\s+by\s+(team|csm|owner|"
                      r"segment|industry|priority|status|outcome)s?\b|\b(?:per|by|for each)\s+(team|csm|segment|"
                      r"industry)\b", low)
    if group and all(isinstance(e, SetFilters) for e in out):  # "break east down by csm": East, per CSM
        out.append(GroupBy({"csm": "owner"}.get(group.group(1) or group.group(2), group.group(1) or group.group(2))))
    by = re.search(r"(?<!sort )(?<!sorted )(?<!order )(?<!ordered )\b(?:broken down|break(?: it| them| that)? down|"
                   r"split(?: it| them)?|grouped|group(?: it| them)?|per|for each|each|by)\s+(?:by\s+)?"
                   r"([a-z][a-z ]{1,24})", low)
    if by and not out:  # "by priority", "per segment": any text field of the rows
        text_fields = [f for f in picks.fields_named(by.group(1), entity)
                       if ENTITIES[entity].fields[f].kind == "text" and f not in ("account", "subject", "body",
                                                                                  "comment", "name", "email")]
        if text_fields and by.group(1).split()[0] in " ".join(picks.FIELD_WORDS.get(text_fields[0], ())
                                                              + (text_fields[0].replace("_", " "),)):
            out.append(GroupBy(text_fields[0]))
    flags = [f for f in picks.fields_named(low, entity) if entity in ENTITIES and ENTITIES[entity].fields[f].kind ==
             "bool"] if not out and re.search(r"\b(?:only|just)\b", low) else []
    if flags:  # "only champions": the rows that are, not a column saying whether they are
        out.append(SetFilters([Filter(field=flags[0], value=not re.search(r"\b(?:not|non)\b", low))], []))
    if not out and (_BACK.search(low) or CUE.search(low)) and not _summary_word(low):
        shown = [f for f in picks.fields_named(low, "accounts" if entity not in ENTITIES else entity)
                 if f not in ("account",)] or [f for f in picks.fields_named(low, "accounts") if f != "account"]
        if shown and (switch is None or switch == entity or switch == "accounts"):
            out.append(ShowFields(shown))
    role_words = {w for r in vocab.roles for w in re.findall(r"[a-z]{3,}", r.lower())} - {"head", "the", "and", "of"}
    if not out and len(rows) == 1 and _QUESTION.search(low) and not named and switch in (None, entity) and \
            not _TOPIC.search(low) and not set(re.findall(r"[a-z]{3,}", low)) & role_words:
        out.append(SelectRow(rows[0], ONLY))  # "what went wrong?" after a list of one
    if not out and switch == entity and re.search(r"\b(the|those|these|them)\b", low):
        out.append(Reorder(None, None))  # "what are the tickets?" after a list of tickets: that list again
    return out
