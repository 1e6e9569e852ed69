"""Understanding a question as a typed `Query`: slots from the CRM's own vocabulary, deterministic first.

`plan()` reads a message (with the accounts the router linked and the conversation's last result)
and returns a `Plan`: a field lookup for one account, a filtered/sorted/aggregated list, a metric
over a period, a side-by-side comparison, today's priorities, or None when the message is one of
the agents' own kinds (health, renewal, needs, onboarding, tuning) and nothing more specific.

Slots come from the CRM itself (model, team, CSM, industry and plan names), numbers and thresholds,
and dates via `agents.when` (dateutil). Nothing here reads data the asker may not see: the query
layer applies the scope when the plan runs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select

from agents.state import AccountRef
from agents.when import NUMBER_WORDS, Span, span
from integrations.crm.models import CSM, Account, Contact, Contract, Milestone, TelemetryDaily
from integrations.crm.store import CRMStore
from tools.query import ENTITIES, Aggregate, Filter, Query, Sort

Shape = Literal["lookup", "list", "aggregate", "compare", "metric", "today"]


@dataclass
class Plan:
    """What a message asks for, as data the tools can run."""

    shape: Shape
    title: str
    query: Query | None = None
    what: str = ""  # the field or list asked for, in words ("champion", "open tickets")
    metric: str | None = None
    period: Span | None = None
    accounts: list[AccountRef] = field(default_factory=list)


@dataclass(frozen=True)
class Vocabulary:
    """Names the CRM itself uses: models, teams, CSMs, industries, plans."""

    models: list[str]
    teams: list[str]
    csms: list[str]
    industries: list[str]
    plans: list[str]
    roles: list[str] = field(default_factory=list)
    milestones: list[str] = field(default_factory=list)


_VOCAB: dict[int, tuple[float, Vocabulary]] = {}
VOCAB_TTL_S = 60.0


def vocabulary(store: CRMStore) -> Vocabulary:
    """The CRM's vocabulary (a few DISTINCT queries, kept for a minute per store)."""
    hit = _VOCAB.get(id(store))
    if hit is not None and time.monotonic() - hit[0] < VOCAB_TTL_S:
        return hit[1]
    vocab = _read_vocabulary(store)
    _VOCAB[id(store)] = (time.monotonic(), vocab)
    return vocab


def _read_vocabulary(store: CRMStore) -> Vocabulary:
    with store.session() as s:
        models = [m for m in s.scalars(select(TelemetryDaily.model_name).distinct()) if m]
        teams = [t for t in s.scalars(select(CSM.team).distinct()) if t]
        csms = list(s.scalars(select(CSM.name).where(CSM.role != "admin")))
        inds = [i for i in s.scalars(select(Account.industry).distinct()) if i]
        plans = [p for p in s.scalars(select(Contract.plan).distinct()) if p]
        roles = [r for r in s.scalars(select(Contact.role).distinct()) if r]
        steps = [m for m in s.scalars(select(Milestone.name).distinct().limit(500)) if m]
    return Vocabulary(sorted(models, key=len, reverse=True), teams, csms, inds, plans, roles, steps)


_NUMW = r"(\d[\d,]*(?:\.\d+)?(?:\s?[km](?![a-z])|%)?|" + "|".join(NUMBER_WORDS) + r")"
_MORE = r"(?:above|over|more than|greater than|higher than|at least|>=?|exceeding|north of)"
_LESS = r"(?:below|under|less than|lower than|at most|<=?|beneath|south of)"
_FIELD_WORDS: dict[str, str] = {
    "health": r"health(?: score)?|score", "arr": r"arr|revenue|contract value|acv|spend(?:ing)? with us",
    "p_renew": r"p\(renew\)|renewal (?:probability|likelihood|odds)|chance of renewing|likelihood to renew",
    "nps": r"nps", "seat_utilization": r"seat (?:use|usage|utili[sz]ation)|utili[sz]ation",
    "usage_change_30d": r"usage (?:change|growth)", "days_since_touch": r"days since (?:touch|contact)",
    "open_tickets": r"open (?:tickets?|tix|cases?)|tickets? open", "p95_ms": r"p95(?: latency)?|latency",
    "error_rate": r"error rate",
    "spend_30d": r"spend|usage spend|cost", "seats": r"seats",
}
_SORTS: list[tuple[str, str, bool]] = [  # (pattern, field, descending)
    (r"(worst|lowest|bottom) (latest )?nps|nps is (the )?(worst|lowest)", "nps", False),
    (r"(best|highest|top) (latest )?nps|nps is (the )?(best|highest)", "nps", True),
    (r"(next|upcoming|soonest|first) renewals?\b|renews? next\b", "renewal_date", False),
    (r"renew\w* (?:first|soonest|earliest)\b|soonest|earliest renewal|next to renew|closest renewal", "renewal_date",
     False),
    (r"smallest|lowest[- ]arr|least revenue|bottom \d* ?(?:accounts )?by arr", "arr", False),
    (r"biggest|largest|highest[- ]arr|most (?:valuable|revenue|arr)|top .*by (?:arr|revenue|size)|by arr|"
     r"by revenue", "arr", True),
    (r"least likely to renew|lowest p\(renew\)|by p\(renew\)|riskiest|most at risk|highest risk|most risk|by risk",
     "p_renew", False),
    (r"most likely to renew|highest p\(renew\)|safest", "p_renew", True),
    (r"healthiest|best health|highest health|strongest", "health", True),
    (r"unhealthiest|worst|lowest health|weakest|sickest|by health", "health", False),
    (r"most (?:open )?tickets", "open_tickets", True),
    (r"highest latency|slowest", "p95_ms", True),
    (r"highest error|most errors", "error_rate", True),
    (r"(?:highest|most|biggest) spend|spend(?:ing)? the most", "spend_30d", True),
    (r"by usage|most usage|most (?:api )?(?:requests|calls|traffic)|heaviest users?|use (?:us|it) the most",
     "requests_30d", True),
    (r"most tokens|by tokens", "tokens_30d", True),
    (r"fastest[- ]growing|growing (?:the )?fastest|most growth|biggest usage (?:growth|increase)|"
     r"(?:grew|grown|increased|expanded) the most", "usage_change_30d",
     True),
    (r"(?:biggest|largest|steepest) (?:usage )?(?:drop|decline)|declining (?:the )?(?:fastest|most)",
     "usage_change_30d", False),
    (r"longest (?:since|without)|most neglected|least (?:recently )?touched", "days_since_touch", True),
]
_GROUPS: dict[str, str] = {"csm": "owner", "owner": "owner", "rep": "owner", "team": "team", "segment": "segment",
                           "band": "band", "industry": "industry", "vertical": "industry", "plan": "plan",
                           "tier": "plan", "model": "model", "stage": "lifecycle_stage", "outcome": "outcome",
                           "priority": "priority", "status": "status"}
