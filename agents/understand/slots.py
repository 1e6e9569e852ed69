"""Slots of a message: thresholds, sort, limit, group and filters in the CRM's own words."""

from __future__ import annotations

import re
from datetime import date

from agents.understand import absence
from agents.understand.phrases import _FIELD_WORDS, _GROUPS, _INCLUSIVE, _LESS, _MORE, _NUMW, _SORTS
from agents.understand.vocabulary import Vocabulary
from agents.when import NUMBER_WORDS, Span, span
from core import figures
from tools.query import Filter, Sort


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


def _op(word: str) -> str:
    """The comparison a bound word means: "over" is gt, "at least" ge, "under" lt, "at most" le."""
    up = bool(re.match(_MORE, word))
    if re.fullmatch(_INCLUSIVE, word.strip()):
        return "ge" if up else "le"
    return "gt" if up else "lt"


_MONEY = r"(\$\s*\d[\d,]*(?:\.\d+)?\s*[km]?|\d[\d,]*(?:\.\d+)?\s*[km](?![a-z])|" \
         r"\d[\d,]*(?:\.\d+)?\s*(?:thousand|million))"


def _money_value(tok: str) -> float:
    t = tok.replace("thousand", "k").replace("million", "m").replace(" ", "")
    return _money(t)


_FILL = r"(?:\s+(?:responses?|answers?|scores?|ratings?|results?))?"  # "NPS scores under 5", "CSAT responses of 2"


def thresholds(low: str, words: dict[str, str] | None = None, money: str | None = "arr") -> list[Filter]:
    """Comparisons like "health below 60", "over $100k ARR", "at least 3 open tickets", "score between 7 and 8".

    `words` names each numeric field of the entity (the accounts' by default); a bare amount of money
    ("over 100k", "more than $50,000") is the `money` field.
    """
    words = _FIELD_WORDS if words is None else words
    found: list[tuple[re.Match[str], list[Filter]]] = []

    def add(m: re.Match[str], *f: Filter) -> None:
        if not re.search(r"\bby\s*$", low[:m.start()]):  # "expanded by more than 50k" is a change, not a bound
            found.append((m, list(f)))

    for fld, w in words.items():
        for m in re.finditer(rf"(?:{w})\s*(?:is|are|of|score|was|were)?\s*(?:between|from)\s+\$?{_NUMW}\s*"
                             rf"(?:and|to|-)\s*\$?{_NUMW}", low):
            add(m, Filter(field=fld, op="ge", value=_value(m.group(1), fld)),
                Filter(field=fld, op="le", value=_value(m.group(2), fld)))
        for m in re.finditer(rf"(?:{w}){_FILL}\s*(?:is|are|of|score|was|were)?\s*({_MORE}|{_LESS})\s*\$?{_NUMW}", low):
            add(m, Filter(field=fld, op=_op(m.group(1)), value=_value(m.group(2), fld)))
        for m in re.finditer(rf"(?:{w}){_FILL}\s*(?:is|of|was|=)?\s*(?:an?\s+)?{_NUMW}\s*(?:or|to|-)\s*{_NUMW}\b"
                             r"(?!\s*(?:%|percent|days?|weeks?|months?|years?))", low):  # "a CSAT of 1 or 2"
            add(m, Filter(field=fld, op="ge", value=_value(m.group(1), fld)),
                Filter(field=fld, op="le", value=_value(m.group(2), fld)))
        for m in re.finditer(rf"({_MORE}|{_LESS})\s*\$?{_NUMW}\s*(?:in\s+)?(?:{w})\b", low):
            add(m, Filter(field=fld, op=_op(m.group(1)), value=_value(m.group(2), fld)))
        for m in re.finditer(rf"(?:{w}){_FILL}\s*(?:is|of|score|scores|at|was)?\s*(?:an?\s+)?\$?{_NUMW}\s+or\s+"
                             r"(lower|less|below|under|fewer|worse|higher|more|above|over|better|greater)\b", low):
            up = m.group(2) in ("higher", "more", "above", "over", "better", "greater")  # "NPS of 4 or lower"
            add(m, Filter(field=fld, op="ge" if up else "le", value=_value(m.group(1), fld)))
        for m in re.finditer(rf"\$?{_NUMW}\s+or\s+(lower|less|below|under|fewer|worse|higher|more|above|over|better|"
                             rf"greater)\s+(?:{w})\b", low):  # "3 or more open tickets"
            up = m.group(2) in ("higher", "more", "above", "over", "better", "greater")
            add(m, Filter(field=fld, op="ge" if up else "le", value=_value(m.group(1), fld)))
    if money is not None:  # a bare amount of money is the entity's money field
        for m in re.finditer(rf"\b(?:between|from)\s+{_MONEY}\s*(?:and|to|-)\s*{_MONEY}", low):
            add(m, Filter(field=money, op="ge", value=_money_value(m.group(1))),
                Filter(field=money, op="le", value=_money_value(m.group(2))))
        for m in re.finditer(rf"({_MORE}|{_LESS})\s*{_MONEY}(?!\s*(?:arr|revenue|spend|seats|users|days|%))", low):
            add(m, Filter(field=money, op=_op(m.group(1)), value=_money_value(m.group(2))))
    out: list[Filter] = []
    taken: list[tuple[int, int]] = []
    for m, fs in sorted(found, key=lambda x: x[0].start() - x[0].end()):  # the longest reading of a phrase wins
        if not any(m.start() < b and a < m.end() for a, b in taken):
            taken.append((m.start(), m.end()))
            out += fs
    return out


