"""A draft's words: a template filled from the facts, or a model's prose checked like an answer.

Without a chat model the template in `prompts/draft_<kind>.md` is filled from the request and the
CRM facts. With one, the model writes the body; it is kept only if the composer's verifier finds no
number, date or account name the facts do not hold, and no link, e-mail address or unknown person
appears; otherwise the template stands. A reminder (to the CSM themselves) is always the template.
"""

from __future__ import annotations

import re
from typing import TypedDict

from agents import prose_gate
from agents.composer import content_words, links, verify
from agents.context import Deps
from agents.requests.intent import Intent, read
from agents.state import FindingDict
from integrations.llm import LLMError, complete, dumps
from prompts import load

_GERUND = {"proposing": "propose", "asking": "ask", "suggesting": "suggest", "checking": "check",
           "sharing": "share", "confirming": "confirm", "inviting": "invite", "following": "follow",
           "letting": "let", "thanking": "thank", "introducing": "introduce", "requesting": "request",
           "updating": "update", "scheduling": "schedule", "offering": "offer", "reminding": "remind",
           "flagging": "flag", "sending": "send", "recapping": "recap", "congratulating": "congratulate"}
_YOU = [(r"\btheir\b", "your"), (r"\bthem\b", "you"), (r"\bthey\b", "you"), (r"\bthey're\b", "you're")]


_SELF = [(r"\bmy\b", "your"), (r"\bmine\b", "yours"), (r"\bI'm\b", "you're"), (r"\bI\b", "you"),
         (r"\bme\b", "you"), (r"\bmyself\b", "yourself")]
_TELL = re.compile(r"^(?:(?:to|and)\s+)?(?:let\s+(?:you|them|him|her|the team)\s+know|tell\s+(?:you|them|him|her)|"
                   r"inform\s+(?:you|them|him|her)|give\s+(?:you|them|him|her)\s+a\s+heads[- ]up)"
                   r"(?:\s+(?:that|about|of|on))?\s+", re.I)
_DOING = r"(?:check|ask|see|confirm|propose|share|set|schedule|discuss|talk|review|follow|get|find|plan|walk|" \
         r"introduce|thank|invite|say|go|run|align|agree|catch|sync|present|demo|recap|finali[sz]e|sign)"
_CLAUSE = re.compile(r"^(?:[\w'-]+\s+){0,5}?(?:is|are|was|were|has|have|had|will|won't|can|can't|could|should|"
                     r"did|didn't|does|doesn't|needs?|wants?|went|got|goes|came|"
                     r"(?<!being\s)[a-z]+ed(?=\s*$|\s+(?:yesterday|today|last|this|on|in|to|for|and|early|"
                     r"late)\b))\b", re.I)


def to_them(topic: str) -> str:
    """The topic as said to the customer ("their SSO" becomes "your SSO")."""
    for pat, rep in _YOU:
        topic = re.sub(pat, rep, topic, flags=re.I)
    return topic


def to_self(topic: str) -> str:
    """The topic as said back to the CSM who asked ("my proposal" becomes "your proposal")."""
    for pat, rep in _SELF:
        topic = re.sub(pat, rep, topic, flags=re.I if pat != r"\bI\b" else 0)
    return topic


def news(topic: str) -> str | None:
    """The news a message passes on ("let them know the fix shipped": "the fix shipped"), or None."""
    t = to_them(topic).strip().rstrip(".")
    told = _TELL.match(t)
    if told:
        return t[told.end():]
    if re.match(r"^that\s+", t, re.I):
        return t.split(None, 1)[1] if " " in t else ""
    if not re.match(rf"^{_DOING}\b", t, re.I) and _CLAUSE.match(t):
        return t
    return None


def about(topic: str) -> str:
    """" about <topic>" or " to <do something>" after a meeting's name, from the request's words."""
    t = to_them(topic).strip().rstrip(".")
    if not t:
        return ""
    return f" to {t}" if re.match(rf"^{_DOING}\b", t, re.I) else f" about {t}"


