"""A QBR deck's content for one account and quarter: slides from verified findings, each number cited.

The agents that answer "prep me for X's QBR" (health, renewal, needs, onboarding, tuning) run as
they do for an answer, with the QBR's own findings (`agents.qbr.sections`). Every bullet is a
finding's fact, every chart point is one too, and each slide's speaker notes list the facts it shows
with their records (type, id, date). A section without data gets no slide; the summary slide
says what was left out and why. Prose (summary, next steps) is `agents.qbr.summary`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from agents import health, needs, onboarding, renewal, tuning
from agents.context import Deps
from agents.qbr import sections, summary
from agents.qbr.summary import Cited
from agents.state import AccountRef, Finding, FindingDict, Item
from integrations.pptx_deck import ChartSpec, DeckSpec, SlideSpec
from tools import crm, qbr_data
from tools.context import Source
from tools.plain import plain

MAX_BULLETS = 6
NOTE_HEAD = "Sources (record type, id, date) for every number and quote on this slide:"


class DeckInfo(TypedDict):
    """What a deck was built from: the account, quarter, owner, how its prose was made, what was left out."""

    account: AccountRef
    quarter: str
    owner: str
    prose: str  # how the summary was written ("llm: verified", "deterministic: ...")
    missing: list[str]  # sections left out for lack of data, each with why
    findings: list[FindingDict]


def _cite(s: Source) -> str:
    label = f" ({s['label']})" if s.get("label") else ""
    return f"{s.get('type', '')} {s.get('id', '')}, {s.get('date') or 'undated'}{label}"


def _notes(lines: Sequence[Cited]) -> str:
    out = [NOTE_HEAD]
    for text, srcs in lines:
        out.append(f"\u2022 {text} \u2014 " + ("; ".join(_cite(s) for s in srcs) if srcs else "no record"))
    return "\n".join(out)


def _facts(f: FindingDict, kinds: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()) -> list[Item]:
    return [i for i in f["facts"] if (kinds is None or i["kind"] in kinds) and i["kind"] not in exclude]


def _cited(f: FindingDict, items: list[Item]) -> list[Cited]:
    return [(i["text"], [f["sources"][k].copy() for k in i["src"]]) for i in items]


def _slide(title: str, lines: list[Cited], charts: list[ChartSpec] | None = None,
           chart_lines: list[Cited] | None = None, footnote: str | None = None,
           table: list[list[str]] | None = None) -> SlideSpec:
    shown = lines[:MAX_BULLETS]
    spec: SlideSpec = {"layout": "content", "title": title, "bullets": [t for t, _ in shown], "charts": charts or [],
                       "notes": _notes(shown + [x for x in chart_lines or [] if x not in shown])}
    if footnote is not None:
        spec["footnote"] = footnote
    if table is not None:
        spec["table"] = table
    return spec


def _chart(kind: str, title: str, categories: list[str], series: dict[str, list[float]], fmt: str) -> ChartSpec:
    return {"kind": kind, "title": title, "categories": categories,  # type: ignore[typeddict-item]
            "series": [{"name": n, "values": v} for n, v in series.items()], "number_format": fmt}


def gather(deps: Deps, ctx: crm.ToolContext, account: AccountRef, q: qbr_data.Quarter) -> dict[str, FindingDict]:
    """Every finding the deck draws on, by agent."""
    out: dict[str, Finding] = {
        "health": health.run(deps, ctx, account), "renewal": renewal.run(deps, ctx, account),
        "needs": needs.run(deps, ctx, account), "onboarding": onboarding.run(deps, ctx, account),
        "tuning": tuning.run(deps, ctx, account), "qbr_usage": sections.usage(ctx, account, q),
        "qbr_models": sections.models(ctx, account, q), "qbr_support": sections.support(ctx, account, q),
        "qbr_sentiment": sections.sentiment(ctx, account, q)}
    meta = Finding("qbr_meta", account)
    meta.fact(f"Quarterly business review for {q.label} ({q.start} to {q.end}), data to {q.until}",
              *crm.account_overview(ctx, account["account_id"])["sources"][:1], kind="period")
    out["qbr_meta"] = meta
    return {k: plain(f.as_dict()) for k, f in out.items()}


def build(deps: Deps, who: str, name: str, quarter: str | None = None) -> tuple[DeckSpec, DeckInfo]:
    """The deck for the account `who` names (access checked), and what it was built from.

    Raises NotFoundError / AccessDenied / AmbiguousName for the account and QuarterError for the quarter,
    each one clear sentence, before anything is built.
    """
    ctx = deps.tool_context(who)
    q = qbr_data.quarter(quarter, ctx.as_of)
    hit = crm.find_account(ctx, name)
    account: AccountRef = {"account_id": hit["account_id"], "name": hit["name"]}
    owner = crm.account_overview(ctx, account["account_id"])["owner"] or "the account's CSM"
    fs = gather(deps, ctx, account, q)
    names = crm.live_account_names(ctx.store)
    recs = summary.recommendations(list(fs.values()))
    said, steps, method = summary.written(deps, account["name"], list(fs.values()), names)
    plan = plain(sections.next_steps(account, owner, steps or recs, ctx.as_of).as_dict())
    fs["qbr_plan"] = plan
    slides, missing = _slides(fs, q)
    deck: DeckSpec = {"title": f"{account['name']}: quarterly business review {q.label}", "slides": []}
    deck["slides"].append({"layout": "title", "title": f"{account['name']}\nQuarterly business review",
                           "subtitle": f"{q.label} \u00b7 prepared by {owner} \u00b7 {ctx.as_of}",
                           "notes": _notes(_cited(fs["qbr_meta"], fs["qbr_meta"]["facts"]))})
    gaps = "Not in this deck: " + "; ".join(missing) + "." if missing else ""
    deck["slides"].append(_slide("Executive summary", said, footnote=gaps))
    deck["slides"] += slides
    deck["slides"].append(_slide("Recommendations and next steps", [], table=[["Next step", "Owner", "By"]] + [
        [s["action"], s["owner"], s["due"]] for s in plan["data"].get("steps", [])],
        chart_lines=_cited(plan, plan["facts"])))
    deck["slides"] += _appendix(list(fs.values()))
    info: DeckInfo = {"account": account, "quarter": q.label, "owner": owner, "prose": method, "missing": missing,
            "findings": list(fs.values())}
    return deck, info


def _slides(fs: dict[str, FindingDict], q: qbr_data.Quarter) -> tuple[list[SlideSpec], list[str]]:
    """The body slides, in the order of a QBR, and the sections left out for lack of data."""
    out: list[SlideSpec] = []
    missing: list[str] = []
    goals = _facts(fs["needs"], ("goals", "use_cases", "success_criteria"))
    progress = _facts(fs["onboarding"], ("progress", "done"))
    if goals:
        out.append(_slide("Your goals and use cases", _cited(fs["needs"], goals) + _cited(fs["onboarding"], progress)))
    else:
        missing.append("goals and use cases (none recorded in the last year of notes)")
    u = fs["qbr_usage"]
    months = u["data"].get("months") or []
    if months:
        cats = [m["label"] for m in months]
        charts = [_chart("line", "Tokens (millions) and requests (thousands) by month", cats,
                         {"Tokens (M)": [m["tokens_m"] for m in months],
                          "Requests (K)": [m["requests_k"] for m in months]}, "#,##0.0"),
                  _chart("column", "Peak active seats by month", cats,
                         {"Active seats": [m["active_seats"] for m in months]}, "#,##0")]
        lines = _cited(u, _facts(u, ("change",)) + _facts(u, ("month",))[-3:])
        out.append(_slide(f"Adoption and usage, {q.label}", lines, charts, chart_lines=_cited(u, u["facts"])))
    else:
        missing.append("adoption and usage (no telemetry this quarter)")
    m = fs["qbr_models"]
    versions, tunes = m["data"].get("versions") or [], m["data"].get("fine_tunes") or []
    if versions or tunes:
        charts = []
        if versions:
            charts.append(_chart("column", "p95 latency (ms) by model version", [v["label"] for v in versions],
                                 {"p95 latency (ms)": [v["p95_ms"] for v in versions]}, "#,##0"))
        if tunes:
            charts.append(_chart("bar", "Fine-tune eval scores", [t["label"] for t in tunes],
                                 {"Eval score": [t["eval_score"] for t in tunes]}, "0.00"))
        detectors = _facts(fs["tuning"], exclude=("usage", "none"))
        lines = _cited(m, _facts(m, ("version",)) + _facts(m, ("fine_tune",))[:3]) + _cited(fs["tuning"], detectors)
        out.append(_slide("Model performance", lines, charts, chart_lines=_cited(m, m["facts"])))
    else:
        missing.append("model performance (no telemetry or fine-tunes this quarter)")
    s = fs["qbr_support"]
    if s["facts"]:
        bp = s["data"]["by_priority"]
        chart = _chart("column", f"Tickets opened in {q.label} by priority", [p.capitalize() for p in bp],
                       {"Tickets": [float(n) for n in bp.values()]}, "0")
        out.append(_slide("Support", _cited(s, s["facts"]), [chart]))
    else:
        missing.append("support (no tickets opened this quarter)")
    n = fs["qbr_sentiment"]
    if n["facts"]:
        rs = n["data"]["responses"]
        chart = _chart("line", "NPS answers over the last year", [r["date"] for r in rs],
                       {"NPS answer (0-10)": [float(r["score"]) for r in rs]}, "0")
        out.append(_slide("Sentiment", _cited(n, n["facts"][::-1]), [chart], chart_lines=_cited(n, n["facts"])))
    else:
        missing.append("sentiment (no NPS answers in the last year)")
    ob = fs["onboarding"]
    if not _facts(ob, ("no_plan",)):
        out.append(_slide("Onboarding and milestones", _cited(ob, ob["facts"])))
    else:
        missing.append("onboarding (no onboarding plan in the CRM)")
    h = fs["health"]
    drivers = [i for i in h["facts"] if i["kind"] == "driver"]
    charts = []
    if drivers:
        charts.append(_chart("bar", "Health points lost by driver", [_driver_name(i["text"]) for i in drivers],
                             {"Points": [_points(i["text"]) for i in drivers]}, "0"))
    out.append(_slide("Health and its drivers", _cited(h, _facts(h, ("score", "driver", "strength", "signal"))),
                      charts, chart_lines=_cited(h, drivers)))
    r = fs["renewal"]
    out.append(_slide("Renewal outlook and expansion", _cited(r, r["facts"])
                      + _cited(r, r["recommendations"][:2])))
    return out, missing


def _driver_name(text: str) -> str:
    return text.removeprefix("Driver: ").split(" (")[0][:40]


def _points(text: str) -> float:
    """The points a driver's fact says it costs ('(-12 points)'), as the chart's value."""
    return float(text.rsplit("(", 1)[1].split(" ")[0])


def _appendix(findings: list[FindingDict], per_slide: int = 14) -> list[SlideSpec]:
    """Every record the deck cites, numbered, as many slides as it takes."""
    seen: dict[tuple[str, str], Source] = {}
    for f in findings:
        for s in f["sources"]:
            seen.setdefault((str(s.get("type")), str(s.get("id"))), s.copy())
    rows = [f"[{k + 1}] {_cite(s)}" for k, s in enumerate(seen.values())]
    pages = [rows[i:i + per_slide] for i in range(0, len(rows), per_slide)] or [["No records were cited."]]
    return [{"layout": "content", "title": "Appendix: sources" + (f" ({k + 1}/{len(pages)})" if len(pages) > 1 else ""),
             "bullets": p, "charts": [], "notes": "Every record this deck's numbers and quotes come from."}
            for k, p in enumerate(pages)]
