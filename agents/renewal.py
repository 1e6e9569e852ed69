"""The renewal agent: date and ARR, health and P(renew) with drivers, risks, expansion, the play, whom to engage."""

from __future__ import annotations

import re

from agents import risk
from agents.context import Deps
from agents.kb import play as kb_play
from agents.kb import playbook
from agents.state import AccountRef, Finding
from core import figures
from tools import crm
from tools.results import Driver

_EXEC = re.compile(r"\b(VP|Vice President|Chief|CEO|CFO|COO|CTO|CIO|Head|Director|President)\b")


def _play(drivers: list[Driver], segment: str) -> str:
    comps = [d["component"] for d in drivers]
    text = " ".join(d["text"] for d in drivers).lower()
    if "relationship" in comps and ("left" in text or "champion" in text):
        return "renewal.md#save-play-champion-left"
    if any(c in comps for c in ("model_performance", "support")) or "outage" in text:
        return "renewal.md#save-play-reliability-or-performance-complaints"
    if any(c in comps for c in ("usage_trend", "adoption", "onboarding")):
        return "renewal.md#save-play-low-adoption"
    if "sentiment" in comps:
        return "renewal.md#save-play-reliability-or-performance-complaints"
    if segment == "growth potential":
        return "expansion.md#how-to-open-the-conversation"
    return "renewal.md#timeline-start-at-120-days"


def run(deps: Deps, ctx: crm.ToolContext, account: AccountRef) -> Finding:
    """Renewal findings for one account."""
    f = Finding("renewal", account)
    aid = account["account_id"]
    r = crm.renewal_outlook(ctx, aid)
    ov = crm.account_overview(ctx, aid)
    contract, health = r["sources"][0], r["sources"][1]
    if r["renewal_date"] and r["days_to_renewal"] is not None:
        f.fact(f"Renews on {r['renewal_date']} (in {int(r['days_to_renewal'])} days); ARR ${r['arr']:,.0f}",
               contract, kind="renewal_date")
    f.fact(f"Health {figures.score(r['health_score'])} ({r['band']})", health, kind="health")
    if r["p_renew"] is not None:
        f.fact(f"P(renew) {r['p_renew']:.2f} from the renewal model", health, kind="p_renew")
    found = risk.signals(deps, ctx, aid)
    risk.add(f, found)  # an unanswered signal leads with "At risk", whatever the score and P(renew) say
    for d in r["risk_drivers"]:
        f.fact("Risk: " + d["text"], health, kind="risk")
    but = "; the notes carry the unanswered risk signals above" if found["unanswered"] and \
        r["segment"] != "at risk" else ""
    f.fact(f"Segment: {r['segment']} ({r['segment_reason']}){but}", health, kind="segment")
    if r["segment"] == "growth potential":
        f.recommend("Open an expansion conversation from their outcome and seat usage",
                    playbook("expansion.md#signals-worth-acting-on"))
    tickets = crm.list_tickets(ctx, aid)["tickets"]
    outages = [t for t in tickets if re.search(r"outage|\b5\d\d\b|down for|incident", f"{t['subject']} {t['body']}",
                                                re.I)]
    play = _play(r["risk_drivers"], r["segment"])
    if outages and play != "renewal.md#save-play-champion-left":
        play = "renewal.md#save-play-reliability-or-performance-complaints"
        f.fact(f"{len(outages)} open outage tickets, latest '{outages[0]['subject']}' on {outages[0]['opened']}",
               crm.src("ticket", outages[0]["id"], outages[0]["opened"], outages[0]["subject"]), kind="risk")
    signal_play = risk.play(found)
    if r["risk_drivers"] or r["segment"] == "at risk" or (r["p_renew"] is not None and r["p_renew"] < 0.6):
        f.recommend(kb_play(play), playbook(play))
    elif play.startswith("expansion") and not signal_play:
        f.recommend(kb_play(play), playbook(play))
    elif not signal_play:
        f.recommend("On track: run the standard renewal timeline (value review by 90 days, proposal by 60)",
                    playbook("renewal.md#timeline-start-at-120-days"))
    if signal_play and signal_play != play:
        f.recommend(kb_play(signal_play), playbook(signal_play))
    engage = []
    for c in ov["contacts"]:
        if c.get("left_on"):
            continue
        if c["champion"]:
            engage.append(f"{c['name']} ({c['role']}, champion)")
        elif _EXEC.search(c["role"] or ""):
            engage.append(f"{c['name']} ({c['role']})")
    left = [c for c in ov["contacts"] if c.get("left_on") and c["champion"]]
    acct = ov["sources"][0]
    if left:
        f.fact(f"Champion {left[0]['name']} left on {left[0]['left_on']}", acct, kind="champion_left")
    if engage:
        f.recommend("Engage " + ", ".join(engage[:3]), acct)
    f.data |= {"p_renew": r["p_renew"], "segment": r["segment"], "renewal_date": r["renewal_date"],
               "arr": r["arr"], "play": play}
    return f