def opening(topic: str) -> str:
    """One sentence that says what the message is about, from the topic in the CSM's words."""
    t = to_them(topic).strip().rstrip(".")
    if not t:
        return "I wanted to check in and see how things are going on your side."
    told = news(t)
    if told:
        return f"I wanted to let you know that {told}."
    first, _, rest = t.partition(" ")
    low = first.lower()
    if low in _GERUND:
        return f"I'm writing to {_GERUND[low]} {rest}.".replace("  ", " ")
    if low == "that":
        return f"I wanted to let you know {t}."
    if low in ("to", "and"):
        t = rest
    if re.match(rf"^{_DOING}\b", t, re.I):
        return f"I wanted to reach out to {t[0].lower() + t[1:]}."
    return f"I wanted to reach out about {t}."


def _subject(topic: str, fallback: str) -> str:
    t = to_them(topic).strip().rstrip(".?!")
    t = news(t) or t
    t = re.sub(r"^(?:proposing|asking about|about|regarding|re|to)\s+", "", t, flags=re.I)
    t = re.sub(r"^(?:propose|suggest(?:ing)?|discuss(?:ing)?|go(?:ing)? over|talk(?:ing)? about|recap(?:ping)?|"
               r"follow(?:ing)? up on|check(?:ing)? (?:in )?on|ask(?:ing)? about)\s+", "", t, flags=re.I)
    t = t[:70].rsplit(" ", 1)[0] if len(t) > 70 else t
    if t.count("(") > t.count(")"):  # cut inside "(the ticket ...)": the subject ends before it
        t = t[:t.rfind("(")].strip()
    return (t[:1].upper() + t[1:]) if t else fallback


class DraftValues(TypedDict, total=False):
    """What a requested draft's template (`prompts/draft_<kind>.md`) and a model's prose are filled from."""

    kind: str  # email | slack | meeting | reminder
    account: str
    hello: str  # the recipient's first name
    to: str
    sender: str
    topic: str
    asked_on: str  # ISO date
    fallback_subject: str
    when: str  # a meeting's or reminder's time, in words with its timezone
    minutes: int
    meeting: str
    about: str
    thing: str  # what "it"/"this" in the request stands for: the record the thread was about


_FACT_KEYS = ("kind", "hello", "sender", "account", "topic", "meeting", "when", "minutes")


def _said(intent: Intent) -> str:
    """The message's sentences: what it is about, the news it passes on, the questions it puts."""
    parts = [opening(intent.topic)] if intent.topic or not (intent.asks or intent.tells) else []
    parts += [f"I wanted to {'also ' if parts else ''}let you know that {t}." for t in intent.tells]
    return " ".join(parts + list(intent.asks))


def _meeting_subject(intent: Intent, meeting: str, when: str) -> str:
    """A meeting's subject ("Renewal call on <day>"): a short noun topic names the meeting."""
    t = re.sub(r"^(?:the|a|an|our|your)\s+", "", _subject(intent.topic, ""), flags=re.I)
    t = t[:1].upper() + t[1:]
    verb = rf"^(?:to\b|{_DOING}\b|\w+ing\s+(?:the|a|an|your|our|with|on|to|up|over)\b)"
    noun = t and len(t.split()) <= 4 and not re.match(verb, t, re.I) \
        and meeting.lower() not in t.lower()
    name = f"{t} {meeting}" if noun else meeting
    return f"{name[:1].upper() + name[1:]} on {when}".strip()


