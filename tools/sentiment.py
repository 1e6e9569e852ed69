"""Sentiment of what customers and CSMs write: VADER with a customer-success lexicon, run locally.

VADER (Hutto & Gilbert, 2014) is a rule-based lexicon model: valences for ~7,500 words, with
negation ("not happy"), intensifiers ("very slow"), "but" clauses and punctuation. Out of the box
it reads product-support text poorly ("they are evaluating alternatives after the outage" scores
0.0), so Retain adds the words and phrases CSMs and customers use for an AI product's health:
outages, churn, escalations, timeouts, stalled rollouts, expansions, go-lives. The lexicon was
chosen on the `dev` half of tests/data/sentiment.yaml; the `held` half measures it
(`python -m bench.sentiment`; figures in BENCHMARKS.md).

`score(text)` is VADER's compound in [-1, 1]; `label` cuts it at ±NEUTRAL. `version()` names the
lexicon and VADER release: stored tones (`tools.tones`) are reused only under the same version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import version as _package_version
from typing import TYPE_CHECKING

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

if TYPE_CHECKING:  # numpy is imported when embeddings are used
    import numpy as np

Embed = Callable[[list[str]], "list[np.ndarray]"]
"""Texts to their L2-normalised vectors (the memory's embedding model, through its cache)."""

NEUTRAL = 0.15  # |compound| below this is neutral (chosen on the dev split)
RISK_TOKEN = "zzriskphrase"

# Single words, on VADER's scale (-4 .. +4): the dev split's misses and the usual words of the trade.
WORDS = {
    # incidents and quality
    "outage": -2.6, "outages": -2.6, "downtime": -2.6, "timeouts": -2.0, "timeout": -1.8, "errors": -1.6,
    "error": -1.2, "500": -0.8, "hallucinated": -2.2, "hallucinations": -2.2, "slow": -2.0, "slower": -2.0,
    "latency": -0.6, "diverged": -2.0, "paused": -1.6, "dropped": -1.5,
    # relationship and commercial risk
    "churn": -3.0, "churning": -3.0, "escalated": -2.0, "escalation": -2.0, "alternatives": -1.8,
    "competitor": -1.5, "competitors": -1.5, "competitive": -1.2, "stalled": -2.0, "blocked": -1.8,
    "overdue": -1.6, "missed": -1.6, "cancelled": -2.0, "canceled": -2.0, "questioning": -1.6, "left": -0.8,
    "unhappy": -2.6, "frustrated": -2.4,
    # progress and value
    "renewed": 2.0, "expansion": 2.0, "expand": 1.8, "upsell": 1.8, "launch": 1.2, "launched": 1.6,
    "reliable": 2.0, "adoption": 1.0, "growing": 1.6, "momentum": 1.8, "delighted": 3.0, "smoothly": 1.8,
    "fan": 1.8, "promoter": 2.0, "promoters": 2.0, "detractor": -2.0, "detractors": -2.0,
    # roles and product words that VADER reads as feelings: a champion, the support team, a share
    "champion": 0.0, "champions": 0.0, "support": 0.0, "please": 0.0, "share": 0.0, "shared": 0.0,
    "free": 0.0, "credits": 0.0, "po": 0.0,  # a purchase order, not "pissed off"
    # A placeholder callers put where they matched a risk phrase (tools/risk_signals), so VADER's
    # negation and "but" rules weigh the words around it: "not <risk>" reads positive, "<risk>, but
    # great news for us" too, "nice people, but <risk>" negative. It never occurs in real text.
    RISK_TOKEN: -2.0,
}
# Phrases (matched case-insensitively before VADER reads the text); each becomes one scored token.
PHRASES = {
    r"no (?:reply|response|answer)\b": -2.4, r"went (?:quiet|silent)": -2.4, r"on hold": -1.8,
    r"budget cuts?": -2.2, r"drop (?:half|\d+%?) (?:of )?(?:the )?seats": -2.4, r"(?:is|are|was) down\b": -2.6,
    r"losing patience": -2.6, r"not usable": -2.8, r"too (?:slow|expensive)": -2.4, r"risk of churn": -3.0,
    r"nobody (?:owns|warned)": -2.2, r"left the company|(?:is|are) leaving the company": -2.4,
    r"case study": 2.0, r"reference customer": 2.4, r"ahead of plan": 2.0,
    r"signed off": 1.6, r"go-live|went live": 1.4, r"early access": 1.4,
    r"(?:cost|handle time)(?: per request)? (?:dropped|down)": 2.0,
}
_PHRASES = [(re.compile(p, re.I), f"zzcs{i}") for i, p in enumerate(PHRASES)]


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    a = SentimentIntensityAnalyzer()
    a.lexicon.update(WORDS)
    a.lexicon.update({tok: PHRASES[p.pattern] for p, tok in _PHRASES})
    return a


SCORING = "1"  # bump when `score` computes differently from the same lexicon


@lru_cache(maxsize=1)
def version() -> str:
    """A digest of the lexicon, the phrases, VADER's release and `SCORING`: what a stored tone was made with."""
    made_with = json.dumps([SCORING, _package_version("vaderSentiment"), WORDS, PHRASES], sort_keys=True)
    return hashlib.sha1(made_with.encode()).hexdigest()


@lru_cache(maxsize=500_000)
def score(text: str) -> float:
    """Sentiment from -1 (negative) to 1 (positive); 0 for empty text. Memoised (notes are rescored often)."""
    if not text or not text.strip():
        return 0.0
    for pattern, token in _PHRASES:
        text = pattern.sub(f" {token} ", text)
    return float(_analyzer().polarity_scores(text)["compound"])


def label(text: str) -> str:
    """pos, neu or neg."""
    s = score(text)
    return "pos" if s >= NEUTRAL else "neg" if s <= -NEUTRAL else "neu"



@lru_cache(maxsize=1)
def aspect_examples() -> dict[str, list[str]]:
    """configs/aspects.yaml: labelled examples per aspect, and "other"."""
    import yaml

    from configs import CONFIG_DIR

    return {k: list(v) for k, v in (yaml.safe_load((CONFIG_DIR / "aspects.yaml").read_text()) or {}).items()}


def aspects(texts: list[str], embed: Embed) -> list[str | None]:
    """Per text, what it is about (latency, outages, support, pricing, quality), or None.

    Nearest centroid on the embedding (`nearest`) over configs/aspects.yaml's examples, unless
    "other" is nearer. Measured on tests/data/aspects.yaml.
    """
    return [name for name, _ in nearest(texts, embed, aspect_examples())]


def nearest(texts: list[str], embed: Embed, examples: dict[str, list[str]],
            other: str = "other") -> list[tuple[str | None, float]]:
    """Per text, the label whose examples' centroid is nearest its embedding, and its margin over `other`.

    `embed` maps texts to L2-normalised vectors (the memory's model and cache). Each label's examples
    are averaged into a centroid; a text nearest `other` gets (None, 0.0). The margin (cosine of the
    best label minus cosine of `other`) lets a caller ask for a clear win.
    """
    import numpy as np

    if not texts:
        return []
    names = list(examples)
    cents = []
    for name in names:
        v = np.asarray(embed(examples[name]), dtype=np.float32).mean(axis=0)
        cents.append(v / (np.linalg.norm(v) or 1.0))
    sims = np.asarray(embed(list(texts)), dtype=np.float32) @ np.asarray(cents).T
    base = sims[:, names.index(other)] if other in names else np.zeros(len(texts))
    out: list[tuple[str | None, float]] = []
    for row, b in zip(sims, base, strict=True):
        best = names[int(row.argmax())]
        out.append((None, 0.0) if best == other else (best, float(row.max() - b)))
    return out