def _say(f: Filter) -> str:
    """A threshold in words: "ARR over $100,000", "P(renew) under 50%"."""
    label = {"arr": "ARR", "p_renew": "P(renew)", "p95_ms": "p95 latency (ms)", "seat_utilization": "seat use",
             "usage_change_30d": "30-day usage change", "open_tickets": "open tickets", "error_rate": "error rate",
             "spend_30d": "30-day spend", "nps": "latest NPS", "health": "health",
             "open_high_tickets": "open high-priority tickets", "onboarding_overdue": "overdue milestones",
             "arr_before": "ARR"}.get(f.field, f.field.replace("_", " "))
    v = float(f.value)
    shown = f"${v:,.0f}" if f.field in ("arr", "spend_30d", "arr_before", "arr_after") else \
        figures.percent(v) if f.field in ("p_renew", "seat_utilization", "usage_change_30d", "error_rate") else f"{v:g}"
    word = {"gt": "over", "ge": "at least", "lt": "under", "le": "at most"}.get(f.op, f.op)
    return f"with {label} {word} {shown}"


def _limit(low: str) -> int | None:
    low = re.sub(r"\b(?:first|second|1st|2nd|last) (?:half|quarter|week|month|year|few|two|three)\b", "", low)
    m = re.search(r"\b(?:top|bottom|first|best|worst|biggest|largest|smallest|riskiest|healthiest)\s+" + _NUMW + r"\b",
                  low) or re.search(r"\b" + _NUMW + r"\s+(?:biggest|largest|smallest|riskiest|healthiest|"
                                                 r"worst|best|most|least|top|lowest|highest|newest|oldest|latest|"
                                                 r"earliest)\b", low)
    if m and m.group(1).strip().rstrip("km%").replace(",", "").isdigit() or (m and m.group(1) in NUMBER_WORDS):
        return max(1, min(100, int(_value(m.group(1), ""))))
    m = re.search(r"\b(?:the|my|our|me|list|show|which|what)\s+" + _NUMW + r"\s+(?:\w+\s+)?(?:accounts|customers|"
                  r"clients|tickets|renewals|responses|fine-tunes|milestones|plans|contacts|deals|meetings|calls|"
                  r"notes)\b", low)
    if m and (m.group(1).isdigit() or m.group(1) in set(NUMBER_WORDS) - {"a", "an", "few", "couple"}):
        # "the 3 accounts with the highest P(renew)"
        return max(1, min(100, int(_value(m.group(1), ""))))
    m = re.search(r"\b(?:most recent|latest|newest|last|oldest|earliest|first)\s+(\d{1,3})\b"
                  r"(?!\s*(?:day|week|month|quarter|year)s?\b)", low)
    if m:  # "the most recent 5 responses"
        return max(1, min(100, int(m.group(1))))
    if re.search(r"\b(top|bottom)\b", low):
        return 5
    if re.search(r"\b(my|our|the) (next|upcoming|soonest) renewal\b(?!s)", low):
        return 1
    if re.search(r"^\W*(?:what(?:'s| is)? (?:the |my |our )?|show me (?:the |my )?|which is (?:the |my )?)?(biggest|"
                 r"largest|smallest|riskiest|healthiest|worst|best|oldest|newest|longest[- ]running|highest|lowest|"
                 r"most valuable)\s+(?:\w+\s+)?(renewal|account|customer|deal|plan|ticket|contract)\b(?!s)", low):
        return 1  # "biggest renewal on my team this quarter": one
    if re.search(r"\b(which|what) (one|of (those|these|them))\b|\bwho\b|\bwhich (account|customer)\b"
                 r"(?!s)", low) and re.search(r"\b(first|soonest|earliest|(?<!at )most|(?<!at )least|biggest|largest|"
                                          r"smallest|highest|lowest|riskiest|healthiest|worst|best|fastest|slowest|"
                                          r"latest)\b", low):
        return 1
    if re.search(r"\bwhich (one|account|customer)\b|"
                 r"\bwho\b.*\b(first|soonest|(?<!at )most|(?<!at )least|biggest|worst|best)\b|"
                 r"\b(the|my) (single )?(biggest|largest|riskiest|healthiest|worst|best|smallest)\b(?! \d)"
                 r"(?!\s+(?:\w+\s+)?(?:accounts|customers|clients|renewals|deals|ones)\b)", low):  # not plural
        return 1
    return None


