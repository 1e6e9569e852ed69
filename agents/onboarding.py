"""The onboarding agent: plan status, overdue and stalled milestones, blockers, next step, a follow-up draft."""

from __future__ import annotations

import re
import uuid
from typing import TypedDict, cast

from agents.context import Deps
from agents.kb import playbook
from agents.state import AccountRef, Draft, Finding
from prompts import load
from tools import crm, recall, records
from tools.results import MilestoneItem, Source

_KEYWORDS = {
    "sso": ["sso", "scim", "okta", "saml", "azure ad", "single sign", "login", "sign in", "identity"],
    "api": ["api key", "sandbox", "token", "credentials"],
    "security": ["security", "soc 2", "dpa", "review", "legal"],
    "production": ["production", "go-live", "launch", "use case"],
    "rollout": ["rollout", "training", "users", "adoption"],
    "kickoff": ["kickoff", "kick-off", "plan"],
}


def _words(milestone: str) -> list[str]:
    low = milestone.lower()
    for key, words in _KEYWORDS.items():
        if key in low or any(w in low for w in words):
            return words
    return [w for w in re.findall(r"[a-z]{4,}", low)]


class Blocker(TypedDict):
    """A ticket or note that may explain a stuck milestone: its text and its record."""

    text: str
    source: Source


def _blockers(deps: Deps, ctx: crm.ToolContext, aid: int, milestone: str) -> list[Blocker]:
    """Recent tickets and notes of this account about the milestone (memory search, else keywords)."""
    out: list[Blocker] = []
    mem = deps.memory
    if mem is not None:
        try:
            for h in recall.search(mem, f"{milestone} blocked failing problem", ctx.viewer, account_ids=[aid],
                                   k=3, as_of=ctx.as_of, collections=("accounts",)):
                if h.kind in ("ticket", "meeting", "note", "email", "call") and h.similarity >= 0.25:
                    out.append({"text": h.text.split("\n", 1)[-1][:240], "source": cast(Source, h.source)})
        except Exception:  # noqa: BLE001 - memory is optional; fall back to keywords
            out = []
    if out:
        return out[:2]
    words = _words(milestone)
    for t in records.open_tickets(ctx, aid):
        if any(w in f"{t.label} {t.body}".lower() for w in words):
            out.append({"text": f"{t.label}: {t.body}"[:240], "source": t.source})
    for n in records.notes(ctx, aid, days=90, limit=None, upto_today=False):
        if any(w in n.text.lower() for w in words):
            out.append({"text": n.text[:240], "source": n.source})
    return out[:2]


def run(deps: Deps, ctx: crm.ToolContext, account: AccountRef) -> Finding:
    """Onboarding findings for one account, with a drafted follow-up for the most overdue milestone."""
    f = Finding("onboarding", account)
    aid = account["account_id"]
    st = crm.onboarding_status(ctx, aid)
    if st["plan"] is None:
        f.fact(f"{account['name']} has no onboarding plan in the CRM", kind="no_plan")
        return f
    plan_src = st["sources"][0]
    done = sum(1 for m in st["milestones"] if m["completed"])
    f.fact(f"Onboarding plan '{st['plan']['name']}': {done} of {len(st['milestones'])} milestones done "
           f"({st['progress'] * 100:.0f}%), target {st['plan']['target']}", plan_src, kind="progress")
    stalled = [m for m in st["milestones"] if not m["completed"] and not m["overdue"] and m["status"] == "blocked"]
    worst = sorted(st["overdue"], key=lambda m: -m["days_overdue"])
    for m in worst:
        ms = crm.src("milestone", m["id"], m["due"], m["name"])
        f.fact(f"Overdue: {m['name']} was due {m['due']} ({m['days_overdue']} days overdue, {m['status']}, "
               f"owner {m['owner']})", ms, kind="overdue")
    for m in stalled:
        f.fact(f"Blocked: {m['name']} (due {m['due']}, owner {m['owner']})",
               crm.src("milestone", m["id"], m["due"], m["name"]), kind="blocked")
    if not worst and not stalled:
        nxt = st["next"]
        if nxt:
            f.fact(f"Next milestone: {nxt['name']}, due {nxt['due']}", crm.src("milestone", nxt["id"], nxt["due"],
                                                                           nxt["name"]), kind="next")
        else:
            f.fact("Every onboarding milestone is done", plan_src, kind="done")
        return f
    focus = (worst or stalled)[0]
    blockers = _blockers(deps, ctx, aid, focus["name"])
    for b in blockers:
        f.fact(f"Blocker ({b['source']['type']} {b['source']['date']}): {b['text']}", b["source"], kind="blocker")
    sso = any(w in focus["name"].lower() for w in ("sso", "scim"))
    play = "onboarding.md#sso-and-scim-blockers" if sso else "onboarding.md#stalled-milestones-how-to-follow-up"
    step = ("Book a 30-minute working session with their IdP admin and our solutions engineer, with the SAML "
            "trace and exact error; escalate to their sponsor if it stays blocked" if sso else
            f"Agree one concrete next step for '{focus['name']}' with an owner and a date, and offer help")
    f.recommend("Next step: " + step, playbook(play))
    f.drafts.append(_draft(ctx, aid, account["name"], focus, blockers, step))
    return f


def _draft(ctx: crm.ToolContext, aid: int, name: str, m: MilestoneItem, blockers: list[Blocker],
           step: str) -> Draft:
    contacts = records.contacts(ctx, aid, current=True)
    owner = records.owner_name(ctx, aid)
    first = m["owner"].split()[0] if m["owner"] else ""
    to = next((c for c in contacts if first and c.name.split()[0] == first), None) or \
        next((c for c in contacts if c.champion), None) or (contacts[0] if contacts else None)
    hello = to.name.split()[0] if to else "team"
    blocker = f" From our side we see: {blockers[0]['text'][:160].rstrip('.')}." if blockers else ""
    body = load("followup").format(hello=hello, milestone=m["name"], due=m["due"], days_overdue=m["days_overdue"],
                                   blocker=blocker, step=step[0].lower() + step[1:],
                                   sender=owner or "Your CSM")
    return {"id": uuid.uuid4().hex, "kind": "follow_up", "account_id": aid, "account": name,
            "milestone_id": m["id"], "milestone": m["name"], "to": to.name if to else "",
            "to_email": (to.email or "") if to else "", "subject": f"{name}: next step on {m['name']}",
            "body": body}
