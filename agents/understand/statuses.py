"""Status words, read once for a new question and for a follow-up edit, in the CRM's own vocabulary.

Each entity's status values come from the CRM (`Vocabulary.statuses`); a value is named by its own
words ("in_progress" is "in progress") or a synonym CSMs use ("stuck" is blocked, "resolved" is
closed). Two states are not stored values but conditions: "overdue" (past its date and not done)
and a fine-tune "stuck" (running or failed).
"""

from __future__ import annotations

import re
from datetime import date

from tools.query import Filter

_SYNONYMS: dict[str, str] = {  # a stored status -> more words for it
    "open": r"open|unresolved|outstanding|still open",
    "closed": r"closed|resolved|fixed",
    "failed": r"fail|failed|failing|fails|diverged|broke|broken|errored|crashed",
    "succeeded": r"succeeded|successful|passed",
    "running": r"running|in progress|ongoing|in flight",
    "in_progress": r"in[- ]progress|underway|under way|ongoing|being worked on",
    "pending": r"pending|not started|not yet started|to ?do|queued",
    "blocked": r"blocked|stuck|stalled|on hold",
    "done": r"done|completed?|finished",
    "active": r"running|active|in progress|open|ongoing|current",
    "completed": r"completed?|finished|done",
}
_STATUS_FIELD = {"tickets": "status", "fine_tunes": "status", "milestones": "status", "plans": "status"}
_DEFAULTS = {"tickets": ["open", "closed"], "fine_tunes": ["running", "failed", "succeeded"],
             "milestones": ["pending", "in_progress", "blocked", "done"], "plans": ["active", "completed"]}
_END = {"milestones": "done", "plans": "completed"}
_OVERDUE = {"milestones": ("due_date", "ne", "done"), "plans": ("target_date", "eq", "active")}


_OUTCOMES = [(r"\b(churn\w*|lost|lose|cancel\w*|walked)\b", "churned"),
             (r"\b(shr[ai]nk\w*|shrunk|contract(ed|ion|ions)|downgrad\w*|downsiz\w*|down[- ]?s[eo]l\w*|reduc\w*|"
              r"renewed (?:down|lower|smaller|for less)|(?:took|take) a (?:hair)?cut)\b", "contracted"),
             (r"\b(expan\w*|grew|grow\w*|upsold|upsell\w*|increas\w*|uplift\w*|upgrad\w*|upsiz\w*|"
              r"renewed (?:up|higher|bigger|for more)|price (?:rise|hike))\b", "expanded"),
             (r"\b(renewed flat|flat|unchanged|like[- ]for[- ]like|as[- ]is|no change|"
              r"(?:at|for) the same (?:price|arr|amount|value|terms|rate|size))\b", "renewed")]
_NOT = re.compile(r"\b(?:no|not|without|never|neither|nor|didn't|did not|wasn't|weren't|excluding|except|other than)"
                  r"\s+(?:an?\s+|any\s+)?(?:[\w-]+\s*(?:,|or|nor|and)\s+(?:no\s+)?)*$")
"""A negation just before an outcome word ("no expansion, no contraction", "neither expanded nor contracted")."""
OUTCOME_WORDS = {"renewed": "renewed flat (outcome renewed: ARR after = before)",
                 "expanded": "expanded (outcome expanded: ARR after > before)",
                 "contracted": "contracted (outcome contracted, a downgrade: ARR after < before)",
                 "churned": "churned (outcome churned: lost)"}
"""Each renewal outcome with the definition the CRM's outcome field stands for, for the reading line."""


def outcomes(low: str) -> list[str]:
    """Renewal outcomes a message names ("lose or shrink": churned, contracted).

    An outcome said negated is left out: "renewed flat - no expansion, no contraction" is the flat ones, and
    "renewals that didn't churn" every other outcome.
    """
    named: list[str] = []
    negated: list[str] = []
    for pat, o in _OUTCOMES:
        for m in re.finditer(pat, low):
            (negated if _NOT.search(low[max(0, m.start() - 60):m.start()]) else named).append(o)
    found = [o for o in dict.fromkeys(named) if o not in negated]
    if not found and negated:
        return [o for _, o in _OUTCOMES if o not in negated]
    return found


def lost_outcomes(low: str) -> list[str]:
    """The outcomes a question about ARR lost reads: "to churn" is churns, "to downgrades" contractions, else both."""
    if not re.search(r"\b(lose|lost)\b", low):
        return []
    named = [o for o in outcomes(re.sub(r"\b(lose|lost)\b", " ", low)) if o in ("churned", "contracted")]
    return named or ["churned", "contracted"]


INCLUDING_DONE = re.compile(r"\b(?:including|incl\.?|plus|even|also)\s+(?:the\s+|those\s+|any\s+)?"
                            r"(?:already\s+)?(?:done|completed?|finished)(?:\s+ones)?\b|"
                            r"\b(?:done|completed|finished) (?:ones )?(?:too|as well|included)\b|"
                            r"\bdone or not\b|\b(?:any|every|all) status(?:es)?\b")
"""A message that keeps finished steps in ("due in the next 2 weeks, including done ones")."""


def still_to_do(entity: str, filters: list[Filter], low: str, today: date) -> list[Filter]:
    """The status filter a window still ahead implies ("due in the next 2 weeks": not done yet), if any.

    Steps and plans due in a window that has not ended are the ones still to do, unless the message
    names a status or keeps the finished ones in.
    """
    done = _END.get(entity)
    if done is None or INCLUDING_DONE.search(low) or any(f.field == "status" for f in filters):
        return []
    ahead = any(f.field in ("due_date", "target_date") and (f.op == "between" and str(f.value[1]) >= today.isoformat()
                                                            or f.op in ("gt", "ge")) for f in filters)
    return [Filter(field="status", op="ne", value=done)] if ahead else []


