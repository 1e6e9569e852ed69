"""When a chat model may be asked at all: never where it cannot help.

Three gates, all in code:
- **Sure**: the deterministic understanding matched the message as a typed query (a lookup, a list, a
  count or a metric), applied every constraint phrase and left no word of substance unexplained. The
  answer is then the data as code rendered it; prose would only restate it, so no model is asked.
- **Prose off** (`agents.prose_gate`): the verifier rejected nearly all of the configured model's
  recent prose, so answers go out as the verified findings, and say so.
- **Needs extraction** (`extraction_skip`): the needs agent's model call is made only when its items could
  change the profile an answer shows (a sentence of the records the rules left out, a field with room)
  and the model's recent extractions were not nearly all rejected by the quote check; the finding says
  which gate held.
"""

from __future__ import annotations

import re
import types

from agents import prose_gate, router, understand
from agents.composer import content_words
from agents.state import Deps, Route
from integrations.llm import dumps

SHAPES = ("lookup", "list", "aggregate", "metric", "compare", "today")
# Words that ask rather than say what: they need no reading of their own.
_ASKING = content_words("""list show give tell many much number count total top bottom biggest largest smallest
highest lowest most least best worst recent latest oldest newest first second third order sort sorted rank ranked
please know need want see look find get pull anything everything something anyone everyone someone who whose
whom currently right now today rate average sum kind sort type per each every across""")


def _known() -> set[str]:
    """Every word the deterministic reader has a rule for: the words in its phrase tables and patterns."""
    if not _KNOWN:
        texts: list[str] = []
        for mod in (router, *[getattr(understand, n) for n in dir(understand)
                              if isinstance(getattr(understand, n), types.ModuleType)]):
            for value in vars(mod).values():
                texts += _strings(value)
        _KNOWN.update(content_words(re.sub(r"\\[a-z]", " ", " ".join(texts).lower())))
    return _KNOWN


def _strings(value: object, depth: int = 0) -> list[str]:
    if isinstance(value, re.Pattern):
        return [str(value.pattern)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and depth < 3:
        return [t for k, v in value.items() for t in _strings(k, depth + 1) + _strings(v, depth + 1)]
    if isinstance(value, list | tuple | set | frozenset) and depth < 3:
        return [t for v in value for t in _strings(v, depth + 1)]
    return []


_KNOWN: set[str] = set()


def unmatched(question: str, route: Route) -> list[str]:
    """Content words of the message nothing accounts for.

    Neither its reading (plan, accounts, reading line) nor any of the deterministic reader's phrase tables
    and patterns holds them.
    """
    explained = [route.get("reading", ""), route.get("picked", "")]
    explained += [a["name"] for a in route.get("accounts") or []]
    for p in route.get("plans") or []:
        explained += [str(p.get("title", "")), str(p.get("what", "")), str(p.get("metric") or ""),
                      dumps(p.get("query") or {}).replace("_", " "), " ".join(p.get("period") or [])]
    seen = content_words(" ".join(explained)) | _ASKING | _known()
    words = content_words(re.sub(r"[\u2019']s\b", "", question))
    return sorted(w for w in words if w not in seen and not w.isdigit())


def sure(question: str, route: Route) -> str:
    """Why the deterministic reading is sure and the answer a plain query result; "" when it is not."""
    plans = route.get("plans") or []
    method = route.get("method", "")
    if route.get("intents") != ["query"] or not plans or method.startswith(("llm", "example")):
        return ""
    if route.get("clarify") or route.get("not_applied") or route.get("ambiguous") or route.get("denied"):
        return ""
    if any(p.get("shape") not in SHAPES for p in plans):
        return ""
    if unmatched(question, route):
        return ""
    return f"sure {plans[0]['shape']}: the answer is the data as read, no prose needed"


def extraction_skip(deps: Deps, open_sentences: int, room: bool) -> str:
    """Why the needs extractor asks no model ("" = ask it).

    `open_sentences` counts the records' sentences a model's item could still add (not yet in the profile,
    not an order, no link); `room` is whether any field shows fewer items than an answer lists.
    """
    if not room:
        return "sure: every needs field already holds as many items as an answer shows; no model call"
    if not open_sentences:
        return "sure: every sentence of the records is already in the profile; no model call"
    off = prose_gate.prose_off(deps, "extraction")
    return off.replace("prose off", "extraction off", 1) + " (needs items kept from the rules)" if off else ""
