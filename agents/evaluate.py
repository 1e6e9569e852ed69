"""`retain eval`: Retain's answers to the CSM questions in tests/eval, scored.

Per question: fact recall (the facts a correct answer must contain), unsupported claims (the
verifier run over the final answer), routing (intents and accounts), LLM calls and prompt tokens.
Questions that share a `thread` run in order in one conversation. `absent_sql` reads facts that must
not appear (what a wrong window, filter or scope would list); `expect: draft` asks for a draft that is
still pending: nothing sent or logged before a person approves it.

The questions are written against one demo portfolio on one day (`DEMO_*`): `retain eval` seeds that
portfolio on that date in a folder of its own, so it reports the same on any day, whatever the data.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast

import yaml
from rich.table import Table

from agents.assistant import Assistant, Result
from agents.composer import verify
from agents.state import Answer, Route
from core.errors import ConfigError
from integrations.crm.store import CRMStore
from tools import checks, crm
from tools.access import OPERATOR

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "tests" / "eval"
# The demo portfolio and the day tests/eval's questions are written against (`retain demo seed` defaults).
DEMO_ACCOUNTS, DEMO_SEED, DEMO_TODAY = 150, 7, date(2026, 11, 23)

SqlSpec = str | list[str]
"""A query whose cells are facts: its SQL alone (cells as text) or [sql, fmt]."""


Question = TypedDict("Question", {
    "id": str,
    "ask": str,
    "category": str,
    "part": str,  # dev | held
    "thread": NotRequired[str],  # questions sharing a thread run in order in one conversation
    "repeat": NotRequired[int],  # the message is the text repeated this many times (oversized input)
    "as": NotRequired[str],  # who asks (default: the operator)
    "facts": NotRequired[list[str]],
    "sql": NotRequired[list[SqlSpec]],
    "absent": NotRequired[list[str]],
    "absent_sql": NotRequired[list[SqlSpec]],
    "intents": NotRequired[list[str]],
    "accounts": NotRequired[list[str]],
    "expect": NotRequired[str],  # answer (default) | draft | clarify | input | access | ambiguous
    "draft_kind": NotRequired[str],
})
"""One question of an eval file (YAML): what to ask and what a correct answer holds."""


class Row(TypedDict):
    """How one question was answered, scored."""

    id: str
    ask: str
    facts: int
    facts_found: int
    missing: list[str]
    leaked: list[str]
    route_ok: bool
    mode: str
    unsupported: list[str]
    intents: list[str]
    llm_calls: int
    prompt_tokens: int
    llm_by_kind: dict[str, int]
    crash: str
    call_tokens: list[list[int]]  # per call: [prompt tokens, cached tokens]
    seconds: float
    single_intent: bool
    category: str
    part: str
    correct: bool


class Share(TypedDict):
    """Recall and fully-correct over a part or category."""

    questions: int
    fact_recall: float
    fully_correct: float


class TokensPerCall(TypedDict):
    """Prompt tokens per model call: all, and new (not from the prompt cache)."""

    median: float
    p95: float
    new_median: float
    new_p95: float


class LLMFigures(TypedDict):
    """Crashes, p95 seconds, model calls per question by kind, prompt tokens per call."""

    crashes: int
    p95_seconds: float
    llm_calls_per_question: dict[str, float]
    questions_with_llm_calls: int
    llm_calls: int
    prompt_tokens_per_call: TokensPerCall


class Report(LLMFigures):
    """A whole run: the headline figures, the breakdowns and every row."""

    questions: int
    fact_recall: float
    unsupported_claims: int
    routing_accuracy: float
    max_llm_calls_single_intent: int
    median_prompt_tokens: float
    median_seconds: float
    fully_correct: float
    by: dict[str, Share]  # "part:dev", "category:original", ...
    rows: list[Row]


class Comparison(TypedDict):
    """A run against a baseline run: which questions got worse, which better."""

    compared: int
    worse: list[str]
    better: list[str]


def load_questions(path: Path) -> list[Question]:
    """The questions file (or every *.yaml in a directory), checked."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise ConfigError(f"No evaluation file at {path}. Pass --file.")
    data: list[Question] = []
    for f in files:
        for q in yaml.safe_load(f.read_text()) or []:
            if "ask" not in q or "id" not in q:
                raise ConfigError(f"Question {q!r} in {f} needs 'id' and 'ask'.")
            for spec in [*q.get("sql", []), *q.get("absent_sql", [])]:
                fmt = "text" if isinstance(spec, str) else (spec[1] if len(spec) > 1 else "text")
                if fmt not in FACT_FORMATS:
                    raise ConfigError(f"Question {q['id']} in {f}: unknown fact format {fmt!r}. "
                                      f"Use one of: {', '.join(FACT_FORMATS)}.")
            data.append(cast(Question, {"category": "original", "part": "dev", **q}))
    return data


