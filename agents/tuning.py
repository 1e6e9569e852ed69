"""The tuning-advisor: telemetry read by detectors in code, then concrete changes with their effect."""

from __future__ import annotations

from typing import Any

from agents.kb import playbook
from agents.state import Deps, Finding
from tools import crm

_PLAYS = {
    "latency_regression": "tuning.md#latency-went-up-after-a-model-switch",
    "error_spike": "tuning.md#error-rate-spikes",
    "cost_per_request_rising": "tuning.md#cost-per-request-rising",
    "context_creep": "tuning.md#context-length-creeping-up",
    "finetune_divergence": "tuning.md#fine-tuning-learning-rate-and-warmup",
}


def _advice(kind: str, v: dict[str, Any]) -> list[str]:
    if kind == "latency_regression":
        after, before = v.get("model_after"), v.get("model_before")
        out = ["Enable streaming so users see the first tokens quickly (expected: perceived latency down 60-80%)",
               "Trim the context of long requests (expected: p95 down roughly in proportion to the tokens removed)"]
        if after and before:
            out.append(f"Route only hard queries to {after} and keep {before} for the rest, after checking "
                       "quality on their eval set")
        return out
    if kind == "error_spike":
        return ["Split the errors into 429s, 5xx and 4xx: retries with exponential backoff and jitter for 429s "
                "(honour Retry-After), check the incident log for 5xx, and the latest deploy for 4xx"]
    if kind == "cost_per_request_rising":
        return ["Check prompt length, output length (set max_tokens) and retries; move simple traffic to a "
                "smaller model (typically 5-10x cheaper at equal quality on their eval set)"]
    if kind == "context_creep":
        return ["Cap conversation history to the last few turns plus a summary and retrieve 3-5 chunks, not "
                "more (expected: input cost down in proportion to the tokens cut)",
                "Put the static system prompt first so prompt caching applies"]
    if kind == "finetune_divergence":
        lr = v.get("previous_learning_rate")
        back = f"go back to learning rate {lr:g}" if lr else "lower the learning rate"
        return [f"Restart the fine-tune: {back}, restore at least 100 warmup steps and enable gradient "
                "clipping (max norm 1.0); compare eval scores, not only training loss"]
    return []


def run(deps: Deps, ctx: crm.ToolContext, account: dict[str, Any]) -> Finding:
    """Findings and recommendations about the account's model usage."""
    f = Finding("tuning", account)
    perf = crm.model_performance(ctx, account["account_id"])
    tel = {"type": "telemetry", "id": f"{account['account_id']}:last-14-days", "date": ctx.as_of.isoformat(),
           "label": f"Telemetry, {account['name']}"}
    if perf["p95_ms"] is not None:
        parts = [f"p95 latency {perf['p95_ms']:,.0f} ms", f"p50 {perf['p50_ms']:,.0f} ms"]
        if perf["error_rate"] is not None:
            parts.append(f"error rate {perf['error_rate'] * 100:.1f}%")
        if perf["input_tokens_per_request"] is not None:
            parts.append(f"{perf['input_tokens_per_request']:,} input tokens per request")
        if perf["cost_per_request"] is not None:
            parts.append(f"${perf['cost_per_request']:.4f} per request")
        model = f" on {perf['model_now']}" if perf.get("model_now") else ""
        f.fact("Last 14 days" + model + ": " + ", ".join(parts), tel, kind="usage")
    for det in perf["findings"]:
        srcs = [{**s, "label": s.get("label") or f"{s['type'].replace('_', ' ')} {s['id']}"} for s in det["sources"]]
        f.fact(det["text"][0].upper() + det["text"][1:], *srcs, kind=det["kind"])
        play = _PLAYS.get(det["kind"])
        for advice in _advice(det["kind"], det.get("values", {})):
            f.recommend(advice, *( [playbook(play)] if play else []))
        f["data"].setdefault("detectors", []).append({"kind": det["kind"], "severity": det["severity"],
                                                     "values": det.get("values", {})})
    if not perf["findings"]:
        f.fact("No latency, error, cost, context or fine-tune anomalies in the last 60 days", tel, kind="none")
        f.recommend("Keep the static part of prompts first to benefit from prompt caching",
                    playbook("tuning.md#prompt-caching"))
    if perf["eval_score"] is not None:
        f["data"]["eval_score"] = perf["eval_score"]
    return f
