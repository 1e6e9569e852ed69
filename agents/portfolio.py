"""The portfolio agent: the asker's accounts filtered, sorted and counted the way the question asks."""

from __future__ import annotations

from agents.context import Deps
from agents.state import Finding, Route
from core import figures
from tools import crm
from tools import onboarding as milestones


def run(deps: Deps, ctx: crm.ToolContext, route: Route, question: str) -> Finding:
    """The viewer's accounts filtered the way the question asks, worst first."""
    f = Finding("portfolio")
    low = question.lower()
    risk = any(w in low for w in ("risk", "red", "churn", "worst", "trouble", "worr", "concern"))
    renew = "renew" in low
    days = route.get("window_days") or (90 if renew else None)
    growth = any(w in low for w in ("expan", "growth", "upsell", "seats"))
    onboarding = "onboarding" in route["intents"]
    seg = "at risk" if risk else ("growth potential" if growth else None)
    # A renewal window lists every renewal in it, soonest first (up to 25), not the first 10 by risk.
    shown = 25 if renew else 10
    data = crm.portfolio(ctx, segment=seg, renewal_within_days=days if renew else None, limit=200 if renew else 15)
    rows = data["accounts"]
    if renew:
        rows = sorted(rows, key=lambda r: r["days_to_renewal"] if r["days_to_renewal"] is not None else 9e9)
    scope = ("at-risk " if risk else "growth " if growth else "") + "accounts"
    when = f" renewing in the next {days} days" if renew else ""
    scope = scope if data["count"] != 1 else scope.removesuffix("s")
    more = f", showing the first {shown}" if data["count"] > shown else ""
    f.fact(f"{data['count']} {scope}{when} in {'your portfolio' if ctx.viewer.role == 'csm' else 'your scope'}"
           f" ({ctx.viewer.name}){more}", kind="count")
    for r in rows[:shown]:
        s = crm.src("health_score", r["account_id"], ctx.as_of, r["name"])
        p = f", P(renew) {r['p_renew']:.2f}" if r["p_renew"] is not None else ""
        ren = f", renews {r['renewal_date']} ({int(r['days_to_renewal'])} days)" \
            if r["renewal_date"] and r["days_to_renewal"] is not None else ""
        f.fact(f"{r['name']}: health {figures.score(r['score'])} ({r['band']}){ren}, ARR ${r['arr']:,.0f}{p}; "
               f"{r['segment']}: {r['segment_reason']}", s, kind="account")
    if onboarding:
        mine = [r["account_id"] for r in crm.portfolio(ctx, limit=500)["accounts"]]
        seen: set[int] = set()
        for m in milestones.overdue(ctx.store, ctx.as_of, mine):
            if m["account_id"] not in seen:  # the most overdue milestone of each account
                seen.add(m["account_id"])
                f.fact(f"{m['account']}: onboarding milestone '{m['name']}' {m['days_overdue']} days overdue",
                       crm.src("milestone", m["id"], m["due"], m["name"]), kind="overdue")
    f.data = {"count": data["count"], "accounts": [{"account_id": r["account_id"], "name": r["name"]}
                                                      for r in rows[:shown]],
              "ids": data["ids"],
              "rows": [{"id": r["account_id"], "account_id": r["account_id"], "account": r["name"],
                        "label": r["name"], "date": str(r["renewal_date"]) if r["renewal_date"] else None,
                        "values": {"arr": r["arr"], "health": r["score"], "p_renew": r["p_renew"]}}
                       for r in rows[:shown]]}
    return f
