"""How a message was read, in one line.

Every answer starts with its reading ("Tickets opened 2026-09-01 to 2026-09-30 on the East team's
accounts, by priority:"). Which of the message's constraints the reading could not apply is found
in constraint_words.py.
"""

from __future__ import annotations

import re
from typing import Any

from agents.understand import activity_words
from agents.understand.model import EACH_MARK, Plan
from agents.understand.statuses import OUTCOME_WORDS
from agents.understand.units import shown as in_unit
from agents.when import OPEN_START
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
    if f.field in ("days_since_call", "days_since_meeting", "days_since_email", "days_since_note") and f.op == "ge":
        return f"no {f.field[11:]} logged in the last {int(float(v)) - 1} days (other activity does not count)"
    if entity == "contacts" and f.field == "role" and f.op == "in" and isinstance(v, list):  # a role asked for
        return "titled " + " or ".join(str(x) for x in v) if v else "no title in the CRM fills that role"
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
    if f.field == "open_high_tickets":  # what "P1" / "sev1" is read as, said
        label = "open tickets of high or urgent priority"
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
    if q is None or p.what == "one activity":  # "what did hank say on the 11-15 call?": its title says it
        return f"{p.title}:"
    noun = ENTITY_WORDS.get(q.entity, q.entity)
    if p.shape == "lookup" and p.accounts and p.what.startswith("ARR change"):  # "how much did that one grow by?"
        return f"{p.what} of {p.accounts[0]['name']} (ARR after minus before):"
    if p.shape == "lookup" and p.accounts and p.what.startswith("latest ") and q.sort:  # "when did they last ...?"
        by = DATE_VERBS.get(q.sort[0].field, q.sort[0].field.replace("_", " "))
        # "any status" only where a status could have been expected (a ticket closed since); a note or a survey has none
        anyhow = ", any status" if "status" in ENTITIES[q.entity].fields else ""
        return f"The {p.what} at {p.accounts[0]['name']}{anyhow} (the newest by the date it was {by}):"
    if p.shape == "lookup" and p.accounts and p.what == "person" and q.row_ids:  # "her email?" after a contact
        words = {"email": "email", "role": "title",
                 "last_engaged": "when we last heard from them (the last-engaged date on their contact record, "
                                 "not the account's latest activity)",
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
    if q.group_by and p.top and q.having is None:  # "which account closed the most tickets": the top one(s)
        parts.append(f"the {q.group_by} with the most of them (all named if tied)")
    elif q.group_by and not q.sort and any(a.fn == "count" for a in q.aggregates) and p.shape == "aggregate":
        parts.append(f"ranked by number of {ENTITY_WORDS.get(q.entity, q.entity)}, most first")
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
    if q.offset and q.limit:  # "the next 2": which ranks are shown
        parts.append(f"ranks {q.offset + 1}-{q.offset + q.limit}")
    elif q.limit and p.shape != "lookup" and q.limit < 25 and not q.reverse:
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