def _words(value: str) -> str:
    return _SYNONYMS.get(value, re.escape(value).replace("_", "[ _-]"))


def status_filters(low: str, entity: str, today: date, values: dict[str, list[str]] | None = None,
                   follow_up: bool = False) -> tuple[list[Filter], list[str]]:
    """The status filters a message names for `entity`, and their words (for the title).

    `values` holds each entity's stored status values (the CRM's vocabulary); the values the schema
    defines are always known, even before a record has one. A follow-up ("only the high ones") reads
    ticket priorities by their own word.
    """
    out: list[Filter] = []
    said: list[str] = []
    if entity == "renewals":
        found = outcomes(low) if not re.search(r"\bhow much\b|\btotal\b", low) else \
            [] if follow_up else lost_outcomes(low)  # "how much did we lose there?": the rows shown
        if found:
            out.append(Filter(field="outcome", value=found[0]) if len(found) == 1 else
                       Filter(field="outcome", op="in", value=found))
            said.append(" or ".join(found))
        return out, said
    if entity == "surveys":
        if re.search(r"\bpassives?\b", low):
            out += [Filter(field="score", op="ge", value=7), Filter(field="score", op="le", value=8)]
            said.append("passives (7-8)")
        elif re.search(r"\bdetractors?\b", low):
            out.append(Filter(field="score", op="le", value=6))
            said.append("detractors (0-6)")
        elif re.search(r"\bpromoters?\b", low):
            out.append(Filter(field="score", op="ge", value=9))
            said.append("promoters (9-10)")
        return out, said
    if entity == "tickets":
        out, said = _priority(low, follow_up)
    fld = _STATUS_FIELD.get(entity)
    low = INCLUDING_DONE.sub(" ", low)  # "including done ones" names no status to keep
    if fld is None:
        return out, said
    if entity in _OVERDUE and re.search(r"\b(overdue|late|behind|past due|past (?:their |its )?target|missed|"
                                        r"slipp\w*)\b", low):
        date_fld, op, value = _OVERDUE[entity]
        out += [Filter(field="status", op=op, value=value),  # type: ignore[arg-type]
                Filter(field=date_fld, op="lt", value=today.isoformat())]
        return out, said + ["overdue" if entity == "milestones" else "past their target date"]
    if entity == "fine_tunes" and re.search(r"\b(stuck|hung|hanging|not finish\w*|unfinished)\b", low):
        return out + [Filter(field="status", op="in", value=["running", "failed"])], said + ["running or failed"]
    known = list(dict.fromkeys(_DEFAULTS[entity] + (values or {}).get(entity, [])))  # the schema's and the CRM's
    negated = [v for v in known if re.search(rf"\b(?:not|n't|never|isn't|aren't|wasn't|weren't)\s+(?:yet\s+|been\s+)?"
                                            rf"(?:{_words(v)})\b", low)]
    if negated:  # "milestones that aren't done": any other status
        return out + [Filter(field="status", op="ne" if len(negated) == 1 else "in",
                             value=negated[0] if len(negated) == 1 else [v for v in known if v not in negated])], \
            said + ["not " + " or ".join(negated)]
    end = _END.get(entity)
    if end and entity != "plans" and re.search(r"\b(still open|open|outstanding|incomplete|unfinished|remaining|"
                                               r"left to do|not (?:yet )?(?:done|complete|completed|finished))\b", low):
        return out + [Filter(field="status", op="ne", value=end)], said + [f"not {end}"]
    hits = [v for v in known if re.search(rf"\b(?:{_words(v)})\b", low)]
    if entity == "tickets":  # an open ticket is any that is not closed
        closed = next((v for v in known if re.fullmatch(_SYNONYMS["closed"], v)), "closed")
        low = re.sub(r"\b(did|do|does|will|to|they|customers|clients|we|you)\s+(?:\w+\s+)?open\b", " ", low)  # a verb
        if re.search(rf"\b(?:{_SYNONYMS['open']})\b", low):
            return out + [Filter(field="status", op="ne", value=closed)], said + ["open"]
        if re.search(rf"\b(?:{_SYNONYMS['closed']})\b", low):
            return out + [Filter(field="status", value=closed)], said + ["closed"]
        return out, said
    if entity == "plans" and len(hits) > 1 and "completed" in hits:  # "finished" outranks "running"
        hits = ["completed"] if re.search(rf"\b(?:{_SYNONYMS['completed']})\b", low) else hits
    if not hits:
        return out, said
    if len(hits) == 1:
        out.append(Filter(field="status", value=hits[0]))
    else:
        out.append(Filter(field="status", op="in", value=hits))
    return out, said + [" or ".join(h.replace("_", " ") for h in hits)]


def _priority(low: str, follow_up: bool) -> tuple[list[Filter], list[str]]:
    if follow_up:
        if re.search(r"\b(?:critical|p1s?|sev ?1s?)\b", low):  # as a new question reads them: high or urgent
            return [Filter(field="priority", op="in", value=["high", "urgent"])], ["high-priority"]
        m = re.search(r"\b(urgent|high|normal|low)\b(?:[- ]priority)?", low)
        if m and (re.search(r"priority|urgent|\bp1\b", low) or re.search(r"\b(high|low|normal) ones\b", low)):
            return [Filter(field="priority", value=m.group(1))], [f"{m.group(1)} priority"]
        return [], []
    if re.search(r"\b(high|urgent|critical|p1|highest)\b", low):
        return [Filter(field="priority", op="in", value=["high", "urgent"])], ["high-priority"]
    return [], []
