"""A field of one account: the champion, the owner, open tickets, the last meeting..."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from rapidfuzz import fuzz, process, utils

from agents.state import AccountRef
from agents.understand import activity_words
from agents.understand.model import Plan
from agents.understand.phrases import _LOOKUPS
from agents.understand.statuses import INCLUDING_DONE, still_to_do
from agents.when import NUMBER_WORDS, Span, span
from tools.query import Filter, Query, Sort

_STEP_WORDS = {"the", "and", "setup", "call", "use", "case", "first", "day", "review", "milestone", "with", "for"}
_SENIOR = ["chief", "cto", "ceo", "cfo", "coo", "cio", "vp", "vice president", "head", "director", "lead"]


def seniority(role: str | None) -> int:
    """Rank of a job title (lower is more senior): how the economic buyer is chosen."""
    low = (role or "").lower()
    return next((i for i, w in enumerate(_SENIOR) if re.search(rf"\b{w}\b", low)), len(_SENIOR))


LATELY_DAYS = 30
"""What "recently" means for what was logged with an account (the reading line says the dates)."""
_LATELY = re.compile(r"\brecent(?:ly)?\b|\blately\b|\bof late\b")


def lookup(low: str, account: AccountRef, today: date, steps: list[str] | None = None) -> list[Plan]:
    """The fields of one account the message asks for (at most three), if any."""
    out: list[Plan] = []
    recent = re.search(r"\b(?:last|latest|most recent|recent|newest)\s+(\d{1,2}|two|three|four|five|six|seven|"
                       r"eight|nine|ten)\b(?!\s*(?:days?|weeks?|months?|quarters?|years?)\b)", low)
    upward = bool(re.search(r"\b(?:oldest|earliest)(?: ones?)? first\b|\bchronological(?:ly)?\b|\bascending\b|"
                            r"\bin (?:date )?order\b", low))  # "last 3 touchpoints, oldest first": shown upward
    for pat, what, spec in _LOOKUPS:
        if what == "activities" and re.search(r"\bworr|\bconcern|\brisk|red flags?|\bshould i\b|\balarm", low):
            continue  # "anything in the recent notes that should worry me?" is a risk question for the agents
        if re.search(pat, low) and len(out) < 3:
            q = dict(spec)
            filters = list(q.get("filters", []))
            if what == "activities" and recent:  # "Acme's last 2 meetings": the newest two
                q["limit"] = int(recent.group(1)) if recent.group(1).isdigit() else NUMBER_WORDS[recent.group(1)]
                q["sort"] = [Sort(field="occurred_on", desc=True)]
                q["reverse"] = upward
            if what == "activities":
                past = span(low, today, future=False) if not recent else None
                if past is not None and past.text == "today":
                    past = None  # "open today" is what is open now
                if past is None and not recent and _LATELY.search(low):  # "what did we log on X recently"
                    past = Span(today - timedelta(days=LATELY_DAYS), today, f"the last {LATELY_DAYS} days")
                if past is not None:  # every record of the window, newest first
                    filters.append(Filter(field="occurred_on", op="between",
                                          value=[past.start.isoformat(), past.end.isoformat()]))
                    q["limit"] = None
                q["sort"] = q.get("sort") or [Sort(field="occurred_on", desc=True)]
                kinds = [] if activity_words.ALL.search(low) else activity_words.kinds(low)
                if kinds:  # "call notes": calls; "notes and emails": both kinds
                    filters.append(Filter(field="kind", value=kinds[0]) if len(kinds) == 1 else
                                   Filter(field="kind", op="in", value=kinds))
            if what == "tickets" and recent:  # "the last three tickets": the newest three, whatever their status
                q["limit"] = int(recent.group(1)) if recent.group(1).isdigit() else NUMBER_WORDS[recent.group(1)]
                q["sort"] = [Sort(field="opened_at", desc=True)]
                q["reverse"] = upward
                q["fields"] = ["subject", "priority", "status", "opened_at", "body"]
            elif what == "tickets":
                past = span(low, today, future=False)
                if past is not None:  # tickets of a period: every status (on the date its verb names)
                    filters.append(Filter(field="closed_at" if re.search(r"\b(closed|resolved|fixed)\b", low)
                                          else "opened_at", op="between",
                                          value=[past.start.isoformat(), past.end.isoformat()]))
                elif re.search(r"\b(closed|resolved)\b", low):
                    filters.append(Filter(field="status", value="closed"))
                elif not re.search(r"\b(all|every|history)\b", low):
                    filters.append(Filter(field="status", op="ne", value="closed"))
                m = re.search(r"\b(high|urgent|critical|p1|normal|low)\b", low)
                if m:
                    pr = {"critical": "urgent", "p1": "urgent"}.get(m.group(1), m.group(1))
                    filters.append(Filter(field="priority", op="in",
                                          value=["high", "urgent"] if pr in ("high", "urgent") else [pr]))
            if what in ("last meeting", "last touch"):  # "latest note", "when did we last meet": that kind
                kinds = activity_words.kinds(low)
                if kinds:
                    filters.append(Filter(field="kind", value=kinds[0]))
            if what == "milestones" and re.search(r"\b(overdue|late|behind)\b", low):  # past due, not done
                filters += [Filter(field="status", op="ne", value="done"),
                            Filter(field="due_date", op="lt", value=today.isoformat())]
            if what == "milestones" and not any(f.field == "due_date" for f in filters):  # "due in the next 2 weeks"
                done = re.search(r"\b(completed|finished|done|hit|reached)\b", INCLUDING_DONE.sub(" ", low))
                per = span(low, today, future=not done)
                if per is not None and per.text != "today":
                    filters.append(Filter(field="completed_date" if done else "due_date", op="between",
                                          value=[per.start.isoformat(), per.end.isoformat()]))
                    filters += still_to_do("milestones", filters, low, today)
            if what == "milestones":  # "the SSO milestone": the steps whose name holds a word of the question
                words = {w for m in steps or [] for w in re.findall(r"[a-z]{3,}", m.lower())} - _STEP_WORDS
                named = [w for w in re.findall(r"[a-z]{3,}", low) if w in words]
                if named:
                    filters.append(Filter(field="name", op="contains", value=max(named, key=len)))
            if what == "fine-tunes":  # "how have their fine-tunes gone since september?": every job of the window
                past = span(low, today, future=False)
                if past is not None and past.text != "today":
                    filters.append(Filter(field="created_on", op="between",
                                          value=[past.start.isoformat(), past.end.isoformat()]))
                    q["limit"] = None
            if what == "survey" and "csat" in low:
                filters.append(Filter(field="kind", value="csat"))
            q["filters"] = filters
            out.append(Plan("lookup", f"{account['name']}: {what}", Query(**q, account_ids=[account["account_id"]]),
                            what=what, accounts=[account]))
            if what in ("champion", "economic buyer", "milestones"):  # "contacts"/"owner" would repeat or mislead
                break
    return out



_PERSON_FIELDS = [(r"\b(e-?mail|address|reach|contact|get hold of|write to|ping)\b",
                   ["name", "email", "role", "account"]),
                  (r"\b(title|role|job|position|do)\b", ["name", "role", "account"]),
                  (r"\b(last (engaged|heard|spoke|talked)|engage)", ["name", "last_engaged", "role", "account"])]


_ASKED = re.compile(r"\b(?:who(?:'s| is| was)|how do i reach|email (?:for|of)|title of|role of)\s+"
                    r"([a-z][a-z\-]+)(?:'s)?(?:\s+([a-z])\b\.?(?:'s)?)?"
                    r"|\b(?:what(?:'s| is)|whats)\s+([a-z][a-z\-]+)(?:\s+([a-z])\b\.?)?'s\b")
"""A person asked by first name, maybe with a last initial ("who is raj s?", "what's sofia's title at X"); after
"what's" only a possessive is a name ("what's been logged" is not about a Ben)."""
_NOT_NAMES = {"the", "our", "my", "their", "this", "that", "it", "he", "she", "they", "there", "new", "next", "last",
              "up", "going", "on", "in", "at", "a", "an", "left", "still", "champion", "owner", "admin", "csm"}


def _asked(low: str) -> tuple[str, str | None] | None:
    """The first name and last initial a question asks about, if it asks about a person by name."""
    m = _ASKED.search(low)
    if m is None:
        return None
    return (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))


def _plain(s: str) -> str:
    """A name compared without case or accents ("tomas" is Tomás)."""
    return utils.default_process("".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)))


def _by_first_name(low: str, people: list[str]) -> list[str]:
    """The contacts a first name (fuzzy: "jon" is John) and an optional last initial point at."""
    m = _asked(low)
    if m is None or m[0] in _NOT_NAMES:
        return []
    firsts = sorted({p.split()[0] for p in people if " " in p})
    hits = process.extract(m[0], firsts, scorer=fuzz.ratio, processor=_plain, score_cutoff=85, limit=None)
    top = max((h[1] for h in hits), default=0)
    named = {str(h[0]) for h in hits if h[1] == top}
    return [p for p in people if p.split()[0] in named and
            (m[1] is None or p.split()[-1].lower().startswith(m[1]))]


def person(question: str, people: list[str], accounts: list[AccountRef] | None = None) -> Plan | None:
    """A contact asked about by name ("what's Jane Roe's title?", "who is raj s?"), in what the asker may see.

    A full name matches fuzzily; a first name (with a last initial, or at a named account) reads every
    contact it may mean, so several namesakes come back side by side, never one picked silently.
    """
    words = re.findall(r"[A-Za-z][A-Za-z'\-]+", question.replace("\u2019", "'"))
    words = [re.sub(r"'s$", "", w) for w in words]
    spans = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
    best = None
    for sp in spans:
        if not sp[:1].isupper() and sp.lower() != sp:
            continue
        hit = process.extractOne(sp, people, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=88)
        if hit is not None and (best is None or hit[1] > best[1]):
            best = hit
    low = question.lower().replace("\u2019", "'")
    names = [str(best[0])] if best is not None else _by_first_name(low, people)
    m = _asked(low)
    if not names or best is None and not (accounts or m and m[1]):  # a bare first name needs more to go on
        return None
    fields = next((f for pat, f in _PERSON_FIELDS if re.search(pat, low)),
                  ["name", "role", "email", "is_champion", "left_on", "last_engaged", "account"])
    cond = Filter(field="name", value=names[0]) if best is not None else Filter(field="name", op="in", value=names[:40])
    q = Query(entity="contacts", filters=[cond], fields=list(dict.fromkeys(fields)),
              account_ids=[a["account_id"] for a in accounts or []])
    said = names[0] if best is not None else f"{m[0].title() if m else names[0]}" + \
        (f" {m[1].upper()}." if m and m[1] else "")
    at = f" at {' and '.join(a['name'] for a in accounts)}" if accounts else ""
    return Plan("list", f"contacts named {said}{at}", q, what="contacts", accounts=list(accounts or []))
