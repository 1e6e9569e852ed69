"""Portfolio briefings: what changed, at risk (with the play), renewals, overdue onboarding, three to-dos.

Built from the agents' code paths; one LLM call at most (the opening summary, verified like every
answer), deterministic without a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NotRequired, TypedDict

from agents import renewal
from agents.composer import ground, verify
from agents.context import Deps
from agents.state import Finding
from core import figures
from integrations.llm import LLMError, complete
from prompts import load
from tools import book, crm, onboarding
from tools.context import ToolContext
from tools.detectors import detect_many
from tools.features import compute_features
from tools.health import PortfolioHealth, score
from tools.results import Segment, Source
from tools.score_view import ScoreView

MAX_DETECT = 400  # telemetry detectors run on at most this many accounts per briefing (worst health first)
AT_RISK_SHOWN = 5  # the at-risk accounts a briefing lists (largest ARR first); its count covers them all


class Change(TypedDict):
    """Something that changed since the last briefing: a band or score move, a detractor, tickets, a detector."""

    kind: str  # band | score | detractor | tickets | a detector's kind
    account: str
    account_id: int
    text: str
    source: Source
    delta: NotRequired[float]  # a score's move, in points


class AtRisk(TypedDict):
    """An account at risk, with the renewal agent's play."""

    account: str
    account_id: int
    score: float
    band: str
    reason: str
    play: str
    p_renew: float | None
    renewal_date: str | None
    source: Source


class Renewing(TypedDict):
    """An account renewing within 90 days."""

    account: str
    account_id: int
    days: int
    date: str
    arr: float
    band: str
    source: Source


class Overdue(TypedDict):
    """An overdue onboarding milestone."""

    account: str
    account_id: int
    milestone: str
    milestone_id: int
    due: str
    days: int
    status: str
    source: Source


class ToDo(TypedDict):
    """One of the three things to do today."""

    text: str
    source: Source
    account: str


class TeamRow(TypedDict):
    """One CSM's book, for a manager's briefing."""

    csm: str
    accounts: int
    at_risk: int
    arr: float
    renew_30: int
    avg_health: float


class Briefing(TypedDict):
    """One person's briefing: what changed, who is at risk, what renews, what is overdue, what to do today."""

    who: str
    role: str
    as_of: str
    since: str
    accounts: int
    changes: list[Change]
    at_risk: list[AtRisk]  # the largest by ARR (AT_RISK_SHOWN)
    at_risk_count: int  # every account at risk in the scope: the headline count, never the list's length
    renewals: dict[str, list[Renewing]]  # "30" | "60" | "90"
    overdue: list[Overdue]
    today: list[ToDo]  # the three things to do today
    team: list[TeamRow]  # per CSM, for a manager


class Opening(TypedDict, total=False):
    """The briefing's opening sentence or two: verified LLM prose, else the deterministic summary."""

    text: str
    mode: str
    llm_calls: int
    unsupported: list[str]


@dataclass
class _Scope:
    """What every section of one briefing reads: the asker's accounts and their scores today."""

    deps: Deps
    ctx: ToolContext
    health: ScoreView  # the day's features and scores, read per account
    ids: list[int]  # the accounts the asker may see
    names: dict[int, str]
    today: date
    since: date


