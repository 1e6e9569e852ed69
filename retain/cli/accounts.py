"""`retain accounts`, `retain account`, `retain csms`: the portfolio in the terminal."""

from __future__ import annotations

from typing import Any

import typer
from rich.panel import Panel
from rich.text import Text

from core import figures
from retain.cli.common import (
    BAND_STYLE,
    Band,
    DataTable,
    Segment,
    _esc,
    _print_json,
    app,
    console,
    services,
    state,
)


@app.command("accounts")
def accounts_cmd(
    csm: str | None = typer.Option(None, "--csm", help="Only this CSM's accounts."),
    band: Band | None = typer.Option(None, "--band"),
    segment: Segment | None = typer.Option(None, "--segment"),
    renewal_days: int | None = typer.Option(None, "--renewal-days", min=0, help="Renewing within N days."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The portfolio you may see, worst health first."""
    from tools.crm import portfolio

    ctx = services().tool_context(state.who)
    data = portfolio(ctx, csm=csm, band=band.value if band else None,
                     segment=segment.value if segment else None, renewal_within_days=renewal_days,
                     limit=limit)
    if as_json:
        _print_json(data)
        return
    if not data["accounts"] and not (csm or band or segment or renewal_days is not None):
        console.print(f"No accounts to show for {_esc(ctx.viewer.name)} (as of {ctx.as_of}). Import them with "
                      "`retain import file --kind accounts FILE`, or ask an admin which are yours.")
        return
    shown = len(data["accounts"])
    more = f", showing {shown} of {data['count']} (--limit)" if shown < data["count"] else ""
    table = DataTable(title=f"{data['count']} accounts{more} ({ctx.viewer.name}, as of {ctx.as_of})")
    for col, just in [("account", "left"), ("owner", "left"), ("health", "right"), ("trend", "right"),
                      ("segment", "left"), ("ARR", "right"), ("renewal", "left"), ("P(renew)", "right")]:
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in data["accounts"]:
        trend, days = r["trend"], r["days_to_renewal"]
        table.add_row(
            r["name"], r["owner"] or "", Text(f"{figures.score(r['score'])} {r['band']}", style=BAND_STYLE[r["band"]]),
            "" if trend is None else f"{trend:+.1f}", r["segment"], f"${r['arr']:,.0f}",
            f"{r['renewal_date']} ({int(days)}d)" if r["renewal_date"] and days is not None else "",
            "" if r["p_renew"] is None else f"{r['p_renew']:.2f}")
    console.print(table)


@app.command("account")
def account_cmd(
    name: str = typer.Argument(..., help="Account name (typos are fine)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    brief: bool = typer.Option(False, "--brief", help="Only the headline and drivers."),
) -> None:
    """One account: health with drivers, renewal outlook, onboarding, model performance, tickets."""
    from tools import crm

    ctx = services().tool_context(state.who)
    acct = crm.find_account(ctx, name)
    aid = acct["account_id"]
    data = {
        "overview": crm.account_overview(ctx, aid), "health": crm.health_breakdown(ctx, aid),
        "renewal": crm.renewal_outlook(ctx, aid), "onboarding": crm.onboarding_status(ctx, aid),
        "performance": crm.model_performance(ctx, aid), "tickets": crm.list_tickets(ctx, aid),
        "nps": crm.nps_summary(ctx, aid),
    }
    if as_json:
        _print_json(data)
        return
    _render_account(data, brief)


def _render_account(raw: dict[str, Any], brief: bool) -> None:
    d = _esc(raw)  # for the markup lines; tables take the raw data (DataTable shows it as is)
    ov, h, rn = d["overview"], d["health"], d["renewal"]
    trend = "" if h["trend"] is None else f", {h['trend']:+.1f} vs 30 days ago"
    p = f" · P(renew) {rn['p_renew']:.2f}" if rn["p_renew"] is not None else ""
    head = (f"[{BAND_STYLE[h['band']]}]Health {figures.score(h['score'])} ({h['band']}){trend}[/] · "
            f"{ov['segment']} · ARR ${ov['arr']:,.0f} · owner {ov['owner']} · "
            f"renews {ov['renewal_date']} ({int(ov['days_to_renewal'] or 0)}d){p} · {rn['segment']}: "
            f"{rn['segment_reason']}")
    lines = [head, ""]
    lines += ["[bold]Drivers[/]"] + [f"  [red]▼[/] {x['text']} (-{x['points_lost']:.0f} pts)"
                                     for x in h["drivers"]] or ["  none"]
    lines += [f"  [green]▲[/] {x['text']}" for x in h["strengths"][:3]]
    alerts = d["performance"]["findings"]
    if alerts:
        lines += ["", "[bold]Telemetry alerts[/]"] + [f"  ! {a['text']}" for a in alerts]
    ob = d["onboarding"]
    if ob["plan"] and ob["overdue"]:
        lines += ["", f"[bold]Onboarding[/] {ob['progress'] * 100:.0f}% complete"]
        lines += [f"  overdue: {m['name']} (due {m['due']}, {m['days_overdue']} days, {m['status']})"
                  for m in ob["overdue"]]
    console.print(Panel("\n".join(lines), title=f"[bold]{ov['name']}[/]", expand=False))
    if brief:
        return
    comp = DataTable(title="Health components")
    for c in ("component", "weight", "value", "points"):
        comp.add_column(c, justify="left" if c == "component" else "right")
    for c in raw["health"]["components"]:
        comp.add_row(c["label"], f"{c['weight']:.0f}", "n/a" if c["value"] is None else f"{c['value']:.2f}",
                     f"{c['points']:.1f}")
    console.print(comp)
    if raw["tickets"]["tickets"]:
        tk = DataTable(title="Open tickets")
        for c in ("opened", "priority", "subject"):
            tk.add_column(c)
        for t in raw["tickets"]["tickets"]:
            tk.add_row(t["opened"], t["priority"], t["subject"])
        console.print(tk)
    latest = d["nps"]["latest"]
    if latest:
        console.print(f"Latest NPS: {latest['score']} ({latest['category']}) on {latest['date']}: "
                      f"“{latest['comment']}”")


csms_app = typer.Typer(help="The people who use Retain: list, add, import, deactivate.", invoke_without_command=True)
app.add_typer(csms_app, name="csms")


@csms_app.callback()
def csms_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """The people who use Retain, with their role, team and Slack user id (`retain csms`)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from integrations.crm.models import CSM

    with services().store.session() as s:
        rows = [{"name": c.name, "email": c.email, "role": c.role, "team": c.team,
                 "slack_user_id": c.slack_user_id, "active": c.active}
                for c in s.scalars(select(CSM).order_by(CSM.id))]
    if as_json:
        _print_json(rows)
        return
    table = DataTable(title="CSMs")
    for c in ("name", "email", "role", "team", "slack_user_id", "active"):
        table.add_column(c)
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in ("name", "email", "role", "team", "slack_user_id")),
                      "yes" if r["active"] else Text("no", style="dim"))
    console.print(table)


