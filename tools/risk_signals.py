"""Qualitative risk in what people wrote: a competitor, budget cuts, a reorg, a quiet champion, a review, a cancel.

The CRM's text records (notes and other activities, tickets, survey comments) are read sentence by
sentence against the lexicon in configs/risk_signals.yaml. A pattern's match counts unless a word
just before it in the same clause negates it ("we are not evaluating alternatives"), the sentence says
the matter is settled ("the budget was approved"), or the sentiment model (tools/sentiment), reading the
match as a negative phrase, finds the sentence positive all the same ("..., good news for us").
With the embedding model, a negative sentence no pattern caught counts too when its nearest labelled
examples are a signal kind's by a clear margin (`sentiment.nearest`, as the aspect tags).

A signal stands **unanswered** until a CSM logs a conversation with the account after the signal's
day (a meeting, call or email, configurable as `answer_kinds`, whose author is a CSM in Retain) that
raises no risk signal itself. Only the last `window_days` (60) count: older signals are history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal, TypedDict

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator
from sqlalchemy import func, select

from configs import CONFIG_DIR
from core.errors import ConfigError
from integrations.crm.models import CSM, Activity, SurveyResponse, Ticket
from integrations.crm.store import CRMStore
from tools import access, sentiment
from tools.context import ToolContext

Embed = sentiment.Embed
LEXICON_FILE = CONFIG_DIR / "risk_signals.yaml"
EMBED_MARGIN = 0.2  # how much nearer a signal kind's examples must be than none_examples (chosen on dev)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ValueError(f"bad pattern {pattern!r}: {exc}") from None


@dataclass(frozen=True)
class _Compiled:
    kinds: dict[str, list[re.Pattern[str]]]
    competitors: re.Pattern[str] | None
    context: re.Pattern[str]
    negation: re.Pattern[str]
    resolved: re.Pattern[str]
    reassuring: re.Pattern[str] | None


class Kind(BaseModel):
    """One kind of signal: how it is named in answers, its patterns and labelled examples."""

    label: str
    patterns: list[str] = Field(min_length=1)
    examples: list[str] = []

    @field_validator("patterns")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        for p in v:
            _compile(p)
        return v


class Lexicon(BaseModel):
    """configs/risk_signals.yaml, validated."""

    window_days: int = Field(60, gt=0)
    answer_kinds: list[str] = ["meeting", "call", "email"]
    competitors: list[str] = []
    competitor_context: str
    negation: str
    resolved: str
    reassuring: list[str] = []
    kinds: dict[str, Kind] = Field(min_length=1)
    none_examples: list[str] = []
    _compiled: _Compiled | None = PrivateAttr(None)

    @field_validator("competitor_context", "negation", "resolved")
    @classmethod
    def _valid(cls, v: str) -> str:
        _compile(v)
        return v

    def compiled(self) -> _Compiled:
        """The patterns, compiled on first use."""
        if self._compiled is None:
            names = "|".join(re.escape(n) for n in self.competitors)
            calm = "|".join(re.escape(p) for p in self.reassuring)
            self._compiled = _Compiled(
                kinds={k: [_compile(p) for p in v.patterns] for k, v in self.kinds.items()},
                competitors=_compile(rf"\b({names})\b") if names else None,
                context=_compile(self.competitor_context), negation=_compile(self.negation),
                resolved=_compile(self.resolved), reassuring=_compile(rf"\b({calm})\b") if calm else None)
        return self._compiled


def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    """Read and validate a risk lexicon (one clear error when it is missing or wrong)."""
    try:
        return _load(path, path.stat().st_mtime)
    except FileNotFoundError:
        raise ConfigError(f"Risk lexicon {path} does not exist; restore configs/risk_signals.yaml.") from None


@cache
def _load(path: Path, _mtime: float) -> Lexicon:
    try:
        return Lexicon.model_validate(yaml.safe_load(path.read_text()))
    except (ValidationError, yaml.YAMLError) as exc:
        first = " ".join(str(exc).splitlines()[:3])
        raise ConfigError(f"Risk lexicon {path} is invalid: {first}") from None


@dataclass(frozen=True)
class Hit:
    """A signal found in one sentence: its kind, the sentence, the words that matched, and how it was found."""

    kind: str
    sentence: str
    phrase: str
    method: Literal["lexicon", "embedding"]


_SENT = re.compile(r"(?<=[.!?])[\s'\"\u2019\u201d]+(?=[A-Z0-9'\"\u2018\u201c])|\n+")
_CLAUSE = re.compile(r"[,;:()\u2014]|\s-\s|\b(and|but|while|because|although|though|so|yet)\b", re.I)


_PENDING = re.compile(r"\b(?:until|till|unless|once|as soon as|pending|if|when|before)\b[^,;]*", re.I)
"""A condition still to be met: its words ("until the review is done") settle nothing yet."""


def sentences(text: str) -> list[str]:
    """A text's sentences (a note's lines and full stops), stripped, with typographic apostrophes made plain."""
    text = (text or "").replace("\u2019", "'").replace("\u2018", "'")
    return [s.strip(" '\"\t") for s in _SENT.split(text) if s and s.strip(" '\"\t")]


def _negated(c: _Compiled, sentence: str, start: int) -> bool:
    """Whether the words just before a match, in its clause, negate it."""
    before = sentence[:start]
    cut = [m.end() for m in _CLAUSE.finditer(before)]
    clause = before[cut[-1]:] if cut else before
    return bool(c.negation.search(" ".join(clause.split()[-6:])))


def _stands(c: _Compiled, sentence: str, m: re.Match[str]) -> bool:
    """Whether a match is a risk as written: not negated just before, and not outweighed by praise.

    The matched words become a negative placeholder for the sentiment model, so its negation and
    "but" rules judge the words around them ("nice people, but <risk>" stands; "<risk>, good news
    for us" does not).
    """
    if _negated(c, sentence, m.start()):
        return False
    masked = f"{sentence[:m.start()]} {sentiment.RISK_TOKEN} {sentence[m.end():]}"
    return sentiment.score(masked) < sentiment.NEUTRAL


def _lexical(c: _Compiled, sentence: str) -> list[tuple[str, str]]:
    """(kind, matched words) of every kind whose pattern matches the sentence and stands."""
    found: list[tuple[str, str]] = []
    for kind, patterns in c.kinds.items():
        for p in patterns:
            m = next((m for m in p.finditer(sentence) if _stands(c, sentence, m)), None)
            if m is not None:
                found.append((kind, m.group(0)))
                break
    if c.competitors is not None and "competitor" in c.kinds and not any(k == "competitor" for k, _ in found):
        m = c.competitors.search(sentence)
        if m and c.context.search(sentence) and _stands(c, sentence, m):
            found.append(("competitor", m.group(0)))
    return found


def detect(texts: list[str], lexicon: Lexicon | None = None, embed: Embed | None = None) -> list[list[Hit]]:
    """Per text, the risk signals its sentences carry (at most one hit per kind and sentence).

    A lexicon match is dropped when it is negated, resolved or outweighed by praise (`_stands`). With
    `embed` (the memory's model), a negative sentence without a match or a negating word is tagged by
    its nearest labelled examples when a signal kind wins over `none_examples` by EMBED_MARGIN.
    """
    lex = lexicon or load_lexicon()
    c = lex.compiled()
    out: list[list[Hit]] = [[] for _ in texts]
    misses: list[tuple[int, str]] = []
    for i, text in enumerate(texts):
        for sent in sentences(text):
            if c.resolved.search(_PENDING.sub(" ", sent)):  # "on hold until the review is done" is not done
                continue
            found = _lexical(c, sent)
            out[i] += [Hit(kind, sent, phrase, "lexicon") for kind, phrase in found]
            # Embeddings do not read negation ("no plans to cut the budget" sits by "budget was cut"):
            # only plainly negative sentences with no negating word go to the nearest examples.
            if not found and sentiment.score(sent) <= -sentiment.NEUTRAL and not c.negation.search(sent):
                misses.append((i, sent))
    if embed is not None and misses:
        examples = {k: v.examples for k, v in lex.kinds.items() if v.examples}
        if examples and lex.none_examples:
            tags = sentiment.nearest([s for _, s in misses], embed, {**examples, "none": lex.none_examples},
                                     other="none")
            for (i, sent), (kind, margin) in zip(misses, tags, strict=True):
                if kind is not None and margin >= EMBED_MARGIN:
                    out[i].append(Hit(kind, sent, "", "embedding"))
    return out


def reassuring(text: str, lexicon: Lexicon | None = None) -> str | None:
    """The first reassuring verdict in a text ("on track", "no risk"...), or None."""
    c = (lexicon or load_lexicon()).compiled()
    m = c.reassuring.search(text) if c.reassuring is not None else None
    return m.group(0) if m else None


class RecordRef(TypedDict):
    """A record an answer cites: what it is, its id and day, and a short label."""

    type: str
    id: str
    date: str
    label: str


class RiskSignal(TypedDict):
    """One signal with the record it came from, and whether a CSM has answered it since."""

    kind: str
    label: str
    date: str
    quote: str
    phrase: str
    method: str
    source: RecordRef
    unanswered: bool
    answered_by: RecordRef | None
    earlier: int  # older records in the window carrying the same kind


@dataclass(frozen=True)
class _Record:
    ref: RecordRef
    day: date
    text: str
    kind: str  # the activity's kind (meeting, call, email, note), "ticket" or "survey"
    by_csm: bool


def _records(store: CRMStore, account_id: int, since: date, as_of: date) -> list[_Record]:
    """The account's notes, tickets and survey comments from `since` (exclusive) to `as_of`, oldest first."""
    out: list[_Record] = []
    with store.session() as s:
        csms = {x.casefold() for row in s.execute(select(CSM.name, CSM.email)) for x in row if x}
        for a in s.scalars(select(Activity).where(Activity.account_id == account_id, Activity.occurred_on > since,
                                                  Activity.occurred_on <= as_of)):
            out.append(_Record({"type": "activity", "id": str(a.id), "date": a.occurred_on.isoformat(),
                                "label": a.subject}, a.occurred_on, a.body or "", a.kind,
                               (a.author or "").strip().casefold() in csms))
        end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
        for t in s.scalars(select(Ticket).where(Ticket.account_id == account_id,
                                                Ticket.opened_at >= datetime.combine(since + timedelta(days=1),
                                                                                     datetime.min.time()),
                                                Ticket.opened_at < end)):
            day = t.opened_at.date()
            out.append(_Record({"type": "ticket", "id": str(t.id), "date": day.isoformat(), "label": t.subject},
                               day, f"{t.subject}. {t.body or ''}", "ticket", False))
        for r in s.scalars(select(SurveyResponse).where(
                SurveyResponse.account_id == account_id, SurveyResponse.responded_on > since,
                SurveyResponse.responded_on <= as_of, func.length(SurveyResponse.comment) > 0)):
            out.append(_Record({"type": r.kind, "id": str(r.id), "date": r.responded_on.isoformat(),
                                "label": f"{r.kind.upper()} {r.score}"}, r.responded_on, r.comment or "", "survey",
                               False))
    return sorted(out, key=lambda r: (r.day, r.ref["type"], int(r.ref["id"])))


def account_signals(store: CRMStore, account_id: int, as_of: date, lexicon: Lexicon | None = None,
                    embed: Embed | None = None, since: date | None = None) -> list[RiskSignal]:
    """An account's risk signals after `since` (default: `window_days` ago) to `as_of`, latest per kind first.

    No access check: callers in tools check it (`risk_signals`); this is the detector over one account.
    """
    lex = lexicon or load_lexicon()
    records = _records(store, account_id, as_of - timedelta(days=lex.window_days) if since is None else since, as_of)
    hits = detect([r.text for r in records], lex, embed)
    answers = [r for r, h in zip(records, hits, strict=True)
               if r.by_csm and r.kind in lex.answer_kinds and not h]
    latest: dict[str, tuple[_Record, Hit]] = {}
    count: dict[str, int] = {}
    for rec, found in zip(records, hits, strict=True):
        for hit in found:
            if hit.kind in latest and latest[hit.kind][0] is rec:
                continue
            latest[hit.kind] = (rec, hit)
            count[hit.kind] = count.get(hit.kind, 0) + 1
    out: list[RiskSignal] = []
    for kind, (rec, hit) in latest.items():
        answer = next((a for a in answers if a.day > rec.day), None)
        out.append({"kind": kind, "label": lex.kinds[kind].label, "date": rec.day.isoformat(),
                    "quote": hit.sentence, "phrase": hit.phrase, "method": hit.method, "source": rec.ref,
                    "unanswered": answer is None, "answered_by": answer.ref if answer else None,
                    "earlier": count[kind] - 1})
    order = list(lex.kinds)
    return sorted(out, key=lambda s: (s["date"], -order.index(s["kind"])), reverse=True)


class RiskSignals(TypedDict):
    """`risk_signals`: an account's signals of the window, newest first, and those no CSM has answered."""

    account_id: int
    window_days: int
    signals: list[RiskSignal]
    unanswered: list[RiskSignal]
    sources: list[RecordRef]


def risk_signals(ctx: ToolContext, account_id: int, embed: Embed | None = None) -> RiskSignals:
    """Qualitative risk in an account's notes, tickets and survey comments of the last 60 days, each cited.

    Per kind (competitor or another vendor's pilot, budget cuts, reorg or layoffs, a disengaged champion,
    a procurement or security review, a request to cancel or downgrade) the latest record carrying it,
    the sentence quoted, and whether a CSM has answered it since.
    """
    access.check(ctx.store, ctx.viewer, account_id, "That account")
    lex = load_lexicon()
    signals = account_signals(ctx.store, account_id, ctx.as_of, lex, embed)
    return {"account_id": account_id, "window_days": lex.window_days, "signals": signals,
            "unanswered": [s for s in signals if s["unanswered"]],
            "sources": [s["source"] for s in signals]}


class AccountSignals(TypedDict):
    """One account's risk signals in a window (`book_signals`)."""

    account_id: int
    signals: list[RiskSignal]


def book_signals(ctx: ToolContext, account_ids: list[int], start: date, end: date,
                 embed: Embed | None = None) -> list[AccountSignals]:
    """Risk signals in the notes, tickets and survey comments of these accounts dated `start` to `end`.

    One entry per account the viewer may see that carries a signal in the window: its id and its
    signals (as `account_signals`), accounts with the newest signal first. Each account is checked for
    access; one the viewer may not see is left out, never read.
    """
    lex = load_lexicon()
    out: list[AccountSignals] = []
    for aid in account_ids:
        if not access.can_see(ctx.store, ctx.viewer, aid):
            continue
        found = account_signals(ctx.store, aid, min(end, ctx.as_of), lex, embed, since=start - timedelta(days=1))
        if found:
            out.append({"account_id": aid, "signals": found})
    return sorted(out, key=lambda a: a["signals"][0]["date"], reverse=True)


__all__ = ["Hit", "Lexicon", "RiskSignal", "RiskSignals", "account_signals", "detect", "load_lexicon", "reassuring",
           "risk_signals", "sentences", "book_signals"]
