"""Phrase tables: which words name which field, sort, group, entity, metric or lookup. Data, no logic."""

from __future__ import annotations

import re
from typing import Any

from agents.understand.activity_words import LOGGED, NOUNS
from agents.when import NUMBER_WORDS
from tools.query import Filter, Sort

_NUMW = r"((?:\d(?:[\d,]*\d)?(?:\.\d+)?|\.\d+)(?:\s?[km](?![a-z])|%)?|" + "|".join(NUMBER_WORDS) + r")"
_MORE = r"(?:at or above|at or over|above|over|more than|greater than|higher than|bigger than|larger than|" \
        r"at least|no less than|>=?|exceeding|in excess of|upwards of|north of|min(?:imum)?(?: of)?)"
_LESS = r"(?:at or below|at or under|below|under|less than|fewer than|lower than|smaller than|at most|" \
        r"no more than|<=?|beneath|south of|max(?:imum)?(?: of)?|up to)"
_INCLUSIVE = r"(?:at or above|at or over|at or below|at or under|at least|no less than|>=|min(?:imum)?(?: of)?|" \
             r"at most|no more than|<=|max(?:imum)?(?: of)?|up to)"
"""Bounds that include their number ("at least 3" is 3 or more)."""
_FIELD_WORDS: dict[str, str] = {
    "health": r"health(?: score)?|score",
    "arr": r"arr|revenue|contract value|acv|spend(?:ing)? with us|worth|paying|pay",
    "p_renew": r"p\(renew\)|renewal (?:probability|likelihood|odds)|chance of renewing|likelihood to renew",
    "nps": r"nps",
    "seat_utilization": r"seat (?:use|usage|utili[sz]ation)|utili[sz]ation|"
                        r"(?:of )?(?:their |the )?seats (?:in use|used)|"
                        r"(?<=%) of (?:their |the |its |our )?(?:seats|licen[cs]es)",
    "usage_change_30d": r"usage (?:change|growth)", "days_since_touch": r"days since (?:touch|contact)",
    "open_tickets": r"open (?:tickets?|tix|cases?)|tickets? open", "p95_ms": r"p95(?: latency)?|latency",
    "open_high_tickets": r"open,? (?:high|urgent|p1)(?:[- ]priority|[- ]prio|[- ]pri)? (?:tickets?|tix|cases?)|"
                         r"(?:high|urgent)(?:[- ]priority)? open (?:tickets?|tix|cases?)|"
                         r"(?:high|urgent)[- ]priority (?:tickets?|tix|cases?) (?:still )?open|"
                         r"open,? (?:p[01]|sev ?1)s?\b|\b(?:p[01]|sev ?1)s? (?:tickets? |cases? )?(?:still )?open\b",
    "onboarding_overdue": r"overdue (?:onboarding )?(?:milestones?|steps?|tasks?)|(?:late|slipped) (?:onboarding )?"
                          r"(?:milestones?|steps?)|(?:onboarding )?(?:milestones?|steps?) (?:overdue|late|past due)",
    "error_rate": r"error rate",
    "spend_30d": r"spend|usage spend|cost", "seats": r"seats|licen[cs]es|users",
}
_SORTS: list[tuple[str, str, bool]] = [  # (pattern, field, descending)
    (r"(worst|lowest|bottom) (latest )?nps|nps is (the )?(worst|lowest)", "nps", False),
    (r"(best|highest|top) (latest )?nps|nps is (the )?(best|highest)", "nps", True),
    (r"(next|upcoming|soonest|first) renewals?\b|renews? next\b", "renewal_date", False),
    (r"renew\w* (?:first|soonest|earliest)\b|soonest|earliest renewal|next to renew|closest renewal", "renewal_date",
     False),
    (r"renew\w* (?:the )?(?:last|latest)\b(?!\s+(?:week|month|quarter|year|\d|few|two|three|time))|"
     r"(?:latest|furthest(?: out)?|last) to renew|renew\w* furthest out", "renewal_date", True),
    (r"sign(?:ed)? (?:the )?(?:most )?recently|recently signed|"
     r"(?:newest|latest|most recent) (?:customers?|accounts?|logos?|signings?|clients?)\b", "contract_start", True),
    (r"smallest|lowest[- ]arr|least revenue|bottom \d* ?(?:accounts )?by arr", "arr", False),
    (r"(?:biggest|largest)(?!\s+(?:usage|seats?|spend|drop|declines?|growth|increase|latency|error|token|request))|"
     r"highest[- ]arr|most (?:valuable|revenue|arr)|top .*by (?:arr|revenue|size)|by arr|by revenue", "arr", True),
    (r"least likely to renew|lowest p\(renew\)|by p\(renew\)|riskiest|most at risk|highest risk|most risk|by risk",
     "p_renew", False),
    (r"most likely to renew|highest p\(renew\)|safest", "p_renew", True),
    (r"worth the least|least valuable", "arr", False),
    (r"worth the most", "arr", True),
    (r"\bby seats?(?: count)?\b|most seats|seat count|(?:biggest|largest) seat", "seats", True),
    (r"healthiest|best health|highest health|strongest|most healthy", "health", True),
    (r"unhealthiest|least healthy|worst|lowest health|weakest|sickest|by health", "health", False),
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
BOOK = re.compile(r"\b(?:any|all|each|every|across|on|in|over|throughout|from|for) (?:all )?(?:of )?"
                  r"(?:my|our|the team'?s) (?:whole |entire )?(?:\w+ )?(?:plans|onboardings|accounts|book|portfolio|"
                  r"customers|clients|territory)\b|\ball (?:of )?(?:my|our)\s+\w+|"
                  r"\b(?:across|in|over|throughout) the (?:whole |entire )?"
                  r"(?:book|portfolio|board)\b|\b(?:my|our) (?:whole|entire) (?:book|portfolio)\b")
"""The asker's whole book named ("on any of my plans", "across my accounts", "all my tickets"): a new question over
it, not about the last subject or the account just picked."""
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


SHORTHAND = {r"\bb4\b": "before", r"\baccts?\b": "accounts", r"\bwich\b": "which", r"\bwhcih\b": "which",
             r"\b(?:xmas|christmas) eve\b": "dec 24", r"\bnew year'?s eve\b": "dec 31",
             r"\bxmas\b|\bchristmas\b": "dec 25", r"\bnew year'?s?( day)?\b": "jan 1", r"\bthru\b": "through",
             r"\b(\d+)\s*(?:wks?|wk)\b": r"\1 weeks", r"\b(\d+)\s*(?:mos|mo|mths?|mnths?)\b": r"\1 months",
             r"\b(\d+)\s*(?:yrs?)\b": r"\1 years", r"\b(\d+)\s*(?:qtrs?)\b": r"\1 quarters",
             r"\b(this|last|next|past|the|a)\s+yr\b": r"\1 year",
             r"\b(this|last|next|past|the|a)\s+qtr\b": r"\1 quarter",
             r"\b(next|last|past|within|in)\s+(\d+)\s*d\b": r"\1 \2 days",
             r"\bytd\b": "year to date", r"\bqtd\b": "this quarter", r"\bmtd\b": "this month",
             r"\beom\b": "end of the month", r"\beoy\b": "end of the year", r"\beoq\b": "end of the quarter",
             r"\bw/o\b": "without", r"\bw/": "with ", r"\bq'?ty\b": "quantity", r"\bmgr\b": "manager",
             r"\brenewl\b|\brenwal\b": "renewal", r"\bcustomrs?\b": "customers", r"\bpls\b|\bplz\b": "please",
             r"\bbetween now and\b|\bfrom now (?:to|until|till|through)\b|\bnow (?:through|until|till)\b": "by",
             r"\bfortnight\b": "2 weeks", r"\bfortnights\b": "weeks", r"\bsept\b": "september",
             r"\bprio\b|\bprty\b": "priority", r"\bhw\b": "how", r"\bteh\b": "the", r"\bthx\b|\bty\b": "thanks",
             r"\bu\b": "you", r"\bur\b": "your", r"\bdont\b": "don't", r"\bwhats\b": "what's",
             r"\bwhos\b": "who's", r"\bwheres\b": "where's", r"\bhows\b": "how's"}
"""Shorthand and common misspellings CSMs type, and what they mean."""

LEXICON = sorted(set(
    "which what accounts account customers customer clients client renewals renewal renew renews renewing renewed "
    "tickets ticket milestones milestone onboarding priority churned churn contracts contract quarter health "
    "expanded contracted meetings meeting survey surveys responses response detractors promoters between before "
    "after since until weeks months quarters years days open closed resolved overdue blocked pending failed "
    "running completed finished signed started opened filed highest lowest biggest largest smallest oldest newest "
    "latest earliest recent portfolio enterprise champion champions contacts revenue retention average "
    "january february march april june july august september october november december monday tuesday wednesday "
    "thursday friday saturday sunday yesterday tomorrow today".split()))
"""Words CSMs ask with, for mending a typo in one of them ("whcih acounts", "Septmber")."""


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
    (r"\bcontacts?\b|who (?:else )?(do we know|should i (talk|speak|reach out|call|email|ping|contact|go)( to)?|"
     r"are (our|the) (people|contacts))|who (?:else )?(?:do we|have we|we) (?:still )?(?:have|got|know)\b"
     r"(?! (?:renew|at risk|in (?:onboarding|red|yellow|green)))|\banyone else\b|\bwho else\b|"
     r"who(?:'s| is) (?:still )?(?:left|there)\b|"
     r"\bpeople\b|\bpoint of contact\b|\bpoc\b", "contacts",
     {"entity": "contacts", "fields": ["name", "role", "email", "is_champion", "left_on"], "limit": 10}),
    (r"\bmilestones?\b|go[- ]?live|\blaunch\b|target date|\bkick-?off\b", "milestones",
     {"entity": "milestones", "fields": ["name", "owner", "status", "due_date", "plan_target"], "limit": 10}),
    (r"who (owns|manages|covers|handles|is (on|responsible for))|\bowner\b|\bwhose account\b|which csm|"
     r"account manager|assigned (csm|to)|\bcsm\b(?! notes?\b)|\bcsm (for|of|on)\b", "owner",
     {"entity": "accounts", "fields": ["owner", "team"]}),
    (r"\btickets?\b|\btix\b|\bcases?\b|support (issues|requests)|\bescalations?\b|\bwhat(?:'s| is) (?:still )?open\b|"
     r"\banything (?:still )?open\b", "tickets",
     {"entity": "tickets", "fields": ["subject", "priority", "status", "opened_at"], "limit": 10}),
    (r"\bseats?\b|licen[cs]es?|how many (users|people|employees)|active users|\butili[sz]ation\b", "seats",
     {"entity": "accounts", "fields": ["seats", "seats_used", "seat_utilization", "plan"]}),
    (r"\bplan\b|\btier\b|subscription|\bpackage\b|\bsku\b|what are they (paying for|on)\b", "plan",
     {"entity": "accounts", "fields": ["plan", "seats", "contract_value"]}),
    (r"contract (start|began|begin|signed)|when did (they|we) (sign|start|begin|become)|customer since|"
     r"(start|signing) date|when did .* (sign|start)", "contract start",
     {"entity": "accounts", "fields": ["contract_start", "renewal_date", "plan"]}),
    (r"when did .{0,40}\b(?:last )?renew|\blast renew(?:al|ed)\b|\b(?:previous|past|prior) renewals?\b|"
     r"\brenewal history\b|\bhow did .{0,30}\b(?:last )?renewal go\b|\bdid .{0,30}\brenew (?:last|in)\b",
     "past renewals", {"entity": "renewals", "fields": ["renewal_date", "outcome", "arr_before", "arr_after"],
                       "filters": [], "sort": [Sort(field="renewal_date", desc=True)], "limit": 3}),
    (r"when (does|do|is|will) .*(renew|contract (end|expire)|expir|up for renewal|contract'?s? (is )?up)|"
     r"when (?:it|they|that one|this one) (?:renews?|expires?|is up)|"
     r"when(?:'s| is) (?:their|its|the) (?:next )?(?:renewal|contract (?:up|end))\b|"
     r"renewal date|contract end|^\W*(?:and |so |ok |what about |how about )?(?:their|its|the) (?:next )?renewal\W*$|"
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
    (r"\b(meetings|calls|emails|notes|activities|touchpoints|interactions|conversations)\b(?! (?:in|about)\b)|"
     r"\b(?:last|latest|most recent|recent)\s+(?:\d{1,2}|two|three|four|five)\s+(?:meetings|calls|emails|notes|"
     r"activities|touchpoints|interactions|conversations)\b|(?:" + LOGGED.pattern + ")",
     "activities", {"entity": "activities", "fields": ["occurred_on", "kind", "subject", "author", "body"],
                    "limit": 10}),
    (r"(last|latest|most recent|previous) (meeting|call|sync|qbr|check-?in)|what (was|did we) (discuss|cover)\w*|"
     r"when did .{0,40}\blast (have|hold|do|run|get)? ?(a |an |the |their )?(meeting|call|qbr|sync|check-?in)|"
     r"what did (we|they) (talk about|say)|meeting notes|what was (said|covered|discussed)",
     "last meeting", {"entity": "activities", "fields": ["occurred_on", "kind", "subject", "author", "body"],
                      "limit": 1}),
    (r"(last|latest|most recent) (touch|contact|interaction|conversation|email|note|activity|time we (talk|spoke|"
     r"heard|met|reach|connect)\w*)|when did (we|i|anyone|anybody|someone|somebody)\b.{0,25}?\b(last )?(talk|speak|"
     r"spoke|hear|meet|reach|contact|touch|connect|email|call|engag|interact|log)|"
     r"last (talked|spoke|heard|met|emailed|reached|contacted|touched|engaged|interacted)|"
     r"last time (we|i|anyone|someone|somebody) (talk|spoke|speak|heard|met|reach|contact|touch|email|call)|"
     r"who did (?:we|i|anyone) last (?:talk|speak|meet|email|call|hear from)|"
     r"(?:we|i) last (?:talked|spoke) (?:to|with)|"
     r"how long (has it been )?since (we|i|anyone|someone)",
     "last touch", {"entity": "activities", "fields": ["occurred_on", "kind", "subject", "author", "body"],
                    "limit": 1}),
    (r"\bnps\b|\bsurvey|\bcsat\b|promoter|detractor", "survey",
     {"entity": "surveys", "fields": ["responded_on", "kind", "score", "comment", "contact"], "limit": 3}),
    (r"(list|all|how many|which)\b.*fine[- ]?tun|fine[- ]?tun\w* (jobs|runs|history)|"
     r"\bfine[- ]?tun(?:es|ing (?:jobs|runs))\b.{0,30}\b(?:doing|going|looking|gone|go|performing|coming along|"
     r"progressing)\b|\b(?:status|state|progress|update) (?:of|on) (?:[\w']+ )?fine[- ]?tun|"
     r"^(?!.*\b(?:why|how|wrong|issues?|problems?|diagnos\w*|fix\w*|latency|cost)\b).*\bfine[- ]?tunes\b", "fine-tunes",
     {"entity": "fine_tunes", "fields": ["created_on", "status", "base_model", "eval_score", "loss_summary"],
      "limit": 10}),
]


_ENTITY_CUES: list[tuple[str, str]] = [
    (r"\btickets?\b|\btix\b|\bcases\b|support (issues|requests)|\bescalations\b|"
     r"\b(?:got|were|was|been|get|gets|getting) (?:resolved|fixed)\b|"
     r"\b(?:anything|what|which|how many|any)\b(?!\s+(?:of (?:my|our) )?(?:accounts?|customers?|clients?|deals?|"
     r"plans?|renewals?)\b)(?:\s+(?!(?:" + NOUNS + r")\b)\w+){0,2}\s+(?:filed|raised|submitted|opened)\b|"
     r"\b(?:issues?|bugs?|incidents?|problems?)\b(?:\s+\w+){0,2}\s+logged\b|"
     r"\b(?:anything|what|how many)\s+(?:got\s+|was\s+|were\s+|have\s+we\s+|did\s+we\s+)?(?:closed|resolved)\b",
     "tickets"),
    (r"fine[- ]?tun\w*", "fine_tunes"),
    (r"^(?!.*\b(?:which|what|any|my|list|show) (?:of my )?(?:accounts?|customers?|clients?)\b).*"  # not accounts asked
     r"\b(?:blocked|stuck|stalled|on hold|overdue|late|past due|slipp\w*)\s+(?:[\w']+\s+){0,2}?(?:in|on|across|for)\s+"
     r"(?:[\w']+\s+){0,2}?(?:onboardings?|plans?)\b", "milestones"),  # "anything blocked in my onboardings?": steps
    (r"\b(?:onboarding|implementation|rollout) plans?\b|\bplans? (?:that are |which are )?(?:running|active|"
     r"in progress|past (?:their )?target|behind|late|completed|finished)\b|"
     r"\bplans? (?:that |which )?(?:are )?(?:started|kicked off|began|begun|launched|went live|go live|going live|"
     r"targeting)\b|"
     r"\b(?:kicked off|began onboarding|started onboarding)\b|"
     r"^(?!.*\b(?:milestones?|steps?|tasks?|due)\b).*(?:\bonboardings\b|\b(?:target|go[- ]?live) dates?\b|"
     r"\bonboardings?\b.{0,40}\b(?:start(?:ed|s|ing)?|kick(?:ed|s)? off|began|begun|launch(?:ed)?|target\w*)\b|"
     r"\b(?:start(?:ed)?|kicked off|began|begun|launched)\b.{0,30}\bonboardings?\b|"
     r"\bplans (?:\w+ ){1,3}(?:started|kicked off|began|launched)\b)", "plans"),
    # "onboardings with a target date in December", "which onboardings did I start in October": the plans
    (r"\bmilestones?\b|onboarding (tasks|steps)|\bdue\b.{0,30}\bonboardings?\b|\bonboardings?\b.{0,30}\bdue\b|"
     r"\bplans\b.{0,30}\bdue\b(?! (?:for|to) renew)|\bdue\b.{0,20}\b(?:in|on|across) (?:\w+ ){0,2}plans\b",
     "milestones"),
    (r"\bchampions\b|\bcontacts\b|economic buyers|decision[- ]makers|\bpeople who\b|"
     r"\b(?:who|anyone|anybody|people|folks)(?:['’]s|['’]ve| has| have)? (?:left|departed|quit|moved on|"
     r"gone(?! (?:quiet|dark|silent|cold)))\b", "contacts"),
    (r"\b(survey|nps|csat) (responses?|answers?|comments?|results|scores)\b|\bsurvey comments\b|"
     r"\b(responded|answered|replied|filled (?:in|out)|took)\b.{0,12}\b(nps|survey|csat)\b|"
     r"\b(detractor|promoter|passive)s? (responses|answers|comments)\b|"
     r"\b(?:gave|given|rated|scored|scoring) (?:us )?(?:an? )?(?:score of )?(?:(?:below|under|above|over|less than|"
     r"more than|at least|at most) )?(?:10|\d)(?: or (?:lower|less|below|under|worse|higher|more|above|better))?\b"
     r"(?![.,]\d|\s*(?:%|percent|days?|weeks?|months?|years?|tickets?|seats?)\b)", "surveys"),
    (r"\b(?:meetings|calls|e-?mails|notes|activities|touchpoints|interactions|minutes)\b(?! in\b(?! (?:the )?(?:last|"
     r"past|previous|this)\b| (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|q[1-4]\b|20\d\d)))|"
     r"(?:" + LOGGED.pattern + ")", "activities"),  # "any call notes last week", "what's been logged since May"
    (r"\b(churn|churned|renewed|expanded|contracted|downgraded)\b.*"
     r"\b(last|past|previous|since|during|in 20\d\d|this year)\b|"
     r"renewal history|\brenewals?\b.{0,30}\b(last|past|previous|prior) (quarter|month|year)\b(?! of)|"
     r"\brenewals?\b.{0,30}\b(last|past|previous|prior) (\d+|two|three|four|five|six|nine|twelve|few) "
     r"(weeks|months|quarters|years)\b|"
     r"\bhow did (my|our|the team'?s?) renewals\b|"
     r"\brenewals? (did|that) .{0,25}\b(lose|lost|shr[ai]nk|shrunk|grow|grew|churn\w*|expand\w*)\b|"
     r"\bpast renewals\b|\bwho churned\b", "renewals"),
]
METRICS: list[tuple[str, str]] = [
    (r"\bnrr\b|net (revenue |dollar |arr )?retention|\bndr\b", "nrr"),
    (r"\bgrr\b|gross (revenue |dollar |arr )?retention|\bgdr\b", "grr"),
    (r"logo retention|customer retention( rate)?|retention rate|logos? (retained|kept)", "logo_retention"),
    (r"churn rate|logo churn|"
     r"how many (accounts|customers|logos) (did we |have we )?(churn|lose|lost)|\bchurn(ed)? (%|percent)|"
     r"what(?:'s| is| was) (my|our|the|the team'?s|my team'?s|our team'?s) (\w+ )?churn\b|"
     r"(accounts|customers|logos) (did )?we (lost|lose|churned)", "churn_rate"),
    (r"(average|avg|mean) csat|\bcsat\b (score|average)", "avg_csat"),
    (r"(average|avg|mean) nps|nps (average|avg|mean)", "avg_nps"),
    (r"\bnps\b( score)? (for|of|across|in) (my|our|the|all)|\b(my|our|team'?s?|company'?s?) nps\b|overall nps|"
     r"what('s| is) (the |our |my )?nps|"
     r"^\W*(?:the )?nps\b(?: score)?\s+(?:for|in|during|over|across)\b(?!.*\b(responses?|comments?|answers?)\b)",
     "nps"),
]


_COMPARE_TOPICS: list[tuple[str, list[str]]] = [
    (r"latenc|slow|p95|performance|error", ["p95_ms", "error_rate", "model"]),
    (r"spend|cost|usage|traffic|adoption", ["spend_30d", "usage_change_30d", "seats_used", "seat_utilization"]),
    (r"seat|licen", ["seats", "seats_used", "seat_utilization"]),
    (r"nps|satisf|sentiment|happ", ["nps"]), (r"ticket|support", ["open_tickets", "open_high_tickets"]),
    (r"renew|churn|risk|contract", ["renewal_date", "days_to_renewal", "p_renew", "risk"]),
    (r"touch|contact|engag|talk", ["last_touch", "days_since_touch"]),
]


COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|side[- ]by[- ]side|\bdifference between\b|\bcompared to\b|"
                     r"which (one )?(is|has|looks) (healthier|better|worse|bigger|riskier|more|less)|"
                     r"\b(healthier|riskier|bigger|larger|better off|worse off)\b")

TOPIC = {"plans": "onboarding", "fine_tunes": "tuning", "telemetry": "tuning", "milestones": "onboarding",
         "renewals": "renewal", "tickets": "health", "surveys": "needs", "activities": "needs", "contacts": "renewal",
         "accounts": "health"}
"""The agent a follow-up like "why did it fail?" continues with, by the entity the last answer listed."""


# Where a message asks a second thing: "who owns it and how healthy is it?", "X, and when do they renew?"
_CLAUSE = re.compile(r"(?:\s*,?\s*\b(?:and|also|plus)\s+|\s+[+&]\s+)"
                     r"(?=(?:also\s+)?(?:what|what's|who|who's|whose|how|how's|when|"
                     r"when's|where|which|why|is|are|was|were|does|do|did|has|have|can|could|any|their|its|tell|"
                     r"give|show|list)\b)")


def clauses(low: str) -> list[str]:
    """The parts of a message that each ask something ("who owns it", "how healthy is it"); one when it asks one."""
    return [c for c in _CLAUSE.split(low) if c.strip()] or [low]