PLURAL = re.compile(r"\b(which|what|any|my|our|all|list|show)\b.{0,20}\b(accounts|customers|clients|renewals)\b")
THOSE = re.compile(r"\b(those|these|of them|among them|that list|the list|this list|on it|in it)\b|"
                   r"\b(sort|rank|order|filter|list|show|group|break down|narrow|split) (them|they)\b")
_ORDINAL = re.compile(r"\b(?:the\s+)?(first|second|third|fourth|fifth|last|top|bottom)\s+(?:one|account|customer)\b"
                      r"|\bthat one\b|\bthis one\b|\bthe (first|second|third)\b(?!\s+(?:\d|few|two|three|week|month|"
                      r"quarter|year|day|time|meeting|call|touch))|#(\d)")
_TODAY = re.compile(r"worr(y|ied)|\bfocus\b|need(s)? (my )?attention|my priorit(y|ies)|priorit(y|ies) (for )?today|"
                    r"prioriti[sz]e|what should i (do|work on|"
                    r"look at|tackle)|anything (urgent|important|pressing|i should|on fire|to know)|on my plate|"
                    r"start (my|the) day|\bfires?\b|what(?:'s| is) urgent|keep me up|to-?dos?\b|action items|"
                    r"going on (with|in|across) (my|our) (book|portfolio|accounts)|run-?down|catch me up|"
                    r"what(?:'s| has)? changed|what'?s new (with|in|across) (my|our)|brief me\b(?! on)|"
                    r"\b(daily|morning) (brief|summary|update)|\bfor today\b|\btoday'?s (list|plan|summary)")


def _money(tok: str) -> float:
    t = tok.replace(",", "").replace("$", "").strip()
    mult = 1000.0 if t.endswith("k") else 1e6 if t.endswith("m") else 1.0
    return float(t.rstrip("km%")) * mult


def _value(tok: str, fld: str) -> float:
    tok = tok.strip()
    if tok.rstrip("%") in NUMBER_WORDS:
        return float(NUMBER_WORDS[tok.rstrip("%")])
    v = _money(tok)
    if fld in ("p_renew", "seat_utilization", "error_rate", "usage_change_30d") and (tok.endswith("%") or v > 1):
        v = v / 100
    return v


def thresholds(low: str) -> list[Filter]:
    """Comparisons like "health below 60", "over $100k ARR", "P(renew) under 50%"; a bare "$100k" is ARR."""
    out = []
    for m in re.finditer(rf"({_MORE}|{_LESS})\s*\$\s*(\d[\d,]*(?:\.\d+)?\s*[km]?)(?!\s*(?:arr|revenue|spend))", low):
        out.append(Filter(field="arr", op="gt" if re.match(_MORE, m.group(1)) else "lt", value=_money(m.group(2))))
    for fld, words in _FIELD_WORDS.items():
        for m in re.finditer(rf"(?:{words})\s*(?:is|of|score)?\s*({_MORE}|{_LESS})\s*\$?{_NUMW}", low):
            out.append(Filter(field=fld, op="gt" if re.match(_MORE, m.group(1)) else "lt",
                              value=_value(m.group(2), fld)))
        for m in re.finditer(rf"({_MORE}|{_LESS})\s*\$?{_NUMW}\s*(?:in\s+)?(?:{words})\b", low):
            out.append(Filter(field=fld, op="gt" if re.match(_MORE, m.group(1)) else "lt",
                              value=_value(m.group(2), fld)))
    return out


def _say(f: Filter) -> str:
    """A threshold in words: "ARR over $100,000", "P(renew) under 50%"."""
    label = {"arr": "ARR", "p_renew": "P(renew)", "p95_ms": "p95 latency (ms)", "seat_utilization": "seat use",
             "usage_change_30d": "30-day usage change", "open_tickets": "open tickets", "error_rate": "error rate",
             "spend_30d": "30-day spend", "nps": "latest NPS", "health": "health"}.get(f.field, f.field)
    v = float(f.value)
    shown = f"${v:,.0f}" if f.field in ("arr", "spend_30d") else f"{v * 100:.0f}%" if f.field in (
        "p_renew", "seat_utilization", "usage_change_30d", "error_rate") else f"{v:g}"
    return f"with {label} {'over' if f.op in ('gt', 'ge') else 'under'} {shown}"


