"""Account health and portfolio findings (straight from the scorecard and the renewal model)."""

from __future__ import annotations

from typing import Any

from agents.state import Deps, Finding
from tools import crm


def health(deps: Deps, ctx: crm.ToolContext, account: dict[str, Any]) -> Finding:
    """Score, band, trend, drivers and strengths, open tickets and the latest NPS."""
    f = Finding("health", account)
    aid = account["account_id"]
    h = crm.health_breakdown(ctx, aid)
    hs = h["sources"][0]
    trend = "" if h["trend"] is None else f", {h['trend']:+.0f} points vs 30 days ago"
    f.fact(f"Health {h['score']:.0f} ({h['band']}){trend}", hs, kind="score")
    for d, s in zip(h["drivers"], h["sources"][1:] + [hs] * len(h["drivers"]), strict=False):
        f.fact(f"Driver: {d['text']} (-{d['points_lost']:.0f} points)", s, kind="driver")
    for st in h["strengths"][:2]:
        f.fact(f"Strength: {st['text']}", hs, kind="strength")
    tk = crm.list_tickets(ctx, aid)
    high = [t for t in tk["tickets"] if t["priority"] in ("high", "urgent")]
    if tk["tickets"]:
        srcs = [s for s, t in zip(tk["sources"], tk["tickets"], strict=True) if t in high[:2]] or tk["sources"][:1]
        f.fact(f"{len(tk['tickets'])} open tickets ({len(high)} high priority)"
               + (f", latest high: '{high[0]['subject']}' opened {high[0]['opened']}" if high else ""),
               *srcs, kind="tickets")
    nps = crm.nps_summary(ctx, aid)
    if nps["latest"]:
        n = nps["latest"]
        f.fact(f"Latest NPS {n['score']} ({n['category']}) on {n['date']}: \u201c{n['comment']}\u201d",
               nps["sources"][0], kind="nps")
    f["data"] = {"score": h["score"], "band": h["band"], "trend": h["trend"]}
    return f


def portfolio(deps: Deps, ctx: crm.ToolContext, route: dict[str, Any], question: str) -> Finding:
    """The viewer's accounts filtered the way the question asks, worst first."""
    f = Finding("portfolio")
    low = question.lower()
    risk = any(w in low for w in ("risk", "red", "churn", "worst", "trouble"))
    renew = "renew" in low
    days = route.get("window_days") or (90 if renew else None)
    growth = any(w in low for w in ("expan", "growth", "upsell", "seats"))
    onboarding = "onboarding" in route["intents"]
    seg = "at risk" if risk else ("growth potential" if growth else None)
    data = crm.portfolio(ctx, segment=seg, renewal_within_days=days if renew else None, limit=15)
    rows = data["accounts"]
    if renew:
        rows = sorted(rows, key=lambda r: r["days_to_renewal"] if r["days_to_renewal"] is not None else 9e9)
    scope = ("at-risk " if risk else "growth " if growth else "") + "accounts"
    when = f" renewing in the next {days} days" if renew else ""
    scope = scope if data["count"] != 1 else scope.removesuffix("s")
    f.fact(f"{data['count']} {scope}{when} in {'your portfolio' if ctx.viewer.role == 'csm' else 'your scope'}"
           f" ({ctx.viewer.name})", kind="count")
    for r in rows[:10]:
        s = crm.src("health_score", r["account_id"], ctx.as_of, r["name"])
        p = f", P(renew) {r['p_renew']:.2f}" if r["p_renew"] is not None else ""
        ren = f", renews {r['renewal_date']} ({int(r['days_to_renewal'])} days)" if r["renewal_date"] else ""
        f.fact(f"{r['name']}: health {r['score']:.0f} ({r['band']}){ren}, ARR ${r['arr']:,.0f}{p}; "
               f"{r['segment']}: {r['segment_reason']}", s, kind="account")
    if onboarding:
        for r in crm.portfolio(ctx, limit=500)["accounts"]:
            st = crm.onboarding_status(ctx, r["account_id"])
            for m in st.get("overdue", [])[:1]:
                f.fact(f"{r['name']}: onboarding milestone '{m['name']}' {m['days_overdue']} days overdue",
                       crm.src("milestone", m["id"], m["due"], m["name"]), kind="overdue")
    f["data"] = {"count": data["count"], "accounts": [{"account_id": r["account_id"], "name": r["name"]}
                                                      for r in rows[:10]]}
    return f


HELP = ("I answer questions about your accounts from the CRM, with sources. Try: "
        "\u201chow is Acme doing?\u201d, \u201cwhich of my renewals this quarter are at risk?\u201d, "
        "\u201cwhy did Globex's latency go up?\u201d, \u201cwhat does Initech care about?\u201d, "
        "\u201cprep me for Initech's QBR\u201d, \u201cremember that Acme's champion leaves in May\u201d.")
