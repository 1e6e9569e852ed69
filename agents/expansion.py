"""The expansion agent: seats near the cap, usage growth, new teams or use cases in the notes -> an expansion play.

Each signal is a cited fact (telemetry, or the note's own sentence). Two or more together make the
playbook's expansion play (configs/knowledge/expansion.md); one is worth watching; an unhealthy
account (red health or open high-priority tickets) is told to fix those first, whatever the signals.
"""

from __future__ import annotations

import re

from agents.composer import is_order, links
from agents.context import Deps
from agents.kb import play as kb_play
from agents.kb import playbook
from agents.state import AccountRef, Finding
from core import figures
from tools import crm, records

SEATS_NEAR_CAP = 0.9  # the playbook's "seat utilisation above 90%"
GROWTH = 0.2  # "usage growing more than 20%" over the last 30 days
NOTES_DAYS = 180
BUNDLE_DAYS = 120  # the playbook: bundle with the renewal when it is within 120 days
NEW_USE = re.compile(
    r"\b(another|second|third|new|other|more) (team|department|region|office|business unit|site|"
    r"use ?case|workflow|product line)s?\b|\broll(ing)? ?(it )?out to\b|\bexpand(ing)? (to|into)\b|"
    r"\bmore (seats|licen[cs]es|users)\b|\badd(ing)? (seats|licen[cs]es|users)\b|\bhigher rate limits?\b|"
    r"\bdedicated capacity\b|\benterprise (tier|plan|features?)\b|\baudit logs?\b", re.I)
OPEN_PLAY = "expansion.md#how-to-open-the-conversation"


def _asks(ctx: crm.ToolContext, aid: int) -> list[records.Mention]:
    """Sentences of recent notes and survey comments asking for more: a new team, region, use case or seats.

    A sentence that is an order or carries a link is never quoted (the composer's filter for prose).
    """
    said = records.notes(ctx, aid, days=NOTES_DAYS) + records.survey_comments(ctx, aid, days=NOTES_DAYS)
    found = records.mentions(sorted(said, key=lambda r: r.date, reverse=True), NEW_USE)
    return [m for m in found if not is_order(m.sentence) and not links(m.sentence)]


def run(deps: Deps, ctx: crm.ToolContext, account: AccountRef) -> Finding:
    """Expansion findings for one account."""
    f = Finding("expansion", account)
    aid = account["account_id"]
    ov = crm.account_overview(ctx, aid)
    use = crm.usage_trend(ctx, aid)
    health = crm.health_breakdown(ctx, aid)
    tel = use["sources"][0] if use["sources"] else None
    signals: list[str] = []
    util, growth = use.get("seat_utilization"), use.get("usage_change_30d")
    if tel is not None and util is not None:
        seats = f" of {ov['seats']:.0f} seats" if ov.get("seats") else " of seats"
        if util >= SEATS_NEAR_CAP:
            signals.append("seats")
            f.fact(f"Seats near the cap: {figures.percent(util)}{seats} in use", tel, kind="seats")
        else:
            f.fact(f"{figures.percent(util)}{seats} in use: room left under the cap", tel, kind="seats")
    if tel is not None and growth is not None:
        if growth > GROWTH:
            signals.append("growth")
            f.fact(f"Usage up {figures.percent(growth)} over the last 30 days", tel, kind="growth")
        else:
            f.fact(f"Usage {growth * 100:+.0f}% over the last 30 days (not growth the playbook counts)", tel,
                   kind="growth")
    asks = _asks(ctx, aid)
    for m in asks[:3]:
        where = "a survey comment" if m.record.type == "nps" else "the notes"
        f.fact(f"New use in {where}: \u201c{m.sentence}\u201d", m.record.source, kind="new_use")
    if asks:
        signals.append("new_use")
    high = [t for t in crm.list_tickets(ctx, aid)["tickets"] if t["priority"] in ("high", "urgent")]
    unhealthy = health["band"] == "red" or bool(high)
    play = ""
    if unhealthy:
        why = f"health {figures.score(health['score'])} ({health['band']})" if health["band"] == "red" else \
            f"{len(high)} open high-priority ticket{'s' if len(high) != 1 else ''}"
        first = health["sources"][0] if health["band"] == "red" else \
            crm.src("ticket", high[0]["id"], high[0]["opened"], high[0]["subject"])
        f.fact(f"Not ready to expand: {why}", first, kind="blocker")
        play = "expansion.md#don-t-expand-an-unhealthy-account"
        f.recommend("Fix the open problems before any expansion ask; an ask now costs trust", playbook(play))
    elif len(signals) >= 2:
        play = OPEN_PLAY
        f.recommend(kb_play(play), playbook(play))
        days = ov.get("days_to_renewal")
        if days is not None and 0 <= days <= BUNDLE_DAYS:
            f.recommend(f"Bundle the expansion with the renewal (in {days:.0f} days)",
                        playbook("expansion.md#packaging"))
    elif signals:
        f.recommend("One expansion signal so far: watch for a second before opening the conversation",
                    playbook("expansion.md#signals-worth-acting-on"))
    else:
        f.fact(f"No expansion signals at {account['name']}: seats, usage growth and the last "
               f"{NOTES_DAYS} days of notes and surveys show none", *([tel] if tel else []), kind="none")
    f.data |= {"signals": signals, "play": play}
    return f