def _sort(low: str) -> Sort | None:
    """The order a question asks for; an explicit "best first" / "lowest first" sets its direction."""
    s = _sort_named(low)
    m = re.search(r"\b(best|highest|biggest|largest|most|top|worst|lowest|smallest|least|fewest)(?: ones?)? first\b|"
                  r"\b(descending|ascending)\b", low) if s is not None else None
    if s is None or m is None:
        return s
    up = (m.group(1) or m.group(2)) in ("best", "highest", "biggest", "largest", "most", "top", "descending")
    if m.group(1) in ("best", "worst") and s.field in ("days_since_touch", "open_tickets", "open_high_tickets",
                                                       "p95_ms", "error_rate"):
        up = not up  # "worst first" by latency is the slowest first
    return Sort(field=s.field, desc=up)


def _sort_named(low: str) -> Sort | None:
    for pat, fld, desc in _SORTS:
        if re.search(pat, low):
            return Sort(field=fld, desc=desc)
    for fld, words in _FIELD_WORDS.items():  # "the lowest seat utilization", "most open tickets"
        m = re.search(rf"\b(?<!at )(lowest|least|worst|smallest|bottom|fewest|highest|most|biggest|largest|top|best)\s+"
                      rf"(?:\w+\s+)?(?:{words})\b", low)
        if m:
            return Sort(field=fld, desc=m.group(1) in ("highest", "most", "biggest", "largest", "top", "best"))
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
            if re.search(rf"\b{re.escape(team.lower())}\b(?:\s+team|'s|\s+(?:accounts|customers|clients|book|renewals|"
                         rf"tickets|region|side|csms))|\bteam\s+{re.escape(team.lower())}\b|"
                         rf"\b(?:in|on|for|from) (?:the )?{re.escape(team.lower())}\b(?!\s+(?:coast|of)\b)", low):
                out.append(Filter(field="team", value=team))
                said.append(f"{team} team")
    led = [vocab.csm_teams[name] for name in vocab.csms if vocab.csm_teams.get(name) and
           re.search(rf"\b(?:{re.escape(name.lower())}|{re.escape(name.split()[0].lower())})(?:'s|s)?\s+"
                     rf"(?:team|group|region|org|reports|people|csms)\b", low)]
    if led and not any(f.field == "team" for f in out):  # "Noah's team": the team that CSM or manager is on
        out.append(Filter(field="team", value=led[0]) if len(set(led)) == 1 else
                   Filter(field="team", op="in", value=list(dict.fromkeys(led))))
        said.append(" and ".join(dict.fromkeys(led)) + " team")
    owners = [name for name in vocab.csms if name != asker and not led and
              re.search(rf"\b({re.escape(name.lower())}|{re.escape(name.split()[0].lower())})(?:'s)?\b"
                        rf"(?!\s+(?:wants|wanted|asked|asks|asking|needs|needed|said|says|is asking|would like|"
                        rf"requested|mentioned|told me|wants to know|is after)\b)", low)]  # "Olivia wants": who asks
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
    for plan in vocab.plans:  # "growth plan", "plan growth", or "are on growth" without the word plan
        word = re.escape(plan.lower())
        if re.search(rf"\b{word}\s+(plan|tier|contract)s?\b|\b(plan|tier)\s+{word}|"
                     rf"\b(?:are|is|be|still|ones|accounts|customers)\s+on\s+(?:the\s+)?{word}\b", low):
            out.append(Filter(field="plan", value=plan))
            said.append(f"{plan} plan")
            break
    return out, said