def _limit(low: str) -> int | None:
    m = re.search(r"\b(?:top|bottom|first|best|worst|biggest|largest|smallest|riskiest|healthiest)\s+" + _NUMW + r"\b",
                  low) or re.search(r"\b" + _NUMW + r"\s+(?:biggest|largest|smallest|riskiest|healthiest|"
                                                 r"worst|best|most|least|top)\b", low)
    if m and m.group(1).strip().rstrip("km%").replace(",", "").isdigit() or (m and m.group(1) in NUMBER_WORDS):
        return max(1, min(100, int(_value(m.group(1), ""))))
    if re.search(r"\b(top|bottom)\b", low):
        return 5
    if re.search(r"\b(my|our|the) (next|upcoming|soonest) renewal\b(?!s)", low):
        return 1
    if re.search(r"\b(which|what) (one|of (those|these|them))\b|\bwho\b|\bwhich (account|customer)\b"
                 r"(?!s)", low) and re.search(r"\b(first|soonest|earliest|most|least|biggest|largest|smallest|highest|"
                                          r"lowest|riskiest|healthiest|worst|best|fastest|slowest|latest)\b", low):
        return 1
    if re.search(r"\bwhich (one|account|customer)\b|\bwho\b.*\b(first|soonest|most|least|biggest|worst|best)\b|"
                 r"\b(the|my) (single )?(biggest|largest|riskiest|healthiest|worst|best|smallest)\b(?! \d)", low):
        return 1
    return None


def _sort(low: str) -> Sort | None:
    for pat, fld, desc in _SORTS:
        if re.search(pat, low):
            return Sort(field=fld, desc=desc)
    return None


def _group(low: str) -> str | None:
    m = re.search(r"\b(?:per|by|for each|each|every|broken down by|breakdown by|split by|grouped by|across)\s+"
                  r"(csm|owner|rep|team|segment|band|industry|vertical|plan|tier|model|stage|outcome|priority|status)s?\b",
                  low)
    if m:
        return _GROUPS[m.group(1)]
    if re.search(r"\b(which|what) teams?\b|\bteam by team\b|\beach team\b", low):
        return "team"
    if re.search(r"\b(each|every|all) (of )?(my|our|the) (csms|reps|team members)\b|\bcsm by csm\b", low):
        return "owner"
    if re.search(r"\b(breakdown|break down|split)\b.*\b(csms?|team)\b|\bhow (is|are) (each|every) csm|"
                 r"\b(which|what) (csm|rep|team member|person)\b|\bwho on (my|the|our) team\b|"
                 r"\bwhich of my (csms|reps)\b|"
                 r"\bcompare\b.*\b(csms|reps)\b", low):
        return "owner"
    return None


def _vocab_filters(low: str, vocab: Vocabulary, asker: str) -> tuple[list[Filter], list[str]]:
    """Filters named with the CRM's own words, and those words (for the title)."""
    out: list[Filter] = []
    said: list[str] = []
    for name in vocab.models:
        m = re.search(rf"\b{re.escape(name.lower())}(?:\s+(v[\d.]+))?\b", low)
        if m:
            out.append(Filter(field="model", op="contains", value=name + (f" {m.group(1)}" if m.group(1) else "")))
            said.append(f"on {out[-1].value}")
            break
    bare = [t for t in vocab.teams if re.search(rf"\b{re.escape(t.lower())}\b", low)]
    if len(bare) >= 2 and re.search(r"\bvs\.?\b|\bversus\b|\bcompare|\band\b|,", low):  # "East vs West"
        out.append(Filter(field="team", op="in", value=bare))
        said.append(" and ".join(bare) + " teams")
    else:
        for team in vocab.teams:
            if re.search(rf"\b{re.escape(team.lower())}\b(?:\s+team|'s)|\bteam\s+{re.escape(team.lower())}\b", low):
                out.append(Filter(field="team", value=team))
                said.append(f"{team} team")
    owners = [name for name in vocab.csms if name != asker and
              re.search(rf"\b({re.escape(name.lower())}|{re.escape(name.split()[0].lower())})(?:'s)?\b", low)]
    if len(owners) == 1:
        out.append(Filter(field="owner", value=owners[0]))
        said.append(f"owned by {owners[0]}")
    elif owners:
        out.append(Filter(field="owner", op="in", value=owners))
        said.append("owned by " + " and ".join(owners))
    for ind in vocab.industries:
        if re.search(rf"\b{re.escape(ind.lower())}\b", low):
            out.append(Filter(field="industry", value=ind))
            said.append(ind)
            break
    for plan in vocab.plans:
        word = re.escape(plan.lower())
        if re.search(rf"\b{word}\s+(plan|tier|contract)s?\b|\b(plan|tier)\s+{word}", low):
            out.append(Filter(field="plan", value=plan))
            said.append(f"{plan} plan")
            break
    return out, said