@csms_app.command("add")
def csms_add(
    email: str = typer.Argument(..., help="Work email (the key: adding again updates)."),
    name: str | None = typer.Option(None, "--name", help="Needed for someone new."),
    role: str | None = typer.Option(None, "--role", help="csm (new people's default), manager or admin."),
    team: str | None = typer.Option(None, "--team"),
    manager: str | None = typer.Option(None, "--manager", help="The manager's email."),
    slack: str | None = typer.Option(None, "--slack", help="Slack member id (U…), to answer them in Slack."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA zone for their briefings (new: UTC)."),
) -> None:
    """Add one person, or update the options given for someone known (the rest stay as they are)."""
    from tools import people

    options = {"name": name, "role": role, "team": team, "manager_email": manager, "slack_user_id": slack,
               "timezone": timezone}
    given = {k for k, v in options.items() if v is not None}
    person = people.Person(name=name or "", email=email, role=role or "csm", team=team, manager_email=manager,
                           slack_user_id=slack, timezone=timezone or "UTC")
    what = people.add(services().store, person, given)
    console.print(f"{_esc(email)}: {what}.")


@csms_app.command("import")
def csms_import(path: str = typer.Argument(..., help="CSV: name,email,role,team,manager_email,slack_user_id,"
                                                     "timezone"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Add or update people from a CSV, all or nothing (a bad row names its line; nothing is written)."""
    from pathlib import Path

    from tools import people

    data = people.import_csv(services().store, Path(path))
    if as_json:
        _print_json(data)
        return
    console.print(f"{data['rows']} rows: {data['added']} added, {data['updated']} updated, "
                  f"{data['unchanged']} unchanged.")
    if data.get("cleared"):
        shown = ", ".join(f"{c} ({n})" for c, n in sorted(data["cleared"].items()))
        console.print(f"  cleared by blank cells: {_esc(shown)}")
    for line, why in data.get("warnings", [])[:20]:
        console.print(f"  warning, line {line}: {_esc(why)} (imported; check it is the name you mean)")


@csms_app.command("deactivate")
def csms_deactivate(email: str = typer.Argument(...),
                    reassign_to: str | None = typer.Option(None, "--reassign-to",
                                                           help="Hand their accounts to this person.")) -> None:
    """Stop a person acting in Retain (history kept); optionally hand their accounts on."""
    from tools import people

    data = people.deactivate(services().store, email, reassign_to)
    extra = f"; {data['accounts_moved']} accounts moved to {_esc(reassign_to or '')}" if reassign_to else ""
    still = f"; {data['accounts_still_owned']} accounts still owned by them" if data["accounts_still_owned"] else ""
    console.print(f"{_esc(data['email'])} deactivated{extra}{still}.")


# ---------------------------------------------------------------- model


@app.command("scores")
def scores_cmd(
    refresh: bool = typer.Option(False, "--refresh", help="Forget stored scores first (after writing the "
                                                          "database outside Retain)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score the portfolio for today (once per data change) and keep it for every process."""
    import time

    from tools import scores
    from tools.access import OPERATOR

    rt = services()
    cleared = scores.clear(rt.store) if refresh else 0
    ctx = rt.tool_context(OPERATOR)
    start = time.perf_counter()
    with console.status("Scoring the portfolio…"):
        health = rt.scores.get(ctx)
    bands = health.table.band.value_counts().to_dict()
    data: dict[str, Any] = {"as_of": ctx.as_of.isoformat(), "data_version": rt.store.data_version(),
            "accounts": len(health.features), "computed": bool(rt.scores.computed), "cleared": cleared,
            "seconds": round(time.perf_counter() - start, 2),
            "bands": {b: int(bands.get(b, 0)) for b in ("green", "yellow", "red")}}
    if as_json:
        _print_json(data)
        return
    table = DataTable(title=f"Scores as of {data['as_of']} (data version {data['data_version']})")
    for col in ("accounts", "green", "yellow", "red", "source", "seconds"):
        table.add_column(col, justify="right")
    table.add_row(f"{data['accounts']:,}", *(Text(str(data["bands"][b]), style=BAND_STYLE[b])
                                              for b in ("green", "yellow", "red")),
                  "computed now" if data["computed"] else "stored", str(data["seconds"]))
    console.print(table)


@app.command("feedback")
def feedback_cmd(
    since: str | None = typer.Option(None, "--since", help="Only clicks from this day on (YYYY-MM-DD)."),
    export_eval: str | None = typer.Option(None, "--export-eval",
                                           help="Write thumbs-down answers to this YAML file as eval candidates."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Thumbs up and down from Slack on answers and briefings (one vote per person per message), newest first."""
    from datetime import date
    from pathlib import Path

    import yaml

    from core.errors import RetainError
    from tools import feedback

    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise RetainError(f"--since '{since}' is not a date; use YYYY-MM-DD.") from None
    rows = feedback.listing(services().store, day, services().asker(state.who))
    if export_eval:
        cases = feedback.eval_candidates(rows)
        Path(export_eval).write_text(yaml.safe_dump({"candidates": cases}, sort_keys=False, allow_unicode=True))
        console.print(f"{len(cases)} thumbs-down answers written to {_esc(export_eval)} for labelling "
                      "(fill what_was_wrong, expected_route and facts, then move them into tests/eval).")
        return
    if as_json:
        _print_json(rows)
        return
    good = sum(r["value"] == "good" for r in rows)
    table = DataTable(title=f"Feedback: {good} 👍, {len(rows) - good} 👎")
    for col in ("when", "", "kind", "voter", "asker", "question", "route"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["at"].replace("T", " "), "👍" if r["value"] == "good" else "👎", r["kind"], r["voter"] or "",
                      r["asker"] or "", (r["question"] or "")[:80],
                      ", ".join((r.get("route") or {}).get("intents") or []))
    console.print(table)
