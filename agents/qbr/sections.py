"""The QBR's own findings: usage by month, models and fine-tunes, support, sentiment, each fact cited.

Each chart point is also a fact of its finding (so every number a chart shows is a verified
finding with its record), and `data` carries the series the chart is drawn from. A finding with
no facts means the CRM had no such data for the quarter; the deck says so instead of a slide.
"""

from __future__ import annotations

from datetime import date, timedelta

from agents.state import AccountRef, Finding
from tools import qbr_data
from tools.crm import ToolContext
from tools.qbr_data import Quarter, Source


def usage(ctx: ToolContext, account: AccountRef, q: Quarter) -> Finding:
    """Tokens, requests and active seats by month: this quarter and the one before, for the trend."""
    f = Finding("qbr_usage", account)
    months = qbr_data.monthly_usage(ctx, account["account_id"], q)["months"]
    for m in months:
        f.fact(f"{m['label']}: {m['tokens_m']:g}M tokens, {m['requests_k']:g}K requests, "
               f"{m['active_seats']} active seats at peak", m["source"], kind="month")
    mine = [m for m in months if m["in_quarter"]]
    before = [m for m in months if not m["in_quarter"] and m["days"] >= 28]
    if mine and before and before[-1]["tokens_m"]:
        first, last = before[-1], mine[-1]
        per_day = last["tokens_m"] / max(1, last["days"])
        change = round(100 * (per_day / (first["tokens_m"] / first["days"]) - 1))
        f.fact(f"Tokens per day {'up' if change >= 0 else 'down'} {abs(change)}% from {first['label']} to "
               f"{last['label']}", first["source"], last["source"], kind="change")
        f.data["change_pct"] = change
    f.data["months"] = [{"label": m["label"], "tokens_m": m["tokens_m"], "requests_k": m["requests_k"],
                         "active_seats": m["active_seats"]} for m in months]
    return f


def models(ctx: ToolContext, account: AccountRef, q: Quarter) -> Finding:
    """p95 latency, error rate and requests per model version this quarter; fine-tunes with eval scores."""
    f = Finding("qbr_models", account)
    versions = qbr_data.model_versions(ctx, account["account_id"], q)["versions"]
    for v in versions:
        f.fact(f"{v['label']}: p95 latency {v['p95_ms']:,} ms, error rate {v['error_pct']:g}%, "
               f"{v['requests']:,} requests ({v['first']} to {v['last']})", v["source"], kind="version")
    jobs = qbr_data.fine_tunes(ctx, account["account_id"], q)["jobs"]
    for j in jobs:
        score = "no eval score" if j["eval_score"] is None else f"eval score {j['eval_score']:g}"
        f.fact(f"Fine-tune {j['id']} of {j['base_model']} ({j['created']}, {j['status']}): {score}", j["source"],
               kind="fine_tune")
    f.data["versions"] = [{"label": v["label"], "p95_ms": v["p95_ms"], "error_pct": v["error_pct"],
                           "requests": v["requests"]} for v in versions]
    f.data["fine_tunes"] = [{"label": f"#{j['id']} {j['base_model']}", "eval_score": j["eval_score"]}
                            for j in jobs if j["eval_score"] is not None]
    return f


def support(ctx: ToolContext, account: AccountRef, q: Quarter) -> Finding:
    """Tickets opened this quarter by priority, days to resolve, the notable incidents."""
    f = Finding("qbr_support", account)
    s = qbr_data.support(ctx, account["account_id"], q)
    f.data["by_priority"] = s["by_priority"]
    if not s["total"]:
        return f
    counts = ", ".join(f"{n} {p}" for p, n in s["by_priority"].items())
    f.fact(f"{s['total']} tickets opened in {q.label}: {counts}", *s["sources"][:8], kind="priority")
    if s["median_days"] is not None:
        f.fact(f"Median time to resolve: {s['median_days']:g} days over {s['closed']} closed tickets",
               *s["sources"][:8], kind="resolve")
    if s["still_open"]:
        f.fact(f"{s['still_open']} of them still open", *s["sources"][:8], kind="open")
    for t in s["notable"]:
        closed = f", closed {t['closed']}" if t["closed"] else f", {t['status']}"
        f.fact(f"{t['priority'].capitalize()}: \u2018{t['subject']}\u2019 opened {t['opened']}{closed}", t["source"],
               kind="incident")
    return f


def sentiment(ctx: ToolContext, account: AccountRef, q: Quarter) -> Finding:
    """Every NPS answer of the year to the quarter's end, with its comment quoted."""
    f = Finding("qbr_sentiment", account)
    rs = qbr_data.nps_trend(ctx, account["account_id"], q)["responses"]
    for r in rs:
        said = f": \u201c{r['comment']}\u201d" if r["comment"] else ""
        f.fact(f"NPS {r['score']} ({r['category']}) on {r['date']}{said}", r["source"], kind="nps")
    f.data["responses"] = [{"date": r["date"], "score": r["score"]} for r in rs]
    return f


def next_steps(account: AccountRef, owner: str, recommendations: list[tuple[str, list[Source]]],
               as_of: date, limit: int = 5) -> Finding:
    """The recommendations as next steps, each with its owner (the account's CSM) and a date to do it by."""
    f = Finding("qbr_plan", account)
    seen: set[str] = set()
    for text, sources in recommendations:
        if text in seen or len(f.facts) >= limit:
            continue
        seen.add(text)
        due = as_of + timedelta(days=14 * (len(f.facts) + 1))
        f.fact(f"{text} (owner {owner}, by {due.isoformat()})", *sources, kind="step")
        f.data.setdefault("steps", []).append({"action": text, "owner": owner, "due": due.isoformat()})
    return f