def _account_filters(low: str, today: date) -> tuple[list[Filter], list[str], Span | None]:
    out: list[Filter] = []
    said: list[str] = []
    if re.search(r"\bat[- ]risk\b|\brisky\b|in trouble|likely to churn|churn risk|worr(y|ied)|concern", low):
        out.append(Filter(field="risk", value="at risk"))
        said.append("at risk")
    if re.search(r"growth potential|expansion (candidates|opportunit\w+|potential)|upsell|room to (grow|expand)", low):
        out.append(Filter(field="risk", value="growth potential"))
        said.append("with growth potential")
    m = re.search(r"\b(red|yellow|amber|green)\b", low)
    if m:
        out.append(Filter(field="band", value="yellow" if m.group(1) == "amber" else m.group(1)))
        said.append(m.group(1))
    m = re.search(r"\b(enterprise|mid[- ]market|smb|small business)\b(?!\s+(plan|tier|contract))", low)
    if m:
        seg = {"smb": "SMB", "small business": "SMB"}.get(m.group(1), m.group(1).replace(" ", "-"))
        out.append(Filter(field="segment", value=seg))
        said.append(seg)
    if re.search(r"\b(in|still|currently|stuck in) onboarding\b|\bonboarding (accounts|customers)\b", low):
        out.append(Filter(field="lifecycle_stage", value="onboarding"))
        said.append("in onboarding")
    if re.search(r"behind( schedule)?|overdue|slipp(ing|ed)|late on|stalled", low) and "onboarding" in low:
        out.append(Filter(field="onboarding_overdue", op="gt", value=0))
        said.append("with overdue onboarding milestones")
    if re.search(r"\b(no|without( a)?|lost( their| a)?|missing( a)?) champions?\b|champions? (left|gone|departed)",
                 low):
        out.append(Filter(field="champion_present", op="lt", value=1))
        said.append("without a champion")
    if re.search(r"\bdetractors?\b", low):
        out.append(Filter(field="nps", op="le", value=6))
        said.append("NPS detractors (latest NPS 0-6)")
    elif re.search(r"\bpromoters?\b", low):
        out.append(Filter(field="nps", op="ge", value=9))
        said.append("NPS promoters (latest NPS 9-10)")
    m = re.search(r"(?:no|not|nobody|no one|haven'?t|have not|hasn'?t|without|zero|any)\b[^.?!]{0,40}?\b(?:touch|talk|"
                  r"spoke|spoken|"
                  r"contact|activit|interact|engag|"
                  r"heard|met|reach|engag|check)\w*[^.?!]{0,30}?" + _NUMW + r"\s*(day|week|month)s?", low) or \
        re.search(r"(?:untouched|silent|quiet|neglected|dark)\b[^.?!]{0,20}?" + _NUMW + r"\s*(day|week|month)s?", low)
    quiet = re.search(r"gone (dark|quiet|silent|cold)|went (dark|quiet|silent|cold)|radio silence|\bghost(ed|ing)?\b|"
                      r"haven'?t heard from", low)
    if m or quiet:
        n = int(_value(m.group(1), "")) * {"day": 1, "week": 7, "month": 30}[m.group(2)] if m else 30
        out.append(Filter(field="days_since_touch", op="ge", value=n))
        said.append(f"no touch in {n}+ days")
    if re.search(r"\bwith (any )?open tickets\b|\bopen tickets\b.*\baccounts\b", low):
        out.append(Filter(field="open_tickets", op="gt", value=0))
        said.append("with open tickets")
    window = None
    m = re.search(r"usage (?:has )?(dropped|fell|fallen|declined|decreased|down|grew|grown|rose|increased|up)\b"
                  r"[^.?!]{0,20}?(\d+(?:\.\d+)?)\s*(?:%|percent)", low)
    if m:
        v = float(m.group(2)) / 100
        up = m.group(1) in ("grew", "grown", "rose", "increased", "up")
        out.append(Filter(field="usage_change_30d", op="gt" if up else "lt", value=v if up else -v))
        said.append(f"usage {'up' if up else 'down'} more than {v * 100:.0f}% in 30 days")
    if re.search(r"renew|renewal|up for|expir|contracts? (end|ending|due)|churn", low):
        window = span(low, today, future=True)
        if window is not None:
            out.append(Filter(field="renewal_date", op="between",
                              value=[window.start.isoformat(), window.end.isoformat()]))
            said.append(f"renewing {window.describe()}")
    return out, said, window


# ---- a field of one account -------------------------------------------------------------------------