# What a question file may say a reply should be, in other words: a refusal is Retain's access answer.
EXPECT_SAME = {"refuse": "access", "refusal": "access"}

FACT_FORMATS = ("text", "money", "pct", "int", "num", "number", "1dp", "date")


def _cell(v: Any, fmt: str) -> str:
    if fmt == "number":  # as answers write a number: 571,500 (also inside "$571,500"), 50.6, 0.008
        f = float(v)
        return f"{round(f):,}" if f == round(f) else f"{f:.3f}".rstrip("0")
    if fmt == "money":
        return f"${float(v):,.0f}"
    if fmt == "pct":
        return f"{round(float(v), 1):g}%"
    if fmt == "int":
        return f"{float(v):.0f}"
    if fmt == "num":
        return f"{round(float(v), 1):g}"
    if fmt == "1dp":
        return f"{float(v):.1f}"
    return str(v)[:10] if fmt == "date" else str(v)


def _portable(sql: str, today: date) -> tuple[str, dict[str, str]]:
    """The spec's SQLite date arithmetic, `date(:today, '-30 days')`, as bound dates any database takes."""
    params = {"today": today.isoformat()}

    def bind(m: re.Match[str]) -> str:
        name = f"today_{'m' if m.group(1) == '-' else 'p'}{m.group(2)}"
        params[name] = (today + timedelta(days=int(m.group(1) + m.group(2)))).isoformat()
        return f":{name}"
    return re.sub(r"date\(:today,\s*'([+-])(\d+) days'\)", bind, sql), params


def expected_from_sql(store: CRMStore, specs: list[SqlSpec], today: date) -> list[str]:
    """Facts a correct answer must contain, read from the database by SQL (never from Retain's output).

    Each spec is [sql, fmt] (fmt: text | money | pct | int | num | number | 1dp | date; `number` is written as
    answers write numbers: 571,500 or 50.6); every cell of every row is a fact.
    `:today` is bound to the demo's date.
    """
    out: list[str] = []
    for spec in specs:
        sql, fmt = (spec, "text") if isinstance(spec, str) else (spec[0], spec[1])
        sql, params = _portable(sql, today)
        for row in checks.rows(store, sql, params):
            out += [_cell(v, fmt) for v in row if v is not None]
    return out


def shows(fact: str, low: str) -> bool:
    """Whether a fact that must not appear does, as a word or phrase of its own ("red" is not in "unanswered")."""
    return re.search(rf"(?<!\w){re.escape(fact.lower())}(?!\w)", low) is not None