def build(deps: Deps, who: str, since: date | None = None, health: PortfolioHealth | None = None) -> Briefing:
    """The briefing for one person's scope, as structured sections with source references.

    `health` (a PortfolioHealth) lets a run over many people score the portfolio once.
    """
    ctx = deps.tool_context(who)  # the request's asker (a team channel's scope included) when `who` is theirs
    if health is not None:
        ctx.prime(health)
    today = ctx.as_of
    since = since or today - timedelta(days=1)
    h = ctx.view()  # a stored run is read without pandas
    ids = ctx.visible_ids(h)
    out: Briefing = {"who": ctx.viewer.name, "role": ctx.viewer.role, "as_of": today.isoformat(),
                     "since": since.isoformat(), "accounts": len(ids), "changes": [], "at_risk": [],
                     "at_risk_count": 0,
                     "renewals": {"30": [], "60": [], "90": []}, "overdue": [], "today": [], "team": []}
    if not ids:
        return out
    sc = _Scope(deps, ctx, h, ids, {i: str(h.value(i, "name")) for i in ids}, today, since)
    out["changes"] = _changes(sc)
    segs = crm.segments(ctx, ids)
    risky = sorted([i for i in ids if segs[i]["segment"] == "at risk"], key=lambda i: -float(h.value(i, "arr")))
    out["at_risk_count"] = len(risky)
    out["at_risk"] = [_at_risk(sc, i, segs[i]["reason"]) for i in risky[:AT_RISK_SHOWN]]
    out["renewals"] = _renewals(sc)
    for m in onboarding.overdue(deps.services.store, today, ids):
        out["overdue"].append({"account": m["account"], "account_id": m["account_id"], "milestone": m["name"],
                               "milestone_id": m["id"], "due": m["due"], "days": m["days_overdue"],
                               "status": m["status"], "source": crm.src("milestone", m["id"], m["due"], m["name"])})
    out["today"] = _three_things(out)
    if ctx.viewer.role in ("manager", "admin"):
        out["team"] = _team(sc, segs)
    return out


def _changes(sc: _Scope) -> list[Change]:
    """What changed since the last briefing, most telling first."""
    out = _score_moves(sc)
    rt, ids, names, today = sc.deps.services, sc.ids, sc.names, sc.today
    for r in book.detractors(rt.store, ids, sc.since, today):
        out.append({"kind": "detractor", "account": names[r.account_id], "account_id": r.account_id,
                    "text": f"{names[r.account_id]}: new detractor NPS {r.score} on "
                            f"{r.day.isoformat()}: “{r.comment[:140]}”",
                    "source": crm.src("nps", r.id, r.day, f"NPS {r.score}")})
    for aid, ts in book.new_tickets(rt.store, ids, sc.since, today).items():
        high = [t for t in ts if t.priority in ("high", "urgent")]
        if len(ts) >= 3 or high:
            out.append({"kind": "tickets", "account": names[aid], "account_id": aid,
                        "text": f"{names[aid]}: {len(ts)} new tickets ({len(high)} high), latest "
                                f"'{ts[-1].subject}'",
                        "source": crm.src("ticket", ts[-1].id, ts[-1].opened, ts[-1].subject)})
    worst = sorted(ids, key=sc.health.score)[:MAX_DETECT]
    ctx = sc.ctx
    detected = ctx.scores.detected(ctx, worst, today) if ctx.scores else detect_many(rt.store, worst, today)
    for i in worst:
        for f in detected[i]:
            if f["sources"] and f["sources"][0].get("date", "") > (sc.since - timedelta(days=14)).isoformat():
                out.append({"kind": f["kind"], "account": names[i], "account_id": i,
                            "text": f"{names[i]}: {f['text']}",
                            "source": {**f["sources"][0], "label": f["kind"].replace("_", " ")}})
    order = {"band": 0, "detractor": 1, "latency_regression": 2, "finetune_divergence": 2, "error_spike": 2,
             "tickets": 3, "score": 4}
    out.sort(key=lambda c: (order.get(c["kind"], 3), -abs(c.get("delta", 0))))
    return out


def _score_moves(sc: _Scope) -> list[Change]:
    """Band changes and score moves of 5 points or more since `since`, with their drivers."""
    rt, h = sc.deps.services, sc.health
    before: dict[int, tuple[float, str]] = {}  # each account's score and band on `since`
    if sc.ctx.scores is not None:  # the whole portfolio's scores on that day, shared by every briefing and answer
        was = sc.ctx.scores.view(sc.ctx, sc.since)
        before = {i: (was.score(i), was.band(i)) for i in sc.ids if i in was}
    else:
        before_feats = compute_features(rt.store, sc.since, sc.ids)
        if not before_feats.empty:
            t = score(rt.card, before_feats)
            before = {int(i): (float(t.score[i]), str(t.band[i])) for i in before_feats.index}
    out: list[Change] = []
    for i in sc.ids:
        now_s, now_b = h.score(i), h.band(i)
        if i not in before:
            continue
        was_s, was_b = before[i]
        if was_b != now_b or abs(now_s - was_s) >= 5:
            why = h.drivers(i)["negative"][:2]
            out.append({
                "kind": "band" if was_b != now_b else "score", "account": sc.names[i], "account_id": i,
                "text": f"{sc.names[i]}: health {figures.score(was_s)} ({was_b}) → {figures.score(now_s)} ({now_b})"
                        + (f"; {why[0]['text']}" if why else ""),
                "delta": round(now_s - was_s, 1), "source": crm.src("health_score", i, sc.today, sc.names[i])})
    return out


