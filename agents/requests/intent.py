"""What a requested message says, read from the CSM's instruction: its topic, what it asks and what it tells.

The CSM writes an instruction ("slack msg to their it admin re the okta cert rotation, ask if their security
review is done"); the customer must read a message, never the instruction. `read` takes the topic the request
parser left (the recipient and the time already cut) and splits it into typed parts: the topic as a noun phrase
("the Okta certificate rotation"), the questions to put to the recipient ("Could you let me know whether your
security review is done?") and the news to pass on. Shorthand (msg, w/, re, pls, cert...) is written out,
"their" becomes "your", and "it"/"this"/"that" is replaced by the record the thread was about, or dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.state import Dialogue, RowRef

# Shorthand a CSM types that a customer must never read raw (lower-case forms; the replacement as written).
_SHORT = {"msg": "message", "msgs": "messages", "w/": "with", "w/o": "without", "re:": "about", "pls": "please",
          "plz": "please", "thx": "thanks", "tx": "thanks", "qbr": "QBR", "ebr": "EBR", "cert": "certificate",
          "certs": "certificates", "mtg": "meeting", "mtgs": "meetings", "asap": "as soon as possible",
          "abt": "about", "convo": "conversation", "eod": "end of day", "eow": "end of the week", "sso": "SSO",
          "ur": "your", "u": "you", "b/c": "because", "bc": "because", "info": "information", "reqs": "requirements",
          "req": "request", "approx": "approximately", "acct": "account", "accts": "accounts", "sec": "security",
          "tmrw": "tomorrow", "tmr": "tomorrow", "wrt": "regarding", "fyi": "for your information", "ft": "fine-tune",
          "thru": "through", "q1": "Q1", "q2": "Q2", "q3": "Q3", "q4": "Q4"}
_SHORT_RE = re.compile(r"(?<![\w/])(" + "|".join(re.escape(k) for k in sorted(_SHORT, key=len, reverse=True))
                       + r")(?![\w/])", re.I)
# The frame of the instruction that may still lead the topic: the medium and "to/with <someone>".
_FRAME = re.compile(r"^(?:(?:a|an|the|short|quick|brief|slack|e-?mail)\s+)*(?:message|msg|note|email|e-mail|dm|line|"
                    r"slack)\b\s*|^(?:to|with|w/?)\s+(?:them|him|her|the team)\b\s*|^(?:re:?|about|regarding|on|"
                    r"saying|that says|to say)\s+", re.I)
_WHO = r"(?:(?:them|him|her|the team|the customer)\s+)?"
# A directive clause: what the message should ask or tell ("ask if…", "ask them to…", "let them know…").
_DIRECTIVE = re.compile(
    r"(?:^|\s*[,;]\s*|\s+(?:and|&|\+)\s+|\s*[.]\s+)(?:(?:and|also|then|&)\s+)*(?:please\s+)?"
    r"(?P<verb>ask(?:ing)?\s+" + _WHO + r"(?:if|whether|when|how|what|about|to)|"
    r"(?:check|see|find\s+out|confirm)(?:ing)?\s+" + _WHO + r"(?:if|whether|when|how|what)|"
    r"(?:tell|telling|inform|informing)\s+" + _WHO + r"(?:that\s+|about\s+)?|"
    r"(?:let|letting)\s+" + _WHO + r"know(?:\s+(?:that|about))?|"
    r"(?:remind|reminding)\s+" + _WHO + r"(?:that|about|to)|"
    r"to\s+(?:tell|inform)\s+" + _WHO + r"(?:that\s+)?|saying)\b\s*", re.I)
_PRONOUN = re.compile(r"\b(?:it|this|that)\b(?!\s+(?:is|was|has|had|will|would|should|can|could|needs?|we|you|they|"
                      r"the|a|an|your|our|their)\b)", re.I)
_YOU = [(r"\bthey're\b", "you're"), (r"\b(?:their|his)\b", "your"), (r"\b(?:them|him)\b", "you"),
        (r"\b(?:they|he|she)\b", "you"), (r"\b(?:he's|she's)\b", "you're"), (r"\btheirs\b", "yours"),
        (r"\bher\s+(?=(?:team|company|side|security|review|contract|renewal|plan|[a-z]+\s+(?:team|review)))", "your "),
        (r"\bher\b", "you"), (r"\byou is\b", "you are"), (r"\byou was\b", "you were"), (r"\byou has\b", "you have"),
        (r"\byou does\b", "you do"), (r"\byou's\b", "you're")]


@dataclass(frozen=True)
class Intent:
    """A message's content, as the recipient reads it."""

    topic: str = ""  # a noun or -ing phrase ("the Okta certificate rotation"), "" when the message only asks
    asks: tuple[str, ...] = ()  # whole questions to the recipient
    tells: tuple[str, ...] = ()  # news to pass on, as clauses ("the fix shipped")
    matter: str = ""  # what the first question is about ("the procurement review"), for a subject line

    def subject(self, fallback: str) -> str:
        """A short subject line: the topic without its article, or the first question's matter."""
        t = re.sub(r"^(?:the|a|an|our|your|some)\s+", "", self.topic, flags=re.I)
        if not t and self.tells:
            t = self.tells[0]
        if not t and self.matter:
            t = re.sub(r"^(?:the|a|an|our|your|some)\s+", "", self.matter, flags=re.I)
        t = t[:60].rsplit(" ", 1)[0] if len(t) > 60 else t
        return (t[:1].upper() + t[1:]) if t else fallback


