"""The words of a message: spans that may be account names, the time window it names, the nearest labelled example."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import yaml

from agents.state import Deps
from configs import CONFIG_DIR

STOP = set("""a an the and or but of for to in on at by with from about is are was were be been how what
why which who whom when where do does did my our your their they them it its this that these those me we
i you he she please tell show give list prep qbr ebr doing going health status renewal renewals risk at
latency errors error cost tokens onboarding notes note account accounts customer customers quarter month
week year day days next last this team any all some up down go went got get has have had can could should
would will new old top more less than since after before into over under p95 p50 sso remember their
help why whats what's hows how's care pain points goals milestones follow followup blocked stuck model""".split())


_EXAMPLES: dict[str, Any] = {}


def nearest_example(deps: Deps, question: str) -> tuple[list[str], float] | None:
    """The intents of the closest labelled example (configs/router_examples.yaml), if close enough.

    An example labelled `query` carries a template (`ask`) the query layer reads; its intents come
    back as ["query", TEMPLATE].
    """
    mem = deps.memory
    if mem is None:
        return None
    key = mem.model_id
    if key not in _EXAMPLES:
        data = yaml.safe_load((CONFIG_DIR / "router_examples.yaml").read_text())
        texts = [e["text"] for e in data["examples"]]
        vecs = np.asarray(mem.cache.embed(mem.ef, texts), dtype=np.float32)
        _EXAMPLES[key] = (vecs, [e["intents"] + ([e["ask"]] if e.get("ask") else []) for e in data["examples"]],
                          float(data["min_similarity"]))
    vecs, labels, floor = _EXAMPLES[key]
    q = np.asarray(mem.ef([question])[0], dtype=np.float32)
    sims = vecs @ q
    best = int(np.argmax(sims))
    return (list(labels[best]), float(sims[best])) if sims[best] >= floor else None


def window_days(low: str, today: date) -> int | None:
    """The time window a message names, in days from today."""
    m = re.search(r"(?:next|within|in|coming)\s+(\d{1,3})\s*(day|week|month)s?", low)
    if m:
        n = int(m.group(1))
        return n * {"day": 1, "week": 7, "month": 30}[m.group(2)]
    q_end = date(today.year, 3 * ((today.month - 1) // 3) + 3, 1)
    q_end = date(q_end.year + (q_end.month == 12), q_end.month % 12 + 1, 1)
    if "this quarter" in low or "end of quarter" in low or "this qtr" in low:
        return (q_end - today).days - 1
    if "next quarter" in low:
        nxt = date(q_end.year + (q_end.month > 9), (q_end.month + 2) % 12 + 1, 1)
        return (nxt - today).days - 1
    if "this month" in low:
        return (date(today.year + (today.month == 12), today.month % 12 + 1, 1) - today).days - 1
    if "next month" in low:
        return 60
    if "this year" in low:
        return (date(today.year + 1, 1, 1) - today).days - 1
    return None


def spans(text: str) -> list[tuple[int, int, str]]:
    """Runs of up to four words that may name an account (not all stop words), longest first, with offsets."""
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9&.\-]*", text)]
    words = [(s, e, re.sub(r"'s$|’s$", "", w)) for s, e, w in words
             if not (len(w) == 1 and s and text[s - 1] in "'’")]  # the "s" of "how's" is no word of a name
    out = []
    for n in (4, 3, 2, 1):
        for i in range(len(words) - n + 1):
            part = words[i:i + n]
            toks = [w for _, _, w in part]
            if all(t.lower() in STOP for t in toks) or toks[0].lower() in STOP and n > 1 or \
                    toks[-1].lower() in STOP:
                continue
            if n == 1 and (len(toks[0]) < 4 or toks[0].lower() in STOP):
                continue
            out.append((part[0][0], part[-1][1], " ".join(toks)))
    return out


def whole_names(question: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Account names typed in full, longest first, even when a word of them is a CRM word ("Lumen Health")."""
    known = {n.casefold() for n in names}
    words = [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9&.\-]*", question)]
    out = []
    for n in (4, 3, 2):
        for i in range(len(words) - n + 1):
            start, end = words[i][0], words[i + n - 1][1]
            text = re.sub(r"\s+", " ", question[start:end])
            if text.casefold() in known:
                out.append((start, end, text))
    return out