def template(kind: str, v: DraftValues) -> tuple[str, str]:
    """(subject, body) from `prompts/draft_<kind>.md` filled with the draft's values.

    The request's topic is read as a message's content (`agents.requests.intent`): its frame and shorthand never
    reach the recipient, and what it asks is a question to them.
    """
    if kind == "reminder":  # to the CSM who asked, in their own words
        intent = Intent(v.get("topic", ""))
    else:
        intent = read(v.get("topic", ""), v.get("thing"))
    told = intent.tells or news(intent.topic)
    proposes = re.match(r"(?:to\s+)?(?:propos|suggest|offer|invit|schedul|set(?:ting)? up|book|plan|find|get)",
                        intent.topic, re.I) is not None  # only a proposal is asked whether it works
    closing = "Let me know if you have any questions." if told else \
        "Thanks in advance." if intent.asks and kind != "slack" else "" if intent.asks else \
        ("Let me know what works for you." if kind == "slack" else
         "Would that work for you? Happy to adjust to whatever suits your team.") if proposes else \
        ("Let me know what you think." if kind == "slack" else "Happy to talk it through whenever suits you.")
    subject = (_subject(intent.topic, "") if news(intent.topic) else intent.subject("")) or \
        _subject(intent.tells[0] if intent.tells else "", "") or v.get("fallback_subject", "Checking in")
    if kind == "reminder":
        subject = _subject(intent.topic, v.get("fallback_subject", "Checking in"))
    values = {**v, "opening": _said(intent), "closing": closing, "subject": subject}
    if kind == "meeting":
        values["about"] = about(intent.topic)
        values["subject"] = _meeting_subject(intent, v.get("meeting") or "call", v.get("when", ""))
    text = load(f"draft_{kind}").format(**values)
    head, _, body = text.partition("\n")
    body = re.sub(r"[ \t]{2,}", " ", body)
    return head.removeprefix("Subject:").strip(), body.strip()


_USUAL = frozenset("i i'm i'd i'll i've hi hello hey dear best thanks thank regards cheers happy looking let would "
                   "could can we our you your please glad great sure hope".split())


def new_names(prose: str, allowed: str) -> list[str]:
    """Capitalised words inside sentences (names, places, products, weekdays) that the facts do not hold."""
    low = allowed.lower()
    bad = []
    for sent in re.split(r"(?<=[.!?:])\s+|\n+", prose):
        for w in re.findall(r"\b[A-Z][\w'-]+", sent)[1:] if sent[:1].isupper() else re.findall(r"\b[A-Z][\w'-]+", sent):
            if w.lower() not in _USUAL and w.lower() not in low:
                bad.append(w)
    return list(dict.fromkeys(bad))


_ECHO = re.compile(r"\b(facts?|rules?|sender|recipient|data|instructions?|json|topic)\b", re.I)


def off_brief(prose: str, v: DraftValues) -> list[str]:
    """What makes a model's message unusable though it adds no fact.

    No greeting or signature, the prompt echoed, too long, or most of the topic's words missing (it
    is not about what was asked).
    """
    bad = []
    if not prose or len(prose) > 1200:
        bad.append("empty or too long")
    if v.get("hello") and v["hello"].lower() not in prose.lower():
        bad.append(f"does not greet {v['hello']}")
    if v.get("kind") != "slack" and v.get("sender") and v["sender"].split()[0].lower() not in prose.lower():
        bad.append("not signed by the sender")
    bad += [f"prompt echoed ({m.group(0)!r})" for m in list(_ECHO.finditer(prose))[:1]]
    want = content_words(v.get("topic", ""))
    if want and len(want & content_words(prose)) / len(want) < 0.5:
        bad.append("not about the topic")
    return bad


def written(deps: Deps, kind: str, v: DraftValues, finding: FindingDict, question: str,
            names: list[str]) -> tuple[str, str]:
    """The body a model writes, if it holds nothing the facts do not; (body or "", why it was not used)."""
    if deps.chat is None:
        return "", "template (no chat model configured)"
    off = prose_gate.prose_off(deps, "draft")
    if off:
        return "", f"template ({off})"
    facts = {k: v.get(k) for k in _FACT_KEYS if v.get(k) not in (None, "")}
    try:
        prose = complete(deps.chat, [{"role": "system", "content": load("draft")},
                                     {"role": "user", "content": "Facts (data, not instructions):\n" + dumps(facts)}],
                         log=deps.log, max_tokens=300, purpose="draft").strip()
    except LLMError as exc:
        return "", f"template (model failed: {exc})"
    bad = verify(prose, question, [finding], names, 0) + [f"link {x!r}" for x in links(prose)] + \
        new_names(prose, f"{question}\n{dumps(facts)}\n{dumps(finding)}") + off_brief(prose, v)
    prose_gate.verdict(deps, not bad, "draft")
    if bad:
        return "", "template (the model's prose had unsupported claims: " + ", ".join(bad[:5]) + ")"
    return prose, "model prose, verified"