_PLUS = r"\s*(?:\+|plus)?\s*(?:or (?:more|longer)\s+)?"  # "30+ days", "30 or more days": at least that long


def _account_filters(low: str, today: date) -> tuple[list[Filter], list[str], Span | None]:
    out: list[Filter] = []
    said: list[str] = []
    if re.search(r"\bat[- ]risk\b|\brisky\b|in trouble|likely to churn|churn risk|worr(y|ied)|concern", low):
        out.append(Filter(field="risk", value="at risk"))
        said.append("at risk")
    if re.search(r"growth potential|expansion (candidates|opportunit\w+|potential)|upsell|room to (grow|expand)", low):
        out.append(Filter(field="risk", value="growth potential"))
        said.append("with growth potential")
    found = re.findall(r"\b(red|yellow|amber|green)\b", low)
    bands = list(dict.fromkeys("yellow" if b == "amber" else b for b in found))
    if len(bands) == 1:
        out.append(Filter(field="band", value=bands[0]))
        said.append(bands[0])
    elif bands:  # "yellow or red"
        out.append(Filter(field="band", op="in", value=bands))
        said.append(" or ".join(bands))
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
    elif re.search(r"\bpassives?\b", low):
        out += [Filter(field="nps", op="ge", value=7), Filter(field="nps", op="le", value=8)]
        said.append("NPS passives (latest NPS 7-8)")
    elif re.search(r"\bpromoters?\b", low):
        out.append(Filter(field="nps", op="ge", value=9))
        said.append("NPS promoters (latest NPS 9-10)")
    m = re.search(r"(?:no|not|nobody|no one|haven'?t|have not|hasn'?t|without|zero|any)\b[^.?!]{0,40}?\b(?:touch|talk|"
                  r"spoke|spoken|"
                  r"contact|activit|interact|engag|"
                  r"heard|met|reach|engag|check)\w*[^.?!]{0,30}?" + _NUMW + _PLUS + r"(day|week|month)s?", low) or \
        re.search(r"(?:untouched|silent|quiet|neglected|dark)\b[^.?!]{0,20}?" + _NUMW + _PLUS + r"(day|week|month)s?",
                  low)
    quiet = re.search(r"gone (dark|quiet|silent|cold)|went (dark|quiet|silent|cold)|radio silence|\bghost(ed|ing)?\b|"
                      r"haven'?t heard from", low)
    since = re.search(r"(?:haven'?t|have not|hasn'?t|not|no)\b[^.?!]{0,30}?\b(?:heard|talk|spoke|spoken|touch|contact|"
                      r"met|reach)\w*[^.?!]{0,20}?\bsince\b", low)
    gap = span(low[since.start():], today, future=False) if since else None
    none_logged = absence.gap(low, today)
    if none_logged is not None:  # "nothing logged since oct 21": last touch before that day
        out.append(Filter(field=none_logged[3], op="ge", value=none_logged[0]))  # of the kind named, if one was
        said.append(none_logged[1])
        low = low[:absence.absent(low).start()]  # type: ignore[union-attr]  # its window is not a renewal window
        m = None
    elif gap is not None and not m:
        n = max(1, (today - gap.start).days)
        out.append(Filter(field="days_since_touch", op="ge", value=n))
        said.append(f"no touch since {gap.start.isoformat()} ({n}+ days)")
    elif m or quiet:
        n = int(_value(m.group(1), "")) * {"day": 1, "week": 7, "month": 30}[m.group(2)] if m else 30
        out.append(Filter(field="days_since_touch", op="ge", value=n))
        said.append(f"no touch in {n}+ days")
    own = r"\b(?:with|have|has|had|got|having)\s+(?:any\s+|an?\s+|some\s+)?"
    if re.search(own + r"(?:open\s+)?(?:high|urgent)[- ]priority (?:open )?(?:tickets?|cases?|issues?)\b", low):
        out.append(Filter(field="open_high_tickets", op="gt", value=0))
        said.append("with open high-priority tickets")
    elif re.search(r"\bwith (any )?open tickets\b|\bopen tickets\b.*\baccounts\b|" + own +
                   r"(?:open|unresolved) (?:tickets?|cases?|issues?)\b|" + own +
                   r"(?:tickets?|cases?) (?:still )?open\b",
                   low):
        out.append(Filter(field="open_tickets", op="gt", value=0))
        said.append("with open tickets")
    if not any(f.field == "onboarding_overdue" for f in out) and re.search(own + r"(?:overdue|late|slipped) "
                                                                            r"(?:milestones?|onboarding steps?)", low):
        out.append(Filter(field="onboarding_overdue", op="gt", value=0))
        said.append("with overdue onboarding milestones")
    if not any(f.field == "champion_present" for f in out) and re.search(own + r"champions?\b", low):
        out.append(Filter(field="champion_present", op="ge", value=1))
        said.append("with a champion")
    window = None
    touch = m
    m = re.search(r"usage (?:has )?(dropped|fell|fallen|declined|decreased|down|grew|grown|rose|increased|up)\b"
                  r"[^.?!]{0,20}?(\d+(?:\.\d+)?)\s*(?:%|percent)", low)
    if m:
        v = float(m.group(2)) / 100
        up = m.group(1) in ("grew", "grown", "rose", "increased", "up")
        out.append(Filter(field="usage_change_30d", op="gt" if up else "lt", value=v if up else -v))
        said.append(f"usage {'up' if up else 'down'} more than {figures.percent(v)} in 30 days")
    if touch:  # the touch gap's own words ("in 3 weeks") are not the renewal window
        low = low[:touch.start()] + " " + low[touch.end():]
    if re.search(r"\b(signed|sign(?! off)|became (?:a )?customers?|joined|came on ?board|new logos?|closed[- ]won|"
                 r"started with us|(?:customers?|clients?) since)\b|\bcontracts?\b.{0,25}\b(began|begun|started|start|"
                 r"commenced|kicked off)\b|\b(began|started|start)\b.{0,15}\bcontracts?\b", low):
        signed = span(low, today, future=False)
        if signed is not None:
            out.append(Filter(field="contract_start", op="between",
                              value=[signed.start.isoformat(), signed.end.isoformat()]))
            said.append(f"signed {signed.describe()}")
            return out, said, None
    if re.search(r"renew|renewal|up for|expir|contracts? (end|ending|due)|churn", low):
        window = span(low, today, future=True)
        if window is not None:
            out.append(Filter(field="renewal_date", op="between",
                              value=[window.start.isoformat(), window.end.isoformat()]))
            said.append(f"renewing {window.describe()}")
    return out, said, window

