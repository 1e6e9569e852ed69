"""The tuning-advisor: telemetry read by detectors in code, then concrete changes with their effect."""

from __future__ import annotations

from agents.context import Deps
from agents.kb import advice, playbook
from agents.state import AccountRef, Finding
from tools import crm
from tools.context import Source

_PLAYS = {
    "latency_regression": "tuning.md#latency-went-up-after-a-model-switch",
    "error_spike": "tuning.md#error-rate-spikes",
    "cost_per_request_rising": "tuning.md#cost-per-request-rising",
    "context_creep": "tuning.md#context-length-creeping-up",
    "finetune_divergence": "tuning.md#fine-tuning-learning-rate-and-warmup",
}


def run(deps: Deps, ctx: crm.ToolContext, account: AccountRef) -> Finding:
    """Findings and recommendations about the account's model usage."""
    f = Finding("tuning", account)
    perf = crm.model_performance(ctx, account["account_id"])
    tel: Source = {"type": "telemetry", "id": f"{account['account_id']}:last-14-days", "date": ctx.as_of.isoformat(),
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
        srcs: list[Source] = [{**s, "label": s.get("label") or f"{s['type'].replace('_', ' ')} {s['id']}"}
                              for s in det["sources"]]
        f.fact(det["text"][0].upper() + det["text"][1:], *srcs, kind=det["kind"])
        play = _PLAYS.get(det["kind"])
        if play:
            for text in advice(play, det.get("values", {})):
                f.recommend(text, playbook(play))
        f.data.setdefault("detectors", []).append({"kind": det["kind"], "severity": det["severity"],
                                                     "values": det.get("values", {})})
    if not perf["findings"]:
        f.fact("No latency, error, cost, context or fine-tune anomalies in the last 60 days", tel, kind="none")
        f.recommend("Keep the static part of prompts first to benefit from prompt caching",
                    playbook("tuning.md#prompt-caching"))
    if perf["eval_score"] is not None:
        f.data["eval_score"] = perf["eval_score"]
    return f
