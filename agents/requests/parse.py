"""Is this message a request to do something, and what: an e-mail, a Slack message, a meeting, a reminder.

A request starts with what to do (after "please", "can you", "hey Retain,"...): "draft a note to…",
"email…", "ping…", "set up a QBR with…", "remind me to…". A question about such things ("did we
email Acme?", "when is the QBR?") is not one. From a request this reads the kind, the recipient's
role or name as written, the meeting type, the topic and the stated day/time; accounts and people are
resolved later, against the CRM (`agents.requests.route`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from agents.requests.dates import Moment, moment
from agents.state import RequestJSON, RequestKind

Kind = RequestKind
KINDS: tuple[Kind, ...] = ("email", "slack", "meeting", "reminder")

_LEAD = re.compile(
    r"^\s*(?:(?:hey|hi|ok|okay)\s+)?(?:retain\b[\s,:!-]*)?(?:(?:please|pls|kindly)\s+)?"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|i(?:'d| would)\s+like\s+(?:you\s+)?to\s+|"
    r"i\s+(?:want|need)\s+(?:you\s+)?to\s+|help\s+me\s+|let'?s\s+|go\s+ahead\s+and\s+|time\s+to\s+|"
    r"(?:can|could)\s+(?:we|i)\s+)?"
    r"(?:please\s+)?", re.I)
_MEETING_NOUN = (r"(qbr|ebr|business review|meeting|call|sync|check-?in|review|session|demo|workshop|catch-?up|"
                 r"touch-?base|time|1:1|one-on-one|kick-?off|intro call|walkthrough|chat|convo|conversation|huddle|"
                 r"zoom|meet|discussion|slot|\d{1,3}[\s-]*min(?:ute)?s?|(?:an?|one|half\s+an)\s+hours?)")
_MESSAGE_NOUN = (r"(e-?m(?:ai|ia|a)l|mail|note|message|msg|letter|reply|response|follow-?up|intro(?:duction)?|line|dm|"
                 r"slack(?: message| msg| note| dm)?|invite|invitation)")
_FILLER = r"(?:(?:a|an|the|my|our|some|quick|short|brief|friendly|polite|formal|nice|warm|personal|new|" \
          r"renewal|thank[- ]you|check-?in|intro|\w+'s|calendar)\s+){0,4}"
_HEADS: list[tuple[Kind | None, re.Pattern[str]]] = [
    ("reminder", re.compile(r"(?:remind\s+me|set\s+(?:up\s+)?(?:a\s+|me\s+a\s+)?reminder|"
                            r"(?:add|create|make)\s+(?:a\s+|me\s+a\s+)?(?:reminder|task)|"
                            r"don'?t\s+let\s+me\s+forget|ping\s+me|nudge\s+me)\b", re.I)),
    ("meeting", re.compile(r"(?:set\s*up|schedule|book|arrange|organi[sz]e|line\s+up|propose|request|"
                           r"send\s+(?:out\s+)?(?:an?\s+|the\s+)?(?:calendar\s+)?(?:invite|invitation)s?\s+(?:to|for)|"
                           r"invite)\b\s+(?:[\w'&.-]+\s+){0,5}?" + _FILLER + _MEETING_NOUN + r"\b|"
                           r"(?:get|find|grab)\s+(?:some\s+|a\s+)?(time|\d{1,3}[\s-]*min(?:ute)?s?|"
                           r"(?:an?|one|half\s+an)\s+hour)\b", re.I)),
    (None, re.compile(r"(?:draft|write|compose|prepare|prep|put\s+together|send|shoot|fire\s+off|drop|create)"
                      r"(?:\s+(?:me|up|out|over))?\s+(?:[\w'&.-]+\s+){0,6}?" + _FILLER + _MESSAGE_NOUN + r"\b", re.I)),
    (None, re.compile(r"(?:draft|write|send|shoot|fire\s+off|drop)(?:\s+(?:me|up|out|over))?\s+(?:[\w'&.-]+\s+){0,6}?"
                      + _FILLER + r"(something|(?:status\s+)?update|heads-?up|word)\b", re.I)),
    ("slack", re.compile(r"(?:slack|dm|ping)\b(?!\s+(?:channel|history|thread|messages))", re.I)),
    ("email", re.compile(r"(?:e-?m(?:ai|ia|a)l|message|msg|reach\s+out\s+to|follow\s+up\s+with|write\s+to|"
                         r"get\s+in\s+touch\s+with|let\s+(?!me\b|us\b)(?:[\w'&.-]+\s+){1,4}know)\b"
                         r"(?!\s+(?:address|addresses|of|for|from|is|was|history|thread)\b)", re.I)),
]
ROLE_WORDS: list[tuple[str, str]] = [
    ("champion", r"\bchampions?\b"),
    ("executive", r"\bexec(?:utive)?\s+sponsors?\b|\b(?:economic|eco)\s+buyers?\b|\bsponsors?\b|\bexecs?\b|"
                  r"\bexecutives?\b|\bdecision[- ]makers?\b|\bc-?level\b|\bleadership\b|\bvp\b"),
    ("admin", r"\b(?:it\s+)?admin(?:istrator)?s?\b"),
    ("technical", r"\btechnical\s+(?:contact|lead|owner|person)s?\b|\btech(?:nical)?\s+(?:contact|lead)s?\b|"
                  r"\bengineering\s+(?:lead|contact)s?\b|\b(?:their\s+)?engineers?\b|\barchitects?\b"),
    ("procurement", r"\bprocurement\b|\bpurchasing\b|\bbilling\s+contact\b|\bfinance\s+contact\b"),
    ("owner", r"\b(?:account\s+)?owner\b|\bthe\s+csm\b|\btheir\s+csm\b|\bwho(?:ever)?\s+owns\b"),
]
# A scheduling verb with a time of day or a length is a meeting whatever it is called ("book hooli's champion
# thursday at 4", "schedule the renewal piece with Acme friday 10am"): the time makes it one.
_SCHEDULE = re.compile(r"(?:set\s*up|schedule|book|arrange|line\s+up|pencil\s+in|put)\b", re.I)
_SUBJECT_WORD = re.compile(r"\b(renewal|expansion|onboarding|roadmap|pricing|security review|rollout|adoption|"
                           r"contract|upsell|escalation)\b", re.I)
_QUESTION = re.compile(r"^\s*(did|do|does|have|has|had|was|were|is|are|when|what|who|which|why|how|where|should|"
                       r"shall|any|anything|list|show)\b", re.I)
_MEETING_NAMES = {"qbr": "QBR", "ebr": "EBR", "business review": "business review", "sync": "sync", "demo": "demo",
                  "workshop": "workshop", "check-in": "check-in", "checkin": "check-in", "kickoff": "kickoff",
                  "kick-off": "kickoff", "catch-up": "catch-up", "catchup": "catch-up", "review": "review",
                  "walkthrough": "walkthrough", "session": "working session", "1:1": "1:1",
                  "one-on-one": "1:1", "touch-base": "call", "touchbase": "call", "intro call": "intro call"}
_CONNECT = re.compile(r"^(?:,|;|:|-|about|regarding|re:?|on|that|saying|to say|to|and|for|with|w/|w(?=\s)|asking|"
                      r"telling|letting (?:them|him|her) know|so (?:that )?)\s+", re.I)


@dataclass(frozen=True)
class Request:
    """What a request asks for, as written: resolved against the CRM by `agents.requests.route`."""

    kind: Kind
    text: str
    role: str | None = None  # champion | executive | admin | technical | procurement | owner
    meeting: str | None = None  # QBR, EBR, call, sync...
    topic: str = ""
    when: Moment | None = None
    follow_up: bool = False  # "draft a follow-up" (the onboarding agent's draft unless a recipient is named)

    def to_json(self) -> RequestJSON:
        """As the route carries it (plain JSON)."""
        return {"kind": self.kind, "text": self.text, "role": self.role, "meeting": self.meeting,
                "topic": self.topic, "when": self.when.to_json() if self.when else None,
                "follow_up": self.follow_up}

    @staticmethod
    def from_json(d: RequestJSON) -> Request:
        """Back from `to_json`."""
        when = d.get("when")
        return Request(kind=d["kind"], text=d["text"], role=d.get("role"), meeting=d.get("meeting"),
                       topic=d.get("topic") or "", when=Moment.from_json(when) if when else None,
                       follow_up=bool(d.get("follow_up")))


def role_in(text: str) -> str | None:
    """The contact role a request names ("Acme's champion", "their exec sponsor"), if any."""
    low = text.lower()
    hits = [(m.start(), key) for key, pat in ROLE_WORDS for m in [re.search(pat, low)] if m]
    return min(hits)[1] if hits else None


_NAMED_MEETING = re.compile(r"\b(qbr|ebr|business review|meeting|call|sync|check-?in|review|demo|workshop|"
                            r"catch-?up|touch-?base|1:1|one-on-one|kick-?off|intro call|walkthrough|session)\b")


def _meeting_name(low: str) -> str:
    """The meeting's type as a draft names it (the first one the request mentions; a plain "call" else)."""
    m = _NAMED_MEETING.search(low)
    word = m.group(1) if m else "call"
    return _MEETING_NAMES.get(word, word)


