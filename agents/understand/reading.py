"""How a message was read, in one line, and which of its constraints the reading could not apply.

Every answer starts with its reading ("Tickets opened 2026-09-01 to 2026-09-30 on the East team's
accounts, by priority:"). A phrase that carries a constraint (a window, an order, a superlative, a
verb tied to a date, a status, a number) and is not reflected in the plan is reported, so the
answer says "I did not apply 'before the board meeting'" instead of confidently answering another
question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from agents.understand import activity_words
from agents.understand.model import EACH_MARK, Plan
from agents.understand.statuses import OUTCOME_WORDS
from agents.understand.units import shown as in_unit
from agents.when import OPEN_START, span
from tools.query import ENTITIES, Filter

ENTITY_WORDS = {"accounts": "accounts", "contacts": "contacts", "tickets": "tickets", "activities": "activities",
                "renewals": "renewals", "telemetry": "daily usage", "fine_tunes": "fine-tunes",
                "milestones": "onboarding milestones", "surveys": "survey responses", "plans": "onboarding plans"}
DATE_VERBS = {"opened_at": "opened", "closed_at": "closed", "renewal_date": "renewing", "due_date": "due",
              "responded_on": "answered", "created_on": "created", "occurred_on": "logged",
              "last_engaged": "last engaged",
              "completed_date": "completed", "day": "on", "contract_start": "signed", "last_touch": "last touched",
              "target_date": "targeting go-live", "started_on": "started"}
USAGE_WORDS = {"spend": "usage spend (their model usage charges, not the ARR they pay us)",
               "tokens": "tokens used (input and output)", "api_requests": "API requests"}
"""A usage total over the last answer's accounts, said so that spend is not read as ARR."""
DEFAULT_PERIOD = "the default last 12 months"
"""The text of a metric's window when the message states none."""
METRIC_NAMES = {"nrr": "NRR", "grr": "GRR", "logo_retention": "logo retention", "churn_rate": "churn rate",
                "avg_csat": "average CSAT", "avg_nps": "average NPS", "nps": "NPS"}


def _money(v: Any) -> str:
    return f"${float(v):,.0f}"


def _filter_words(entity: str, f: Filter) -> str | None:
    """One filter in words; None for date windows (said with the subject)."""
    col = ENTITIES[entity].fields.get(f.field)
    kind = col.kind if col else "text"
    v = f.value
    if kind == "date" and f.op in ("between", "lt", "le", "gt", "ge") or entity == "activities" and f.op == "not_null":
        return None  # said with the subject ("opened 2026-09-01 to 2026-09-30", "last engaged before ...")
    if f.field == "status" and f.op == "ne" and v in ("closed", "done", "completed"):
        return {"done": "not done", "completed": "not completed"}.get(v, "open")
    if entity == "activities" and f.field == "kind" and f.op in ("eq", "in"):
        return None  # said as the records' noun ("Calls logged ...")
    if f.field in ("team",):
        return " and ".join(v) + " teams' accounts" if isinstance(v, list) else f"the {v} team's accounts"
    if f.field == "owner":
        return "owned by " + (" or ".join(v) if isinstance(v, list) else str(v))
    if f.field == "outcome" and entity == "renewals" and f.op in ("eq", "in", "ne"):  # the definition it stands for
        said = [str(x) for x in (v if isinstance(v, list) else [v])]
        if f.op == "ne" or set(said) == {"renewed", "expanded", "contracted"}:
            return f"any outcome but {v if f.op == 'ne' else 'churned'} (renewed at any ARR)" if \
                (v if f.op == "ne" else "churned") == "churned" else f"any outcome but {v}"
        return " or ".join(OUTCOME_WORDS.get(x, f"outcome {x}") for x in said)
    if f.field == "band" and f.op == "in" and isinstance(v, list):  # "include the red ones too"
        return " or ".join(str(x) for x in v) + " health"
    if f.field in ("segment", "band", "risk", "industry", "outcome", "lifecycle_stage") and f.op == "eq":
        return {"risk": f"{v}", "band": f"{v} health", "lifecycle_stage": f"in {v}"}.get(f.field, str(v))
    if f.field == "is_champion":
        return None if v else "not champions"
    if entity == "contacts" and f.field == "name" and f.op == "in" and isinstance(v, list) and v:
        first = {str(x).split()[0] for x in v}  # "who is raj s?": the name as asked, never the namesakes it may mean
        initial = {str(x).split()[-1][:1].upper() for x in v}
        return f"named {' or '.join(sorted(first))}" + (f" {initial.pop()}." if len(initial) == 1 and
                                                         len(v) > 1 or len(v) == 1 and len(str(v[0]).split()) > 1
                                                         else "")
    if f.field == "left_on" and f.op == "is_null":
        return "still there"
    if f.field == "champion_present" and f.op == "lt":
        return "without a champion"
    if f.field in ("champion_present", "open_tickets", "open_high_tickets", "onboarding_overdue") and \
            (f.op, f.value) in (("gt", 0), ("ge", 1)):  # "with open tickets"; "more than 2" says its number
        return {"champion_present": "with a champion", "open_tickets": "with open tickets",
                "open_high_tickets": "with open high-priority tickets",
                "onboarding_overdue": "with overdue onboarding milestones"}[f.field]
    label = (col.label if col else f.field.replace("_", " ")) or f.field
    if f.field == "arr" or kind == "money":
        shown = _money(v) if not isinstance(v, list) else " to ".join(_money(x) for x in v)
    elif kind == "ratio" and isinstance(v, (int, float)):
        shown = f"{round(float(v) * 100, 1):g}%"
    elif isinstance(v, list):
        shown = " or ".join(str(x) for x in v)
    elif isinstance(v, float):
        shown = f"{v:g}"
    else:
        shown = str(v)
    words = {"eq": f"{label} {shown}", "ne": f"{label} not {shown}", "lt": f"{label} under {shown}",
             "le": f"{label} at most {shown}", "gt": f"{label} over {shown}", "ge": f"{label} at least {shown}",
             "contains": f"{label} containing \u201c{shown}\u201d", "in": f"{label} {shown}",
             "between": f"{label} between {shown}", "is_null": f"no {label}", "not_null": f"with a {label}"}
    return words.get(f.op, f"{label} {shown}")


