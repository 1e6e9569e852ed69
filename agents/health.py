"""The health agent: score, band, trend, drivers, open tickets and the latest NPS of one account."""

from __future__ import annotations

from agents import risk
from agents.context import Deps
from agents.state import AccountRef, Finding
from core import figures
from tools import crm


def run(deps: Deps, ctx: crm.ToolContext, account: AccountRef) -> Finding:
    """Score, band, trend, drivers, risk signals in the notes, strengths, open tickets and the latest NPS."""
    f = Finding("health", account)
    aid = account["account_id"]
    h = crm.health_breakdown(ctx, aid)
    hs = h["sources"][0]
    trend = "" if h["trend"] is None else f", {h['trend']:+.1f} points vs 30 days ago"
    f.fact(f"Health {figures.score(h['score'])} ({h['band']}){trend}", hs, kind="score")
    for d, s in zip(h["drivers"], h["sources"][1:] + [hs] * len(h["drivers"]), strict=False):
        f.fact(f"Driver: {d['text']} (-{d['points_lost']:.0f} points)", s, kind="driver")
    risk.add(f, risk.signals(deps, ctx, aid))  # what the notes say, which the score may not show yet
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
    f.data |= {"score": h["score"], "band": h["band"], "trend": h["trend"]}
    return f


HELP = ("I answer questions about your accounts from the CRM, with sources. Try: "
        "\u201chow is Acme doing?\u201d, \u201cwhich of my renewals this quarter are at risk?\u201d, "
        "\u201cwhy did Globex's latency go up?\u201d, \u201cwhat does Initech care about?\u201d, "
        "\u201cprep me for Initech's QBR\u201d, \u201cremember that Acme's champion leaves in May\u201d.")