_ROLE_PHRASE = re.compile(r"^(?:[\w&.-]+(?:'s|’s)\s+)?(?:the\s+|their\s+|our\s+|its\s+|his\s+|her\s+)?"
                          r"(?:main\s+|primary\s+|new\s+)?(?:" + "|".join(p for _, p in ROLE_WORDS) + r")"
                          r"(?:\s+(?:contact|person|lead|team))?(?:\s+(?:at|from|of|for)\s+(?:them|it))?"
                          r"(?!\s+(?:review|process|cycle|questions?|tickets?|call|meeting|update|plan|policy|forms?|"
                          r"timeline|deadline|steps?|approvals?|sign-?off|requirements?)\b)", re.I)


def tidy(topic: str, names: Sequence[str] = (), titles: Sequence[str] = ()) -> str:
    """A topic without the recipient in front of it: connectors, names (and their 's), titles and role words."""
    t = topic
    said = [(re.escape(n), "") for n in names] + [  # a title as said: "the VP of Engineering" for "VP Engineering"
        (r"\s+(?:(?:of|the|and|&)\s+)?".join(re.escape(w) for w in n.split()), r"(?:(?:the|their|its)\s+)?")
        for n in titles]
    for _ in range(8):
        before = t
        t = _CONNECT.sub("", t.strip(" ,.;:-"))
        named = t
        for pat, article in sorted(said, key=lambda p: len(p[0]), reverse=True):
            cut = re.sub(rf"^(?:(?:at|from|of|for|with)\s+)?{article}{pat}(?:'s\b|’s\b|'|’|\b)", "", t,
                         flags=re.I).strip()
            if cut != t:  # one name at a time, the longest first: "Lumen Health" whole, never "Lumen" of it
                t = cut
                break
        if t == named:  # a title the CRM holds first ("VP of Engineering"), a role word ("VP") only after
            t = _ROLE_PHRASE.sub("", t).strip()
        t = re.sub(r"^(?:them|him|her|it|the team|the customer)\b", "", t, flags=re.I).strip()
        if t == before:
            break
    t = re.sub(r"[\s,.;:-]+(?:thanks|thank you|thx|please|pls|cheers)[\s.!]*$", "", t, flags=re.I)
    return re.sub(r"\s+", " ", t).strip(" ,.;:-?!")