def _window(entity: str, filters: list[Filter]) -> str | None:
    for f in filters:
        col = ENTITIES[entity].fields.get(f.field)
        if col is not None and col.kind == "date" and f.op in ("between", "lt", "le", "gt", "ge"):
            verb = "renewal date" if entity == "renewals" else DATE_VERBS.get(f.field, f.field.replace("_", " "))
            if f.op == "between" and str(f.value[0])[:10] <= OPEN_START.isoformat():  # "before November 1"
                return f"{verb} up to {str(f.value[1])[:10]}"
            if f.op == "between":
                return f"{verb} {f.value[0]} to {f.value[1]}"
            side = {"lt": "before", "le": "on or before", "gt": "after"}.get(f.op, "on or after")
            return f"{verb} {side} {f.value}"
    return None


def said_filters(entity: str, filters: list[Filter]) -> str:
    """Filters in words ("yellow health", "renewing 2027-01-01 to 2027-03-31"): what a follow-up took off."""
    words = [_window(entity, [f]) or _filter_words(entity, f) or f.field.replace("_", " ") for f in filters]
    return " and ".join(dict.fromkeys(words))


def reading(p: Plan) -> str:
    """The plan in one line, ending with a colon: what the answer below lists, counts or measures."""
    if p.shape == "today" and p.what == "changes" and p.period is not None:
        return f"What changed in your accounts from {p.period.start.isoformat()} to {p.period.end.isoformat()}:"
    if p.shape == "today":
        return "What needs you today across your accounts:"
    if p.shape in ("compare", "signals"):
        return f"{p.title[:1].upper()}{p.title[1:]}:"
    if p.shape == "metric":
        where = p.accounts[0]["name"] if p.accounts else "your scope"
        extra = []
        if p.query is not None:
            extra = [w for f in p.query.filters if (w := _filter_words(p.query.entity, f))]
            if p.query.group_by:
                extra.append(f"per {p.query.group_by}")
        per = f"{p.period.start.isoformat()} to {p.period.end.isoformat()}" if p.period else "the default window"
        said = f" ({p.period.text})" if p.period and p.period.text and not p.period.text[0].isdigit() else ""
        base = "renewals due" if p.metric in ("nrr", "grr", "logo_retention", "churn_rate") else "responses received"
        return (f"{METRIC_NAMES.get(p.metric or '', p.metric)} for {where}" + (f", {', '.join(extra)}" if extra else "")
                + f", over {base} {per}{said}:")
    q = p.query
    if q is None:
        return f"{p.title}:"
    noun = ENTITY_WORDS.get(q.entity, q.entity)
    if p.shape == "lookup" and p.accounts and p.what.startswith("ARR change"):  # "how much did that one grow by?"
        return f"{p.what} of {p.accounts[0]['name']} (ARR after minus before):"
    if p.shape == "lookup" and p.accounts and p.what.startswith("latest ") and q.sort:  # "when did they last ...?"
        by = DATE_VERBS.get(q.sort[0].field, q.sort[0].field.replace("_", " "))
        anyhow = "" if q.entity == "activities" else ", any status"  # a note has no status
        return f"The {p.what} at {p.accounts[0]['name']}{anyhow} (the newest by the date it was {by}):"
    if p.shape == "lookup" and p.accounts and p.what == "person" and q.row_ids:  # "her email?" after a contact
        words = {"email": "email", "role": "title", "last_engaged": "when we last engaged with them",
                 "left_on": "whether they are still there", "is_champion": "whether they are the champion"}
        asked = [words[c] for c in q.fields[:q.fields.index("name") if "name" in q.fields else 0] if c in words]
        return f"{p.title} at {p.accounts[0]['name']}: " + " and ".join(asked) + " (and whether they left):"
    kinds = activity_words.of_filters(q.filters) if q.entity == "activities" else []
    acts = activity_words.noun(kinds) if q.entity == "activities" else ""
    if p.shape == "lookup" and p.accounts and acts and p.what in ("last meeting", "last touch"):
        one = kinds[0] if len(kinds) == 1 else "activity (a note, call, meeting or email)"  # "when did we last call?"
        subject = f"the last {one} with {p.accounts[0]['name']}"
    elif p.shape == "lookup" and p.accounts and acts and p.what == "activities":
        subject = f"{acts} logged with {p.accounts[0]['name']}"
    elif p.shape == "lookup" and p.accounts:
        subject = f"{p.what or noun} of {p.accounts[0]['name']}"
    elif q.entity == "telemetry" and p.period is not None and q.aggregates and q.aggregates[0].field in USAGE_WORDS:
        subject = f"{USAGE_WORDS[q.aggregates[0].field or '']}, {p.period.text}"  # "total cost of those"
    elif q.entity == "telemetry" and p.accounts:  # "Acme's token usage this month"
        subject = f"{noun} of {' and '.join(a['name'] for a in p.accounts)}"
    elif q.row_ids and len(q.row_ids) == 1:
        one = kinds[0] if len(kinds) == 1 else "activity" if acts else noun[:-1] if noun.endswith("s") else noun
        subject = f"the {one} picked from the last answer"
    elif acts and not q.row_ids:
        subject = f"{acts} logged"
    else:
        subject = noun
    each = p.what.endswith(EACH_MARK) and bool(q.account_ids) and not p.accounts
    champions = each and any(f.field == "is_champion" and f.value is True for f in q.filters)
    if each:  # "who's the champion at each?": of the rows' accounts, theirs
        subject = "their most senior current contacts (the likely executive sponsors)" if p.what.startswith(
            "most senior") else "their champions" if champions else f"their {noun}"
    parts = [subject]
    overdue = [f for f in q.filters if f.field in ("due_date", "target_date") and f.op == "lt"]
    status = [f for f in q.filters if f.field == "status"]
    if overdue and status:  # "overdue": past its date and not done (a status named besides is said as such)
        plain = all((f.op, f.value) in (("ne", "done"), ("eq", "active")) for f in status)
        parts.append(f"overdue (past {overdue[0].field.replace('_', ' ')} {overdue[0].value}{', not done' * plain})")
        q = q.model_copy(update={"filters": [f for f in q.filters if f not in overdue and
                                             (f.field != "status" or not plain)]})
    win = _window(q.entity, q.filters)
    if win and acts and parts[0].endswith(" logged"):  # "Notes logged 2026-11-16 to 2026-11-22"
        parts[0] += win.removeprefix("logged")
    elif win and acts and " logged with " in parts[0]:  # "Activities (...) logged with Initech 2026-09-01 to ..."
        parts[0] += win.removeprefix("logged")
    elif win:
        parts.append(win)
    parts += [w for f in q.filters if (w := _filter_words(q.entity, f))]
    if p.shape != "lookup" and not champions and any(f.field == "is_champion" and f.value is True
                                                     for f in q.filters):
        parts.append("champions only")  # a lookup's subject says it already ("champion of Acme")
    if q.row_ids and len(q.row_ids) > 1 and not each:
        parts.append(f"the {len(q.row_ids)} shown in the last answer")
    if q.exclude_ids:
        parts.append(f"other than the {'one' if len(q.exclude_ids) == 1 else len(q.exclude_ids)} left out")
    if q.account_ids == [-1]:  # an edit of an answer that listed nothing: nothing, never everything
        parts.append("for the accounts of the last answer (it listed none)")
    elif q.account_ids and not p.accounts and not q.row_ids and not each:
        parts.append(f"for the {len(set(q.account_ids))} account{'s' if len(set(q.account_ids)) != 1 else ''} "
                     "of the last answer")
    elif q.account_ids and p.accounts and p.shape == "list" and q.entity != "accounts":  # "who at Acme ..."
        parts.append("at " + " and ".join(a["name"] for a in p.accounts))
    if q.group_by:
        parts.append(f"by {q.group_by}")
    if q.group_by and q.having is not None and q.having.field != "count":  # "averaging p95 over 1.5s"
        agg = next((a for a in q.aggregates if a.field == q.having.field), None)
        col = ENTITIES[q.entity].fields.get(q.having.field)
        word = {"gt": "over", "ge": "at least", "lt": "under", "le": "at most"}.get(q.having.op, "exactly")
        parts.append(f"only {q.group_by}s whose {'average' if agg and agg.fn == 'avg' else 'total'} "
                     f"{re.sub(r' ms$', '', (col.label if col else '') or q.having.field.replace('_', ' '))} "
                     f"over the window is {word} "
                     f"{in_unit(q.having.field, col.kind if col else 'number', float(q.having.value))}")
    elif q.group_by and q.having is not None:  # "accounts with more than 3 tickets"
        word = {"gt": "more than", "ge": "at least", "lt": "fewer than", "le": "at most"}.get(q.having.op, "exactly")
        n = f"{q.having.value:g}" if isinstance(q.having.value, (int, float)) else str(q.having.value)
        parts.append(f"only {q.group_by}s with {word} {n} {ENTITY_WORDS.get(q.entity, q.entity)}")
    if p.what == "what they said":  # "what did they complain about?"
        parts.append("what they said, quoted from their own text")
    aggs = [a for a in q.aggregates if a.fn != "count" and a.field]
    if aggs:
        parts.append("with " + ", ".join(f"{'total' if a.fn == 'sum' else a.fn} {a.field.replace('_', ' ')}"
                                         for a in aggs if a.field))
    elif any(a.fn == "count" for a in q.aggregates):
        parts.append("counted")
    if q.sort:
        s = q.sort[0]
        col = ENTITIES[q.entity].fields.get(s.field)
        label = (col.label if col and col.label else s.field.replace("_", " "))
        dated = col is not None and col.kind == "date"
        ahead = s.field in ("due_date", "target_date")  # dates of what is planned: "soonest first" is the earliest
        order = (("latest first" if s.desc else "earliest first") if ahead else
                 ("newest first" if s.desc else "oldest first")) if dated else \
            ("highest first" if s.desc else "lowest first")
        if q.reverse and q.limit:  # "last 3 touchpoints, oldest first": the 3 most recent, shown the other way
            which = ("most recent" if s.desc else "earliest") if dated else ("highest" if s.desc else "lowest")
            shown = ("oldest first" if s.desc else "newest first") if dated else \
                ("lowest first" if s.desc else "highest first")
            parts.append(f"the {q.limit} {which} by {label}, shown {shown}")
        elif acts and s.field == "occurred_on":
            parts.append(order)  # "Notes logged ..., newest first"
        else:
            parts.append(f"sorted by {label}, {order}")
    if q.limit and p.shape != "lookup" and q.limit < 25 and not q.reverse:
        parts.append(f"top {q.limit}" if q.sort else f"first {q.limit}")
    text = ", ".join(parts)
    if each:
        k = len(set(q.account_ids))
        text = f"of the {k} account{'s' if k != 1 else ''} of the last answer, {text}"
    return text[:1].upper() + text[1:] + ":"


def title(p: Plan) -> str:
    """The reading as a short title (no colon), for an edited plan's count line."""
    line = reading(p).rstrip(":")
    head, sep, rest = line.partition(", their ")
    if p.what.endswith(EACH_MARK) and sep and head.startswith("Of the "):  # "champions at the 3 accounts of ..."
        subject, comma, more = rest.partition(", ")
        return f"{subject} at {head[3:]}{comma}{more}"
    line = line[:1].lower() + line[1:]
    return "days of usage" + line[len("daily usage"):] if line.startswith("daily usage") else line  # "2356 days of"


# ---- constraints a message carries --------------------------------------------------------------------

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
        (q is not None and any(f.field in ("days_since_touch", "usage_change_30d") for f in q.filters))
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