def expand(text: str) -> str:
    """Shorthand written out ("msg" is "message", "w/" is "with", "qbr" is "QBR")."""
    return _SHORT_RE.sub(lambda m: _SHORT[m.group(1).lower()], text)


def to_you(text: str) -> str:
    """Said to the recipient: "their"/"his" is "your", "they"/"him" is "you" (and the verb agrees)."""
    for pat, rep in _YOU:
        text = re.sub(pat, rep, text, flags=re.I)
    return text


def _question(verb: str, rest: str) -> str:
    rest = to_you(rest).strip(" ,.;?!")
    v = verb.lower().split()[0]
    last = verb.lower().split()[-1]
    if v in ("ask", "asking") and last == "to":
        return f"Could you {rest}?"
    if v in ("ask", "asking") and last == "about":
        return f"Could you give me an update on {rest}?"
    if v in ("confirm", "confirming"):
        return f"Could you confirm {'whether ' if last in ('if', 'whether') else last + ' '}{rest}?"
    word = "whether" if last in ("if", "whether") else last
    return f"Could you let me know {word} {rest}?"


def _news(verb: str, rest: str) -> tuple[str, ...]:
    rest = to_you(rest).strip(" ,.;?!")
    if verb.lower().startswith("remind") and verb.lower().split()[-1] == "to":
        return (f"as a reminder, please {rest}",)
    return (rest,) if rest else ()


def _resolve(topic: str, thing: str | None) -> str:
    """'it'/'this'/'that' as the record the thread was about.

    Kept when the thread names none: it may point back within the request ("the fix is out, can we go over it").
    """
    return _PRONOUN.sub(thing, topic, count=1) if thing else topic


def read(topic: str, thing: str | None = None) -> Intent:
    """A message's content from the topic of a request (the recipient and time already cut)."""
    t = expand(re.sub(r"\s+", " ", topic)).strip(" ,.;:-")
    for _ in range(4):
        cut = _FRAME.sub("", t).strip(" ,.;:-")
        if cut == t:
            break
        t = cut
    asks: list[str] = []
    tells: list[str] = []
    hits = list(_DIRECTIVE.finditer(t))
    head = t[:hits[0].start()] if hits else t
    for k, m in enumerate(hits):
        rest = t[m.end():hits[k + 1].start() if k + 1 < len(hits) else len(t)]
        verb = m.group("verb")
        if re.match(r"(?:ask|check|see|find|confirm)", verb, re.I):
            if rest.strip():
                asks.append(_question(verb, _resolve(rest, thing)))
        else:
            tells += _news(verb, _resolve(rest, thing))
    head = to_you(_resolve(head.strip(" ,.;:-"), thing))
    head = re.sub(r"[\s,.;:-]+(?:thanks|thank you|please|cheers)[\s.!]*$", "", head, flags=re.I)
    if re.match(r"^(?:if|whether)\s+\S", head, re.I):  # "asking whether the review is done" (the frame cut)
        asks.insert(0, _question("ask if", head.split(None, 1)[1]))
        head = ""
    if re.match(r"^that\s+\S", head, re.I):  # "that the patch is live": news, not a topic
        tells.insert(0, head.split(None, 1)[1])
        head = ""
    said = re.search(r"(?:whether|if|when|how)\s+((?:the|your|our)\s+[\w\s/-]{1,40}?)\s+(?:is|are|has|have|was|were|"
                     r"will|can|could)\b", " ".join(asks), re.I)
    return Intent(head, tuple(asks), tuple(tells), said.group(1) if said else "")


_ACTS_ON = [("fine_tunes", re.compile(r"\b(?:re-?run|retry|restart|relaunch|resubmit|retrain|re-?try)\w*", re.I)),
            ("tickets", re.compile(r"\b(?:clos|escalat|reopen|resolv)\w*", re.I))]
_MONTHS = "January February March April May June July August September October November December".split()


def _called(entity: str, row: RowRef) -> str | None:
    label, day = row.get("label") or "", row.get("date") or ""
    if entity == "fine_tunes":
        month = f"{_MONTHS[int(day[5:7]) - 1]} " if len(day) >= 7 and day[5:7].isdigit() else ""
        return f"the {month}fine-tune job ({label})" if label else f"the {month}fine-tune job"
    if entity == "tickets":
        return f"the ticket \u201c{label}\u201d" if label else None
    if entity in ("accounts", None) or not label:
        return None
    return f"the {label}"


def thread_thing(dialogue: Dialogue | None, topic: str) -> str | None:
    """The record the thread was last about, as a message names it, for "it"/"this" in a request's topic.

    A verb that acts on a kind of record ("rerun it": a fine-tune job) looks back through the thread for one such
    record (a failed one when the list held several); otherwise only an answer about one record names it.
    """
    if not _PRONOUN.search(topic):
        return None
    want = next((e for e, pat in _ACTS_ON if pat.search(topic)), None)
    chain: list[Dialogue] = []
    d = dialogue
    while d and len(chain) < 4:
        chain.append(d)
        d = d.get("base")
    for d in chain:
        rows, entity = d.get("rows") or [], d.get("entity")
        if want and entity == want:
            failed = [r for r in rows if str((r.get("values") or {}).get("status", "")).lower() == "failed"]
            one = rows if len(rows) == 1 else failed if len(failed) == 1 else []
            if one:
                return _called(want, one[0])
        elif not want and len(rows) == 1 and entity:
            return _called(entity, rows[0])
        if not want:
            break
    return None