_LOOKUPS: list[tuple[str, str, dict[str, Any]]] = [  # (pattern, what, query without account_ids)
    (r"\bchampions?\b|\bchamps?\b|\b(main|primary|key|go-?to|best) (contact|person|ally)\b", "champion",
     {"entity": "contacts", "filters": [Filter(field="is_champion", value=True)],
      "fields": ["name", "role", "email", "left_on", "last_engaged"]}),
    (r"economic buyer|decision[- ]maker|\bbudget\b|purse strings|writes? the checks?|exec(utive)? sponsor|"
     r"signs? (the|off)\b|who signs|"
     r"\bsponsor",
     "economic buyer", {"entity": "contacts", "filters": [Filter(field="left_on", op="is_null")],
                        "fields": ["name", "role", "email"]}),
    (r"\bcontacts?\b|who (do we know|should i (talk|speak|reach out|call|email|ping|contact|go)( to)?|"
     r"are (our|the) (people|contacts))|"
     r"\bpeople\b|\bpoint of contact\b|\bpoc\b", "contacts",
     {"entity": "contacts", "fields": ["name", "role", "email", "is_champion", "left_on"], "limit": 10}),
    (r"\bmilestones?\b|go[- ]?live|\blaunch\b|target date|\bkick-?off\b", "milestones",
     {"entity": "milestones", "fields": ["name", "owner", "status", "due_date", "plan_target"], "limit": 10}),
    (r"who (owns|manages|covers|handles|is (on|responsible for))|\bowner\b|\bwhose account\b|which csm|"
     r"account manager|assigned (csm|to)|\bcsm\b|\bcsm (for|of|on)\b", "owner",
     {"entity": "accounts", "fields": ["owner", "team"]}),
    (r"\btickets?\b|\btix\b|\bcases?\b|support (issues|requests)|\bescalations?\b", "tickets",
     {"entity": "tickets", "fields": ["subject", "priority", "status", "opened_at"], "limit": 10}),
    (r"\bseats?\b|licen[cs]es?|how many (users|people|employees)|active users|\butili[sz]ation\b", "seats",
     {"entity": "accounts", "fields": ["seats", "seats_used", "seat_utilization", "plan"]}),
    (r"\bplan\b|\btier\b|subscription|\bpackage\b|\bsku\b|what are they (paying for|on)\b", "plan",
     {"entity": "accounts", "fields": ["plan", "seats", "contract_value"]}),
    (r"contract (start|began|begin|signed)|when did (they|we) (sign|start|begin|become)|customer since|"
     r"(start|signing) date|when did .* (sign|start)", "contract start",
     {"entity": "accounts", "fields": ["contract_start", "renewal_date", "plan"]}),
    (r"when (does|do|is|will) .*(renew|contract (end|expire)|expir|up for renewal|contract'?s? (is )?up)|"
     r"renewal date|contract end|"
     r"(end|expiry|expiration) date|when .*contract (ends?|expires?|is up)|term end", "renewal date",
     {"entity": "accounts", "fields": ["renewal_date", "days_to_renewal", "contract_value"]}),
    (r"how much (do|does|are|is) .*(pay|worth)|contract (value|size|worth)|\barr\b|\bacv\b|annual (value|revenue)|"
     r"\bworth\b|"
     r"how big is|what are they worth|deal size", "contract value",
     {"entity": "accounts", "fields": ["arr", "contract_value", "plan", "renewal_date"]}),
    (r"\bcontract\b(?! (value|size|worth|start|end))|\bterms?\b of (their|the) (deal|contract)|"
     r"\bsubscription details",
     "contract", {"entity": "accounts",
                  "fields": ["plan", "contract_start", "renewal_date", "contract_value", "seats"]}),
    (r"\b(industry|vertical|sector)\b|what (kind of|type of) (company|business)", "industry",
     {"entity": "accounts", "fields": ["industry", "segment"]}),
    (r"what model|which model|models? (are|is) they (on|using)|running on", "model",
     {"entity": "accounts", "fields": ["model", "p95_ms", "error_rate"]}),
    (r"(last|latest|most recent|previous) (meeting|call|sync|qbr|check-?in)|what (was|did we) (discuss|cover)\w*|"
     r"when did .{0,40}\blast (have|hold|do|run|get)? ?(a |an |the |their )?(meeting|call|qbr|sync|check-?in)|"
     r"what did (we|they) (talk about|say)|meeting notes|what was (said|covered|discussed)",
     "last meeting", {"entity": "activities", "fields": ["occurred_on", "kind", "subject", "author", "body"],
                      "limit": 1}),
    (r"(last|latest|most recent) (touch|contact|interaction|conversation|email|note|activity|time we (talk|spoke|"
     r"heard|met|reach|connect)\w*)|when did (we|i|anyone) (last )?(talk|speak|spoke|hear|meet|reach|contact|"
     r"touch|connect|email|call)|last (talked|spoke|heard|met|emailed|reached|contacted|touched)|"
     r"last time (we|i|anyone|someone|somebody) (talk|spoke|speak|heard|met|reach|contact|touch|email|call)|"
     r"how long (has it been )?since (we|i|anyone|someone)",
     "last touch", {"entity": "activities", "fields": ["occurred_on", "kind", "subject", "author", "body"],
                    "limit": 1}),
    (r"\bnps\b|\bsurvey|\bcsat\b|promoter|detractor", "survey",
     {"entity": "surveys", "fields": ["responded_on", "kind", "score", "comment", "contact"], "limit": 3}),
    (r"(list|all|how many|which)\b.*fine[- ]?tun|fine[- ]?tun\w* (jobs|runs|history)", "fine-tunes",
     {"entity": "fine_tunes", "fields": ["created_on", "status", "base_model", "eval_score", "loss_summary"],
      "limit": 10}),
]
def by_role(low: str, account: AccountRef, roles: list[str]) -> list[Plan]:
    """"who's the admin at Cyberdyne?": the account's contacts whose title holds the word asked for."""
    if not re.search(r"\bwho\b|\bcontact\b|\bname of\b", low):
        return []
    words = {w for r in roles for w in re.findall(r"[a-z]{2,}", r.lower())} - {"of", "and", "the", "head"}
    hits = [w for w in re.findall(r"[a-z]{2,}", low) if w in words or w.rstrip("s") in words]
    hit = max(hits, key=len) if hits else None  # "IT admin": the telling word, not "it"
    if hit is None:
        return []
    q = Query(entity="contacts", account_ids=[account["account_id"]], fields=["name", "role", "email", "left_on"],
              filters=[Filter(field="role", op="contains", value=hit.rstrip("s") if hit not in words else hit)])
    return [Plan("lookup", f"{account['name']}: {hit}", q, what=f"contacts with '{hit}' in their title",
                 accounts=[account])]


_STEP_WORDS = {"the", "and", "setup", "call", "use", "case", "first", "day", "review", "milestone", "with", "for"}
_SENIOR = ["chief", "cto", "ceo", "cfo", "coo", "cio", "vp", "vice president", "head", "director", "lead"]


def seniority(role: str | None) -> int:
    """Rank of a job title (lower is more senior): how the economic buyer is chosen."""
    low = (role or "").lower()
    return next((i for i, w in enumerate(_SENIOR) if re.search(rf"\b{w}\b", low)), len(_SENIOR))


def lookup(low: str, account: AccountRef, today: date, steps: list[str] | None = None) -> list[Plan]:
    """The fields of one account the message asks for (at most three), if any."""
    out: list[Plan] = []
    for pat, what, spec in _LOOKUPS:
        if re.search(pat, low) and len(out) < 3:
            q = dict(spec)
            filters = list(q.get("filters", []))
            if what == "tickets":
                past = span(low, today, future=False) if re.search(r"\b(last|past|since|this)\b", low) else None
                if past is not None:  # tickets of a period: every status
                    filters.append(Filter(field="opened_at", op="between",
                                          value=[past.start.isoformat(), past.end.isoformat()]))
                elif not re.search(r"\b(closed|resolved|all|every|history)\b", low):
                    filters.append(Filter(field="status", op="ne", value="closed"))
                m = re.search(r"\b(high|urgent|critical|p1|normal|low)\b", low)
                if m:
                    pr = {"critical": "urgent", "p1": "urgent"}.get(m.group(1), m.group(1))
                    filters.append(Filter(field="priority", op="in",
                                          value=["high", "urgent"] if pr in ("high", "urgent") else [pr]))
            if what in ("last meeting", "last touch"):
                kind = re.search(r"\b(meeting|call|email|note|qbr|sync)\b", low)
                k = {"qbr": "meeting", "sync": "meeting"}.get(kind.group(1), kind.group(1)) if kind else None
                if k and what == "last meeting" or (k and re.search(rf"last {k}|{k}ed", low)):
                    filters.append(Filter(field="kind", value=k))
            if what == "milestones":  # "the SSO milestone": the steps whose name holds a word of the question
                words = {w for m in steps or [] for w in re.findall(r"[a-z]{3,}", m.lower())} - _STEP_WORDS
                named = [w for w in re.findall(r"[a-z]{3,}", low) if w in words]
                if named:
                    filters.append(Filter(field="name", op="contains", value=max(named, key=len)))
            if what == "survey" and "csat" in low:
                filters.append(Filter(field="kind", value="csat"))
            q["filters"] = filters
            out.append(Plan("lookup", f"{account['name']}: {what}", Query(**q, account_ids=[account["account_id"]]),
                            what=what, accounts=[account]))
            if what in ("champion", "economic buyer", "milestones"):  # "contacts"/"owner" would repeat or mislead
                break
    return out


