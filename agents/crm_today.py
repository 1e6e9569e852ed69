"""What changed in the asker's accounts, and what needs them today: the briefing's own items, cited (from crm_query)."""

from __future__ import annotations

from agents import briefing
from agents.context import Deps
from agents.state import AccountRef, Finding
from agents.understand import Plan


def changes(f: Finding, deps: Deps, who: str, p: Plan) -> None:
    """What changed since the plan's period start (health bands, detractors, ticket surges)."""
    assert p.period is not None
    b = briefing.build(deps, who, since=p.period.start)
    for c in b["changes"][:15]:
        f.fact(c["text"], c["source"], kind="change")
    if not b["changes"]:
        f.fact(f"No notable changes in your {b['accounts']} accounts since {p.period.start.isoformat()} (health "
               "bands and scores, detractor responses, ticket surges)", kind="change")
    by_id: dict[int, AccountRef] = {c["account_id"]: {"account_id": c["account_id"], "name": c["account"]}
                                    for c in b["changes"][:15]}
    f.data["accounts"] = list(by_id.values())


def today(f: Finding, deps: Deps, who: str) -> None:
    """Today's priorities, changes, risks, near renewals and overdue onboarding, numbered."""
    b = briefing.build(deps, who)
    for k, t in enumerate(b["today"], 1):
        f.fact(f"{k}. {t['text']}", t["source"], kind="today") if t.get("source") else \
            f.fact(f"{k}. {t['text']}", kind="today")
    for c in b["changes"][:3]:
        f.fact(f"Changed: {c['text']}", c["source"], kind="change")
    for r in b["at_risk"][:3]:
        f.fact(f"At risk: {r['account']}: {r['reason']}" + (f", renews {r['renewal_date']}" if r.get("renewal_date")
                                                           else ""), r["source"], kind="risk")
    for n in b["renewals"]["30"][:3]:
        f.fact(f"Renews in {n['days']} days: {n['account']} ({n['date']}, ARR ${n['arr']:,.0f})", n["source"],
               kind="renewal")
    for m in b["overdue"][:3]:
        f.fact(f"Overdue onboarding: {m['account']}: '{m['milestone']}' {m['days']} days overdue", m["source"],
               kind="overdue")
    if not f.facts:
        f.fact(f"Nothing urgent in your {b['accounts']} accounts today", kind="today")
    f.data["accounts"] = [{"account_id": r["account_id"], "name": r["account"]} for r in b["at_risk"][:3]]
