"""A real small model on `retain eval` beside the deterministic path, per question; BENCHMARKS.md quotes it.

Run both evaluations, then summarise them (the model's run compared per question with the deterministic one):

    RETAIN_LLM__MODEL_PATH=../shared/models/SmolLM2-135M-Instruct.Q4_1.gguf RETAIN_LLM__N_THREADS=1
    nice -n 10 uv run retain eval --json > det.json
    nice -n 10 uv run retain eval --llm --json --against det.json > llm.json
    uv run python -m bench.llm_eval --set "default eval" det.json llm.json --save

`--set NAME DET LLM` may repeat (e.g. the dialogue sets with `--file tests/eval/dialogue`); `--note`
adds one line under the table (how a set was sampled).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from agents.evaluate import compare, llm_figures

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "llm_eval.json"


def summarise(det: dict[str, Any], llm: dict[str, Any]) -> dict[str, Any]:
    """The figures BENCHMARKS.md shows for one question set; the deterministic run over the same questions."""
    ids = {r["id"] for r in llm["rows"]}
    base = [r for r in det["rows"] if r["id"] in ids]
    c = compare(llm, {"rows": base})

    def recall(rows: list[dict[str, Any]]) -> float:
        total = sum(r["facts"] for r in rows)
        return round(sum(r["facts_found"] for r in rows) / total, 4) if total else 1.0

    return {"questions": len(llm["rows"]), "det_fully_correct": round(sum(r["correct"] for r in base) / len(base), 4),
            "llm_fully_correct": llm["fully_correct"], "det_recall": recall(base), "llm_recall": llm["fact_recall"],
            "worse": c["worse"], "better": c["better"],
            "det_median_s": round(statistics.median(r["seconds"] for r in base), 3),
            **llm_figures(llm["rows"]), "llm_median_s": llm["median_seconds"]}


def lines(data: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section."""
    out = ["## A real small model on the eval (SmolLM2-135M, llama.cpp in-process, 1 thread, 2 busy cores)", "",
           "Per question against the deterministic path on the same questions (worse: fully correct there and not "
           "here, or fewer facts). Prose, draft, needs and understand calls are the model's; a sure query result "
           "makes none, and prose turns off once the verifier rejected 90% of the model's last drafts (at least 20).",
           "", "| set | questions | fully correct det / LLM | recall det / LLM | worse | crashes | s per answer "
           "median det / LLM | p95 LLM | LLM calls per question | questions with a call | prompt tokens per call "
           "median / p95 | new (not cached) median / p95 |", "|---|---:|---|---|---:|---:|---|---:|---|---:|---|---|"]
    for name, s in data.items():
        if name == "notes":
            continue
        per = ", ".join(f"{k} {v:g}" for k, v in s["llm_calls_per_question"].items()) or "none"
        tok = s["prompt_tokens_per_call"]
        out.append(f"| {name} | {s['questions']} | {s['det_fully_correct']:.1%} / {s['llm_fully_correct']:.1%} | "
                   f"{s['det_recall']:.1%} / {s['llm_recall']:.1%} | {len(s['worse'])} | {s['crashes']} | "
                   f"{s['det_median_s']} / {s['llm_median_s']} | {s['p95_seconds']} | {per} | "
                   f"{s['questions_with_llm_calls']} | {tok['median']:g} / {tok['p95']:g} | "
                   f"{tok['new_median']:g} / {tok['new_p95']:g} |")
    out += ["", *data.get("notes", [])]
    return out


def main() -> None:
    """Summarise pairs of saved reports, print the section, and with --save keep it in bench/llm_eval.json."""
    p = argparse.ArgumentParser()
    p.add_argument("--set", nargs=3, action="append", metavar=("NAME", "DET", "LLM"), required=True)
    p.add_argument("--note", action="append", default=[])
    p.add_argument("--save", action="store_true")
    a = p.parse_args()
    data: dict[str, Any] = {name: summarise(json.loads(Path(d).read_text()), json.loads(Path(m).read_text()))
                            for name, d, m in a.set}
    data["notes"] = a.note
    print("\n".join(lines(data)))
    if a.save:
        OUT.write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