# ---- the portfolio ------------------------------------------------------------------------------------

_ENTITY_CUES: list[tuple[str, str]] = [
    (r"\btickets?\b|\btix\b|\bcases\b|support (issues|requests)|\bescalations\b", "tickets"),
    (r"fine[- ]?tun\w*", "fine_tunes"),
    (r"\bmilestones?\b|onboarding (tasks|steps)", "milestones"),
    (r"\bchampions\b|\bcontacts\b|economic buyers|decision[- ]makers", "contacts"),
    (r"\b(survey|nps|csat) (responses|answers|comments|results)\b|\bsurvey comments\b", "surveys"),
    (r"\b(meetings|calls|emails|notes|activities)\b(?! in)", "activities"),
    (r"\b(churn|churned|renewed|expanded|contracted|downgraded)\b.*"
     r"\b(last|past|previous|since|during|in 20\d\d|this year)\b|"
     r"renewal history|"
     r"\bpast renewals\b|\bwho churned\b", "renewals"),
]
METRICS: list[tuple[str, str]] = [
    (r"\bnrr\b|net (revenue |dollar |arr )?retention|\bndr\b", "nrr"),
    (r"\bgrr\b|gross (revenue |dollar |arr )?retention|\bgdr\b", "grr"),
    (r"logo retention|customer retention( rate)?|retention rate|logos? (retained|kept)", "logo_retention"),
    (r"churn rate|how many (accounts|customers|logos) (did we |have we )?(churn|lose|lost)|\bchurn(ed)? (%|percent)|"
     r"what(?:'s| is| was) (my|our|the|the team'?s|my team'?s|our team'?s) (\w+ )?churn\b|"
     r"(accounts|customers|logos) (did )?we (lost|lose|churned)", "churn_rate"),
    (r"(average|avg|mean) csat|\bcsat\b (score|average)", "avg_csat"),
    (r"(average|avg|mean) nps|nps (average|avg|mean)", "avg_nps"),
    (r"\bnps\b( score)? (for|of|across|in) (my|our|the|all)|\b(my|our|team'?s?|company'?s?) nps\b|overall nps|"
     r"what('s| is) (the |our |my )?nps", "nps"),
]


def _metric(low: str, today: date) -> Plan | None:
    if re.search(r"\b(worst|best|lowest|highest|which|who|top|bottom)\b", low) and "rate" not in low:
        return None  # "who has the worst NPS" ranks accounts; it is not a metric
    for pat, name in METRICS:
        if re.search(pat, low):
            period = span(low, today, future=False)
            if period is None or period.end > today:
                period = Span(today.replace(year=today.year - 1), today, "the last 12 months") if period is None \
                    else Span(period.start, min(period.end, today), period.text)
            return Plan("metric", name, metric=name, period=period)
    return None


