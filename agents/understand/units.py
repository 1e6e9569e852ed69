"""Numbers said with units, in the units the stored fields hold: "1.5s" is 1,500 ms, "2%" is 0.02, "$10k" is 10,000.

A bound on a usage measure ("averaging p95 latency over 1.5s", "error rate above 2%", "spend over $10k") is a
bound on each account's aggregate over the window; `bound` reads it for the measure's telemetry field, and
`shown` says it back in the field's own unit.
"""

from __future__ import annotations

import re

from agents.understand.phrases import _LESS, _MORE
from agents.understand.slots import _op
from tools.query import Filter

_LATENCY = re.compile(r"\b(?:p\d{2}|latenc\w*|response times?|slow\w*)\b", re.I)
_SECONDS = re.compile(r"(?<![\w.$])(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b", re.I)
_AMOUNT = r"(\$?\s*\d[\d,]*(?:\.\d+)?|\.\d+)(?!\d|\.\d)(?:\s*(k|m|thousand|million)(?![a-z]))?" \
          r"\s*(ms|milliseconds?|%|percent)?(?![a-z])"
_BOUND = re.compile(rf"\b({_MORE}|{_LESS})\s*(?:an? )?(?:average (?:of )?)?{_AMOUNT}"
                    r"(?!\s*(?:days?|weeks?|months?|quarters?|years?|accounts?|customers?|clients?|tickets?|seats?|"
                    r"users?)\b)")
_TIMES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}


def seconds_as_ms(text: str, latency: bool = False) -> str:
    """A latency said in seconds, in milliseconds as telemetry holds it ("p95 over 1.5s": "p95 over 1500 ms").

    Only in a message about latency (or `latency`: a follow-up on a latency list, "just the ones above 1.6s").
    """
    if not latency and not _LATENCY.search(text):
        return text
    return _SECONDS.sub(lambda m: f"{float(m.group(1)) * 1000:g} ms", text)


def _near(low: str, m: re.Match[str], words: str) -> bool:
    """Whether a bound is said of the measure, not of another field.

    After its words ("p95 latency over 1.5s", "spend last month above $10k") or right before them ("more than 50m
    tokens", "over $10k in spend").
    """
    return any(0 <= m.start() - w.end() <= 40 and not re.search(r"\b(?:and|or|but|with|while)\b",
                                                               low[w.end():m.start()])
               for w in re.finditer(words, low)) or \
        bool(re.match(rf"\s*(?:(?:in|of|worth of)\s+)?(?:{words})", low[m.end():]))


def bound(low: str, field: str, words: str, near: bool = True) -> Filter | None:
    """The bound the message states on a measure named by `words` ("over 1500 ms", "above 2%", "over $10k").

    An error rate is a ratio: "2%" and a bare 2 are 0.02 (a bare number under 0.1 is taken as the ratio itself).
    A number followed by a span of time or a count of things ("over 30 days", "more than 3 accounts") is no bound.
    """
    for m in _BOUND.finditer(low):
        if re.search(r"\bby\s*$", low[:m.start()]) or near and not _near(low, m, words):
            continue  # "up by more than 20%" is a change, not a bound; "health under 50" is another field's
        try:
            v = float(m.group(2).replace("$", "").replace(",", "").strip())
        except ValueError:
            continue
        v *= _TIMES.get(m.group(3) or "", 1.0)
        if field == "error_rate" and (m.group(4) in ("%", "percent") or v >= 0.1):
            v /= 100
        return Filter(field=field, op=_op(m.group(1)), value=v)  # type: ignore[arg-type]
    return None


def shown(field: str, kind: str, value: float) -> str:
    """A bound's value in its field's unit: "1,500 ms (1.5 s)", "2%", "$10,000", "1,000,000"."""
    if field.endswith("_ms"):
        return f"{value:,.0f} ms" + (f" ({value / 1000:g} s)" if value >= 1000 else "")
    if kind == "ratio":
        return f"{value * 100:g}%"
    if kind == "money":
        return f"${value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
