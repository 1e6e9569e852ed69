"""How well a real small model fills Retain's typed `Query` (the router's JSON schema) on the eval questions.

    uv run python -m bench.query_fill [--model PATH] [--limit N]

For each question of tests/eval/crm_questions.yaml, the model reads it with the router prompt and
fills `RouteOut` (JSON-schema constrained). Reported: valid JSON (parses and fits the schema), a
query proposed, the query fits the field catalogue, and agrees with the deterministic plan on the
entity and on the fields it filters and sorts by. The deterministic path answers these questions
itself; this measures what the model could add when it is unsure.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from agents import understand
from agents.router import RouteOut, _proposed_plan, system_prompt
from core.errors import RetainError
from integrations.llm import CallLog, LlamaCppChat, LLMError, structured

RESULT = Path(__file__).resolve().parent / "query_fill.json"


def main() -> None:
    """Run the measurement, keep it in bench/query_fill.json and print a table (and JSON with --json)."""
    ap = argparse.ArgumentParser()
    models = Path(os.environ.get("RETAIN_MODELS_DIR", Path(__file__).resolve().parents[2] / "shared" / "models"))
    ap.add_argument("--model", default=str(models / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from retain.cli.common import services

    svc = services()
    questions = yaml.safe_load((Path(__file__).resolve().parents[1] / "tests/eval/crm_questions.yaml").read_text())
    questions = questions[: args.limit] if args.limit else questions
    chat = LlamaCppChat(Path(args.model), n_ctx=4096, max_tokens=200, n_threads=1)
    counts = {"questions": 0, "valid_json": 0, "query_proposed": 0, "fits_catalogue": 0, "same_entity": 0,
              "same_fields": 0}
    seconds = []
    for q in questions:
        ctx = svc.tool_context(q.get("as"))
        det = understand.plan(q["ask"], ctx.as_of, understand.vocabulary(svc.store), ctx.viewer.name, [], [])
        want = det[0].query if det and det[0].query is not None else None
        counts["questions"] += 1
        t = time.perf_counter()
        try:
            out = structured(chat, [{"role": "system", "content": system_prompt()},
                                    {"role": "user", "content": q["ask"]}], RouteOut, log=CallLog(), max_tokens=200)
        except (LLMError, RetainError):
            seconds.append(time.perf_counter() - t)
            continue
        seconds.append(time.perf_counter() - t)
        counts["valid_json"] += 1
        if out.query is None:
            continue
        counts["query_proposed"] += 1
        got = _proposed_plan(out.query, [])
        if got is None or got.query is None:
            continue
        counts["fits_catalogue"] += 1
        if want is not None and got.query.entity == want.entity:
            counts["same_entity"] += 1
            fields = lambda x: ({f.field for f in x.filters}, {s.field for s in x.sort})  # noqa: E731
            if fields(got.query) == fields(want):
                counts["same_fields"] += 1
    n = counts["questions"]
    report = {**counts, "median_seconds": round(sorted(seconds)[len(seconds) // 2], 2) if seconds else None,
              "model": Path(args.model).name}
    RESULT.write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps(report))
    tab = Table(title=f"Query filled by {report['model']} on {n} eval questions (median {report['median_seconds']} s)")
    for c in ("measure", "count", "share"):
        tab.add_column(c)
    for k, v in counts.items():
        if k != "questions":
            tab.add_row(k.replace("_", " "), str(v), f"{v / n:.0%}" if n else "-")
    Console(stderr=args.json).print(tab)


if __name__ == "__main__":
    main()