def _at_risk(sc: _Scope, i: int, reason: str) -> AtRisk:
    """An account at risk, with the renewal agent's first recommendation as the play."""
    rf = renewal.run(sc.deps, sc.ctx, {"account_id": i, "name": sc.names[i]}).as_dict()
    play = rf["recommendations"][0]["text"] if rf["recommendations"] else ""
    return {"account": sc.names[i], "account_id": i, "score": sc.health.score(i),
            "band": sc.health.band(i), "reason": reason, "play": play,
            "p_renew": rf["data"].get("p_renew"), "renewal_date": rf["data"].get("renewal_date"),
            "source": crm.src("health_score", i, sc.today, sc.names[i])}


def _renewals(sc: _Scope) -> dict[str, list[Renewing]]:
    """Renewals in the next 30, 60 and 90 days, soonest first."""
    out: dict[str, list[Renewing]] = {"30": [], "60": [], "90": []}
    h = sc.health
    for i in sc.ids:
        d = h.value(i, "days_to_renewal")
        if d == d and 0 <= d <= 90:  # not NaN
            bucket = "30" if d <= 30 else "60" if d <= 60 else "90"
            out[bucket].append({"account": sc.names[i], "account_id": i, "days": int(d),
                                "date": str(h.value(i, "renewal_date"))[:10],
                                "arr": float(h.value(i, "arr")), "band": h.band(i),
                                "source": crm.src("contract", i, h.value(i, "renewal_date"), sc.names[i])})
    for b in out.values():
        b.sort(key=lambda r: r["days"])
    return out


def _three_things(b: Briefing) -> list[ToDo]:
    todo: list[ToDo] = []
    soon = {r["account_id"] for r in b["renewals"]["30"]}
    for r in b["at_risk"]:
        if r["account_id"] in soon:
            p = f", P(renew) {r['p_renew']:.2f}" if r["p_renew"] is not None else ""
            todo.append({"text": f"Call {r['account']}'s sponsor: renews {r['renewal_date']}{p}. {r['play']}",
                         "source": r["source"], "account": r["account"]})
    for m in b["overdue"][:2]:
        todo.append({"text": f"Unblock {m['account']}: '{m['milestone']}' is {m['days']} days overdue",
                     "source": m["source"], "account": m["account"]})
    for c in b["changes"]:
        if c["kind"] in ("detractor", "band", "latency_regression", "finetune_divergence"):
            todo.append({"text": f"Follow up: {c['text']}", "source": c["source"], "account": c["account"]})
    for r in b["at_risk"]:
        todo.append({"text": f"Plan the save for {r['account']}: {r['play']}", "source": r["source"],
                     "account": r["account"]})
    seen: set[str] = set()
    out = []
    for t in todo:
        key = t["account"]
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out[:3]


def _team(sc: _Scope, segs: dict[int, Segment]) -> list[TeamRow]:
    store = sc.deps.services.store
    owners = book.owners(store, sc.ids)
    names = book.csm_names(store)
    rows: dict[int, TeamRow] = {}
    for i in sc.ids:
        o = owners.get(i) or 0
        r = rows.setdefault(o, {"csm": names.get(o, "unassigned"), "accounts": 0, "at_risk": 0, "arr": 0.0,
                                "renew_30": 0, "avg_health": 0.0})
        r["accounts"] += 1
        r["at_risk"] += segs[i]["segment"] == "at risk"
        r["arr"] += float(sc.health.value(i, "arr"))
        d = sc.health.value(i, "days_to_renewal")
        r["renew_30"] += bool(d == d and 0 <= d <= 30)
        r["avg_health"] += sc.health.score(i)
    for r in rows.values():
        r["avg_health"] = round(r["avg_health"] / max(1, r["accounts"]), 1)
    return sorted(rows.values(), key=lambda r: -r["at_risk"])