def portfolio(low: str, today: date, vocab: Vocabulary, asker: str, ids: list[int]) -> Plan | None:
    """A list, ranking or aggregate over the asker's accounts (or `ids`, the previous list)."""
    entity = next((e for pat, e in _ENTITY_CUES if re.search(pat, low)), "accounts")
    asks_accounts = re.search(r"\b(which|what) (accounts|customers|clients)\b|"
                              r"\b(accounts|customers|clients) (with|that have)\b", low)
    counted = any(f.field in ("open_tickets", "open_high_tickets") for f in thresholds(low))
    if entity != "accounts" and asks_accounts and (counted or (PLURAL.search(low) and _sort(low) is not None)):
        entity = "accounts"  # "which customers have the most open tickets?" ranks accounts, not tickets
    filters, said = _vocab_filters(low, vocab, asker)
    window: Span | None = None
    if entity == "accounts":
        more, words, window = _account_filters(low, today)
        limits = thresholds(low)
        filters += more + limits
        said += words + [_say(f) for f in limits]
    elif entity == "tickets":
        filters = [f for f in filters if f.field in ("owner", "team")]
        if not re.search(r"\b(closed|resolved|all)\b", low):
            filters.append(Filter(field="status", op="ne", value="closed"))
            said.append("open")
        m = re.search(r"\b(high|urgent|critical|p1)\b", low)
        if m:
            filters.append(Filter(field="priority", op="in", value=["high", "urgent"]))
            said.append("high-priority")
    elif entity == "fine_tunes":
        filters = [f for f in filters if f.field in ("owner", "team")]
        m = re.search(r"\b(failed|failing|diverged|broke|succeeded|successful|running|in progress)\b", low)
        if m:
            st = "failed" if m.group(1) in ("failed", "failing", "diverged", "broke") else \
                "running" if m.group(1) in ("running", "in progress") else "succeeded"
            filters.append(Filter(field="status", value=st))
            said.append(st)
    elif entity == "milestones":
        filters = [f for f in filters if f.field in ("owner", "team")]
        if re.search(r"overdue|late|behind|past due|missed", low):
            filters += [Filter(field="status", op="ne", value="done"),
                        Filter(field="due_date", op="lt", value=today.isoformat())]
            said.append("overdue")
        elif re.search(r"\bblocked\b|\bstuck\b", low):
            filters.append(Filter(field="status", value="blocked"))
            said.append("blocked")
    elif entity == "contacts":
        filters = [f for f in filters if f.field in ("owner", "team")]
        if "champion" in low:
            filters.append(Filter(field="is_champion", value=True))
            said.append("champions")
    elif entity == "renewals":
        m = re.search(r"\b(churn|churned|renewed|expanded|contracted|downgraded)\b", low)
        if m:
            outcome = {"downgraded": "contracted", "churn": "churned"}.get(m.group(1), m.group(1))
            filters.append(Filter(field="outcome", value=outcome))
            said.append(outcome)
    if entity in ("tickets", "activities", "surveys", "renewals", "fine_tunes") and window is None:
        past = span(low, today, future=entity not in ("renewals", "activities", "surveys", "tickets", "fine_tunes"))
        if past is not None:
            fld = {"tickets": "opened_at", "activities": "occurred_on", "surveys": "responded_on",
                   "renewals": "renewal_date", "fine_tunes": "created_on"}[entity]
            filters.append(Filter(field=fld, op="between", value=[past.start.isoformat(), past.end.isoformat()]))
            said.append(past.describe())
    sort = _sort(low) if entity == "accounts" else None
    ranked = sort is not None
    limit = _limit(low)
    group = _group(low)
    aggs: list[Aggregate] = []
    total = re.search(r"\b(total|sum|combined|how much|aggregate|overall)\b|how big is (my|our) (book|portfolio)|"
                      r"\bin dollars\b", low)
    avg = re.search(r"\b(average|avg|mean|typical)\b\s*(?:(?!health|arr|nps|p\(renew\)|seats?|score)\w+\s)?"
                    r"(health|arr|nps|p\(renew\)|seats?|score)?", low)
    if entity == "accounts" and total:
        aggs.append(Aggregate(fn="sum", field="arr"))
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
    if (count or group) and not aggs:
        aggs.append(Aggregate(fn="count"))
        if group and entity == "accounts":
            aggs += [Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")]
    most = re.search(r"\b(who|which (?:account|customer|client|csm|rep)s?) (?:has|have) the (most|fewest|least)\b", low)
    if most and entity != "accounts" and group is None:  # "who has the most overdue milestones?": count per group
        group = "owner" if re.search(r"\b(csm|rep|on (my|the) team)\b", low) else "account"
        aggs = [Aggregate(fn="count")]
    summary = entity == "accounts" and not aggs and \
        re.search(r"\bhow(?:'s| is| are)\b.*\b(book|portfolio|accounts|team)\b", low)
    if summary:  # "how is Priya's book looking?": its totals, then its accounts worst first
        aggs = [Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")]
    if ids:
        said.insert(0, "from the last list")
    specific = bool(filters or sort or limit or group or aggs or ids or entity != "accounts")
    if not specific:
        return None
    if entity == "accounts" and sort is None and window is not None:
        sort = Sort(field="renewal_date")
    if entity == "accounts" and sort is None and limit and not aggs:
        sort = Sort(field="arr", desc=True) if re.search(r"\btop\b", low) else Sort(field="health")
    if group and aggs and count:  # "how many … per CSM": the biggest groups first
        sort = None
    elif group and aggs:  # groups ranked by their first figure: "which CSM has the lowest average health?"
        first = next((a for a in aggs if a.field), None)
        sort = Sort(field=first.field, desc=not re.search(r"\b(lowest|least|fewest|worst|smallest|bottom)\b", low)) \
            if first and first.field else None
        limit = limit if limit and limit > 1 else None
    elif ranked and sort is not None and limit is None and not aggs:
        limit = 10  # a ranking shows its top ten
        if sort.field in ("open_tickets", "open_high_tickets") and sort.desc:
            filters.append(Filter(field=sort.field, op="gt", value=0))
    if entity == "accounts" and sort is None and not group:
        sort = Sort(field="health")  # lists show the accounts that need attention first
    fields = {"accounts": _account_fields(sort, filters, aggs)}.get(entity, [])
    q = Query(entity=entity, fields=fields, filters=filters, account_ids=ids,  # type: ignore[arg-type]
              sort=[sort] if sort else [], limit=limit or (25 if entity != "accounts" else None),
              group_by=group if group in _group_fields(entity) else None, aggregates=aggs)
    shape: Shape = "aggregate" if aggs and (count or total or avg or group or summary or most) else "list"
    what = {"accounts": "accounts", "tickets": "tickets", "fine_tunes": "fine-tunes", "milestones": "milestones",
            "contacts": "contacts", "surveys": "survey responses", "activities": "activities",
            "renewals": "renewals"}[entity]
    title = " ".join([what, *said]) if said else what
    return Plan(shape, title, q, what=what)


def _group_fields(entity: str) -> set[str]:
    return set(ENTITIES[entity].fields)


def _account_fields(sort: Sort | None, filters: list[Filter], aggs: list[Aggregate]) -> list[str]:
    base = ["account", "health", "band", "arr", "renewal_date", "p_renew", "owner"]
    extra = [x.field for x in filters if x.field not in base and x.field not in ("risk", "team")]
    if sort and sort.field not in base:
        extra.append(sort.field)
    extra += [a.field for a in aggs if a.field and a.field not in base]
    return list(dict.fromkeys(base + extra))[:10]


_COMPARE_TOPICS: list[tuple[str, list[str]]] = [
    (r"latenc|slow|p95|performance|error", ["p95_ms", "error_rate", "model"]),
    (r"spend|cost|usage|traffic|adoption", ["spend_30d", "usage_change_30d", "seats_used", "seat_utilization"]),
    (r"seat|licen", ["seats", "seats_used", "seat_utilization"]),
    (r"nps|satisf|sentiment|happ", ["nps"]), (r"ticket|support", ["open_tickets", "open_high_tickets"]),
    (r"renew|churn|risk|contract", ["renewal_date", "days_to_renewal", "p_renew", "risk"]),
    (r"touch|contact|engag|talk", ["last_touch", "days_since_touch"]),
]


def compare(accounts: list[AccountRef], low: str = "") -> Plan:
    """Two or more accounts side by side (with the figures the question is about, when it names a topic)."""
    topic = [f for pat, fields in _COMPARE_TOPICS if re.search(pat, low) for f in fields]
    base = ["account", "health", "band", "arr"]
    rest = ["renewal_date", "p_renew", "nps", "seat_utilization", "usage_change_30d", "open_tickets", "owner"]
    q = Query(entity="accounts", account_ids=[a["account_id"] for a in accounts],
              fields=list(dict.fromkeys(base + topic + rest))[:12])
    return Plan("compare", "comparison of " + " and ".join(a["name"] for a in accounts), q, what="comparison",
                accounts=accounts)


COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|side[- ]by[- ]side|\bdifference between\b|\bcompared to\b|"
                     r"which (one )?(is|has|looks) (healthier|better|worse|bigger|riskier|more|less)|"
                     r"\b(healthier|riskier|bigger|larger|better off|worse off)\b")


def pick(low: str, ids: list[int]) -> int | None:
    """The account an ordinal or "that one" points at in the previous list."""
    m = _ORDINAL.search(low)
    if not m or not ids:
        return None
    word = m.group(1) or m.group(2) or ""
    if m.group(3):
        k = int(m.group(3)) - 1
    else:
        k = {"first": 0, "top": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1,
             "bottom": -1}.get(word, 0)
    return ids[k] if -len(ids) <= k < len(ids) else None


def wants_today(low: str) -> bool:
    """A vague ask for the day's priorities ("anything I should worry about today?")."""
    return bool(_TODAY.search(low))


TOPIC = {"fine_tunes": "tuning", "telemetry": "tuning", "milestones": "onboarding", "renewals": "renewal",
         "tickets": "health", "surveys": "needs", "activities": "needs", "contacts": "renewal", "accounts": "health"}
"""The agent a follow-up like "why did it fail?" continues with, by the entity the last answer listed."""


def plan(question: str, today: date, vocab: Vocabulary, asker: str, accounts: list[AccountRef],
         previous: list[int]) -> list[Plan]:
    """What the message asks, as plans; empty leaves it to the agents' own intents."""
    low = question.lower().replace("’", "'")
    metric = _metric(low, today)
    if metric is not None and len(accounts) <= 1:
        metric.accounts = accounts
        where, said = _vocab_filters(low, vocab, asker)
        seg = re.search(r"\b(enterprise|mid[- ]market|smb)\b", low)
        if seg:
            name = {"smb": "SMB"}.get(seg.group(1), seg.group(1).replace(" ", "-"))
            where.append(Filter(field="segment", value=name))
            said.append(seg.group(1))
        group = _group(low)
        entity = "surveys" if metric.metric in ("nps", "avg_nps", "avg_csat") else "renewals"
        if where or group in ("owner", "team", "segment", "industry"):
            metric.query = Query(entity=entity, filters=[f for f in where if f.field in ("owner", "team", "segment",
                                                                                          "industry")],
                                 group_by=group if group in ("owner", "team", "segment", "industry") else None)
            metric.what = " ".join(said)
        return [metric]
    if len(accounts) >= 2 and re.search(r"\b(combined|together|in total|total|sum|both)\b", low):
        q = Query(entity="accounts", account_ids=[a["account_id"] for a in accounts],
                  fields=["account", "health", "band", "arr", "renewal_date"],
                  aggregates=[Aggregate(fn="sum", field="arr"), Aggregate(fn="avg", field="health")])
        return [Plan("aggregate", "accounts (" + " and ".join(a["name"] for a in accounts) + ")", q, what="accounts",
                     accounts=accounts)]
    if len(accounts) >= 2 and (COMPARE.search(low) or re.search(r"\band\b|,", low) and
                               re.search(r"\b(which|who)\b", low)):
        return [compare(accounts, low)]
    if len(accounts) == 1:
        return lookup(low, accounts[0], today, vocab.milestones) or by_role(low, accounts[0], vocab.roles)
    if accounts:
        return []
    if wants_today(low) and not re.search(r"\b(list|show|which|how many)\b.*\baccounts\b", low):
        return [Plan("today", "what needs you today", what="today")]
    refers = THOSE.search(low) or (re.search(r"\bwhich one\b|\bthe one\b|\bwhich of them\b", low)
                                   and not PLURAL.search(low))
    p = portfolio(low, today, vocab, asker, previous if refers else [])
    return [p] if p is not None else []


def to_json(p: Plan) -> dict[str, Any]:
    """A plan as the checkpointed route holds it."""
    return {"shape": p.shape, "title": p.title, "what": p.what, "metric": p.metric,
            "query": p.query.model_dump(mode="json") if p.query else None,
            "period": None if p.period is None else [p.period.start.isoformat(), p.period.end.isoformat(),
                                                     p.period.text],
            "accounts": list(p.accounts)}


def from_json(d: dict[str, Any]) -> Plan:
    """A plan back from the route."""
    per = d.get("period")
    return Plan(d["shape"], d["title"], Query(**d["query"]) if d.get("query") else None, what=d.get("what", ""),
                metric=d.get("metric"), accounts=list(d.get("accounts") or []),
                period=Span(date.fromisoformat(per[0]), date.fromisoformat(per[1]), per[2]) if per else None)