def run_eval(assistant: Assistant, path: Path = DEFAULT_FILE,
             progress: Callable[[float], None] | None = None,
             answered: Callable[[Question, Result], None] | None = None) -> Report:
    """Ask every question and score the answers (`answered` sees each question's result, for further checks)."""
    questions = load_questions(path)
    names = crm.live_account_names(assistant.services.store)
    if "Acme Corp" not in names:
        raise ConfigError("The evaluation runs on the demo portfolio: run `retain demo seed` first.")
    rows: list[Row] = []
    for k, q in enumerate(questions):
        thread = f"eval:{q.get('thread') or q['id']}"
        try:
            r = assistant.ask(q["ask"] * int(q.get("repeat", 1)), q.get("as") or OPERATOR, thread)
        except Exception as exc:  # noqa: BLE001 - a crash is a result: counted, and the eval goes on
            r = crashed(exc)
        if answered:
            answered(q, r)
        text = r["answer"].get("text", "")
        low = _shown(r["answer"]).lower()
        store, today = assistant.services.store, assistant.services.settings.as_of()
        facts = [str(f) for f in q.get("facts", [])] + expected_from_sql(store, q.get("sql", []), today)
        hit = [f for f in facts if f.lower() in low]
        wrong = [str(f) for f in q.get("absent", [])] + expected_from_sql(store, q.get("absent_sql", []), today)
        absent = [f for f in wrong if shows(f, low)]
        route = r["route"] or {}
        got_intents = set(route.get("intents", []))
        got_accounts = {a["name"] for a in route.get("accounts", [])}
        ok_route = True
        if "intents" in q:
            ok_route &= set(q["intents"]) <= got_intents
        if "accounts" in q:
            ok_route &= set(q["accounts"]) == got_accounts
        mode_ok = EXPECT_SAME.get(q.get("expect", "answer"), q.get("expect", "answer")) == _mode(r["answer"])
        if q.get("expect") == "draft":
            mode_ok &= draft_pending(store, r, q.get("draft_kind"))
        unsupported = verify(text, q["ask"], r["findings"], names, len(r["answer"].get("sources", []))) \
            if r["findings"] else []
        crash = r.get("note", "") if "crash" in r else ""
        route_ok = bool(ok_route and mode_ok)
        rows.append({"id": q["id"], "ask": q["ask"], "facts": len(facts), "facts_found": len(hit),
                     "missing": [f for f in facts if f not in hit], "leaked": absent,
                     "route_ok": route_ok, "mode": _mode(r["answer"]),
                     "unsupported": unsupported + absent, "intents": sorted(got_intents),
                     "llm_calls": r["llm"]["calls"], "prompt_tokens": r["llm"]["prompt_tokens"],
                     "llm_by_kind": r["llm"].get("by_kind", {}),
                     "crash": crash,
                     "call_tokens": [[c["prompt_tokens"], c["cached_tokens"]]
                                     for c in r["llm"].get("calls_detail", [])],
                     "seconds": r["seconds"], "single_intent": len(q.get("intents", [])) <= 1,
                     "category": q["category"], "part": q["part"],
                     "correct": bool(len(hit) == len(facts) and not (unsupported + absent) and route_ok
                                     and not crash)})
        if progress:
            progress((k + 1) / len(questions))
    total = sum(r["facts"] for r in rows)
    found = sum(r["facts_found"] for r in rows)
    return {
        "questions": len(rows), "fact_recall": round(found / total, 4) if total else 1.0,
        "unsupported_claims": sum(len(r["unsupported"]) for r in rows),
        "routing_accuracy": round(sum(r["route_ok"] for r in rows) / len(rows), 4),
        "max_llm_calls_single_intent": max((r["llm_calls"] for r in rows if r["single_intent"]), default=0),
        "median_prompt_tokens": statistics.median(r["prompt_tokens"] for r in rows),
        "median_seconds": round(statistics.median(r["seconds"] for r in rows), 3),
        "fully_correct": round(sum(r["correct"] for r in rows) / len(rows), 4),
        **llm_figures(rows),
        "by": {**_breakdown(rows, "part"), **_breakdown(rows, "category")},
        "rows": rows,
    }


def crashed(exc: Exception) -> Result:
    """The result of a question whose answer raised: nothing shown, the error kept for the report."""
    return {"answer": {}, "route": cast(Route, {}), "findings": [], "seconds": 0.0, "crash": True,
            "note": f"{type(exc).__name__}: {str(exc)[:200]}",
            "llm": {"calls": 0, "prompt_tokens": 0, "cached_tokens": 0, "completion_tokens": 0, "seconds": 0.0,
                    "by_kind": {}, "calls_detail": []}}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def llm_figures(rows: list[Row]) -> LLMFigures:
    """Crashes, p95 seconds, model calls per question by kind, and prompt tokens per call (all and new)."""
    kinds = sorted({k for r in rows for k in r["llm_by_kind"]})
    calls = [c for r in rows for c in r["call_tokens"]]
    return {"crashes": sum(bool(r["crash"]) for r in rows),
            "p95_seconds": round(_p95([r["seconds"] for r in rows]), 3),
            "llm_calls_per_question": {k: round(sum(r["llm_by_kind"].get(k, 0) for r in rows) / len(rows), 3)
                                       for k in kinds},
            "questions_with_llm_calls": sum(bool(r["llm_calls"]) for r in rows),
            "llm_calls": len(calls),
            "prompt_tokens_per_call": {"median": statistics.median(c[0] for c in calls) if calls else 0,
                                       "p95": _p95([c[0] for c in calls]),
                                       "new_median": statistics.median(c[0] - c[1] for c in calls) if calls else 0,
                                       "new_p95": _p95([c[0] - c[1] for c in calls])}}