def _topic(rest: str, when: Moment | None, strip_when: bool) -> str:
    t = re.sub(r"\b(?:on|via|in|over|through)\s+slack\b", " ", rest.strip(), flags=re.I)
    if strip_when and when is not None:
        for part in (when.text, *when.text.split(" at ")):
            if part:
                t = re.sub(rf"\b(?:on|by|for|at|in|around)?\s*{re.escape(part)}\b", " ", t, flags=re.I)
    return tidy(re.sub(r"\s+", " ", t))


def parse(text: str, today: date) -> Request | None:
    """The request a message makes, or None when it is not a request (a question, a statement)."""
    if _QUESTION.match(text) and not re.match(r"^\s*(?:can|could|would|will)\s+you\b", text, re.I):
        return None
    lead = _LEAD.match(text)
    body = text[lead.end() if lead else 0:]
    found = next(((k, m) for k, pat in _HEADS for m in [pat.match(body)] if m), None)
    if found is not None:
        kind, m = found
    else:
        timed = moment(text, today)
        sched = _SCHEDULE.match(body)
        if sched is None or timed is None or (timed.at is None and timed.minutes is None):
            return None
        kind, m = "meeting", sched
    head, rest = m.group(0), body[m.end():]
    low_head = head.lower()
    if kind is None:  # "draft a … <noun>": the noun says which kind
        noun = m.group(m.lastindex or 0).lower()
        kind = "slack" if ("slack" in noun or noun == "dm" or re.search(r"\bslack\b", rest[:40], re.I)) \
            else "meeting" if noun.startswith("invit") else "email"
    elif kind == "email" and re.search(r"\bon slack\b|\bvia slack\b|\bin slack\b", text, re.I):
        kind = "slack"
    when_ = moment(text, today)
    if kind == "meeting":
        meeting = _meeting_name(body.lower())
        topic = _topic(re.sub(r"^\s*" + _NAMED_MEETING.pattern, " ", rest, count=1, flags=re.I), when_,
                       strip_when=True)
        said = _SUBJECT_WORD.search(head)  # "a renewal chat", "an expansion call": what the meeting is about
        if said and not re.search(rf"\b{said.group(1)}", topic, re.I):
            topic = f"{topic} about the {said.group(1).lower()}"  # "<account> about the renewal": tidied later
        return Request("meeting", text, role_in(text), meeting, topic, when_)
    if kind == "reminder":
        return Request("reminder", text, None, None, _topic(rest, when_, strip_when=True), when_)
    follow_up = bool(re.search(r"follow-?up\b", low_head))
    one_day = when_ is not None and when_.start == when_.end  # a day is read and said; "next week" stays as written
    return Request(kind, text, role_in(text), None, _topic(rest, when_, strip_when=one_day), when_, follow_up)