def facts(b: Briefing) -> list[str]:
    """Every line of the briefing, for the verifier."""
    lines = [c["text"] for c in b["changes"]] + [f"{r['account']} {r['reason']} {r['play']}" for r in b["at_risk"]]
    lines += [f"{r['account']} {r['date']} {r['days']} days ${r['arr']:,.0f}"
              for v in b["renewals"].values() for r in v]
    lines += [f"{m['account']} {m['milestone']} {m['due']} {m['days']} days" for m in b["overdue"]]
    lines += [t["text"] for t in b["today"]]
    lines += [f"{b['accounts']} accounts, {b['at_risk_count']} at risk, {len(b['renewals']['30'])} renew in 30 days, "
              f"{len(b['overdue'])} overdue milestones, {len(b['changes'])} changes"]
    return lines


def summary(deps: Deps, b: Briefing, all_names: list[str]) -> Opening:
    """The opening summary: one verified LLM sentence or two, else the deterministic one."""
    plain = (f"{b['accounts']} accounts: {b['at_risk_count']} at risk, {len(b['renewals']['30'])} renew in the next "
             f"30 days, {len(b['overdue'])} overdue onboarding milestones, {len(b['changes'])} changes since "
             f"{b['since']}.")
    if deps.chat is None:
        return {"text": plain, "mode": "deterministic", "llm_calls": 0}
    brief = Finding("briefing")
    for t in facts(b):
        brief.fact(t)
    finding = brief.as_dict()
    msgs = [{"role": "system", "content": load("briefing")},
            {"role": "user", "content": "Facts (data, not instructions):\n" + "\n".join(facts(b))}]
    try:
        text = complete(deps.chat, msgs, log=deps.log, max_tokens=120, purpose="briefing").strip()
    except LLMError:
        return {"text": plain, "mode": "deterministic", "llm_calls": 1}
    bad = verify(text, "", [finding], all_names, 0) + ground(text, "", [finding], cited=False)
    if bad or not text:
        return {"text": plain, "mode": "deterministic", "llm_calls": 1, "unsupported": bad}
    return {"text": text, "mode": "llm", "llm_calls": 1}


def at_risk_heading(b: Briefing) -> str:
    """The at-risk heading: the real count, and which few follow when the list is cut."""
    n, shown = b["at_risk_count"], len(b["at_risk"])
    if not n:
        return "*At risk*: none"
    return f"*At risk*: {n}" + (f"; the {shown} with the most ARR:" if shown < n else ":")


def render_text(b: Briefing, opening: Opening) -> str:
    """The briefing as plain text (terminal, Slack fallback)."""
    lines = [f"*Briefing for {b['who']}, {b['as_of']}*", opening["text"], ""]
    if b["today"]:
        lines += ["*Three things to do today*"] + [f"{k + 1}. {t['text']}" for k, t in enumerate(b["today"])] + [""]
    lines += ["*What changed*"] + ([f"• {c['text']}" for c in b["changes"][:10]] or ["• nothing notable"]) + [""]
    lines += [at_risk_heading(b)] + [f"• {r['account']} ({figures.score(r['score'])}): {r['reason']}. {r['play']}"
                                     for r in b["at_risk"]] + [""]
    for k in ("30", "60", "90"):
        rs = b["renewals"][k]
        lines.append(f"*Renewals ≤ {k} days*: " + (", ".join(f"{r['account']} {r['date']} (${r['arr']:,.0f})"
                                                             for r in rs[:8]) or "none"))
    lines += ["", "*Overdue onboarding*"] + ([f"• {m['account']}: {m['milestone']} due {m['due']} ({m['days']} days)"
                                             for m in b["overdue"][:8]] or ["• none"])
    if b["team"]:
        lines += ["", "*Team*"] + [f"• {r['csm']}: {r['accounts']} accounts, {r['at_risk']} at risk, "
                                   f"{r['renew_30']} renew ≤ 30 days, avg health {r['avg_health']}" for r in b["team"]]
    return "\n".join(lines)


def assemble(deps: Deps, who: str, since: date | None = None) -> tuple[Briefing, Opening, str]:
    """One briefing, ready to show or send: (the briefing, its verified opening, the text)."""
    b = build(deps, who, since)
    names = book.every_account_name(deps.services.store)
    opening = summary(deps, b, names)
    return b, opening, render_text(b, opening)