def compare(report: Report, baseline: Report) -> Comparison:
    """Per question against a baseline report (the deterministic run): which got worse, which better.

    Worse: fully correct there and not here, or fewer facts found; a question missing from either is left out.
    """
    base = {r["id"]: r for r in baseline["rows"]}
    worse, better = [], []
    for r in report["rows"]:
        b = base.get(r["id"])
        if b is None:
            continue
        if (b["correct"] and not r["correct"]) or r["facts_found"] < b["facts_found"]:
            worse.append(r["id"])
        elif (r["correct"] and not b["correct"]) or r["facts_found"] > b["facts_found"]:
            better.append(r["id"])
    return {"compared": sum(r["id"] in base for r in report["rows"]), "worse": worse, "better": better}


def _breakdown(rows: list[Row], key: Literal["part", "category"]) -> dict[str, Share]:
    """Recall and fully-correct per part (dev, held) or per category."""
    out: dict[str, Share] = {}
    for name in sorted({r[key] for r in rows}):
        part = [r for r in rows if r[key] == name]
        total = sum(r["facts"] for r in part)
        out[f"{key}:{name}"] = {"questions": len(part),
                                "fact_recall": round(sum(r["facts_found"] for r in part) / total, 4) if total else 1.0,
                                "fully_correct": round(sum(r["correct"] for r in part) / len(part), 4)}
    return out


def _shown(answer: Answer) -> str:
    """What the asker sees: the answer's text and every draft's text fields (recipient, subject, body, date)."""
    drafts = [" ".join(str(v) for v in d.values() if isinstance(v, str)) for d in answer.get("drafts") or []]
    return "\n".join([answer.get("text", ""), *drafts])


def draft_pending(store: CRMStore, result: Result, kind: str | None = None) -> bool:
    """The answer is a draft (of `kind` when given) that waits for approval and has not run.

    `kind` matches a draft's `draft_kind` (email | slack | meeting | reminder) or its `kind`. Every
    draft is pending, the thread is paused on approval, no action ran, and the database holds no
    action-log or outbox row for any of the drafts' ids.
    """
    answer = result["answer"]
    drafts = answer.get("drafts") or []
    if answer.get("mode") != "draft" or not drafts or not result.get("pending") or result.get("actions"):
        return False
    if any(d.get("status", "pending") != "pending" for d in drafts):
        return False
    if kind and not any(kind in (d.get("draft_kind"), d.get("kind")) for d in drafts):
        return False
    ids = [str(d.get("id", "")) for d in drafts]
    if not all(ids):
        return False
    return not any(checks.decided_or_queued(store, i) for i in ids)


def _mode(answer: Answer) -> str:
    m = answer.get("mode", "")
    return "answer" if m in ("llm", "deterministic") else m


def summary_table(report: Report) -> Table:
    """Recall and fully-correct by part and category."""
    t = Table(title=f"fully correct {report['fully_correct']:.0%} of {report['questions']}")
    for c in ("part / category", "questions", "fact recall", "fully correct"):
        t.add_column(c)
    for name, v in report["by"].items():
        t.add_row(name, str(v["questions"]), f"{v['fact_recall']:.0%}", f"{v['fully_correct']:.0%}")
    return t


def table(report: Report) -> Table:
    """The report as a rich table."""
    per = ", ".join(f"{k} {v:g}" for k, v in report["llm_calls_per_question"].items()) or "none"
    tok = report["prompt_tokens_per_call"]
    t = Table(title=f"retain eval: {report['questions']} questions · fact recall {report['fact_recall']:.0%} · "
                    f"unsupported {report['unsupported_claims']} · routing {report['routing_accuracy']:.0%} · "
                    f"max LLM calls (single intent) {report['max_llm_calls_single_intent']} · crashes "
                    f"{report['crashes']} · s/answer median {report['median_seconds']:g}, p95 "
                    f"{report['p95_seconds']:g} · LLM calls per question: {per} · prompt tokens per call median "
                    f"{tok['median']:g} ({tok['new_median']:g} new)")
    for c in ("id", "part", "facts", "route", "unsupported", "LLM calls", "prompt tok", "s", "missing"):
        t.add_column(c, overflow="fold")
    for r in report["rows"]:
        t.add_row(r["id"], r["part"], f"{r['facts_found']}/{r['facts']}", "ok" if r["route_ok"] else "[red]wrong[/]",
                  str(len(r["unsupported"])), str(r["llm_calls"]), str(r["prompt_tokens"]), f"{r['seconds']:.2f}",
                  ", ".join(r["missing"] + r["leaked"] + ([f"CRASH {r['crash']}"] if r["crash"] else [])))
    return t
