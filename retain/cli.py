"""The `retain` command line."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from retain.errors import AccessDenied, RetainError, mask_secrets
from retain.runtime import Runtime
from retain.settings import load_settings
from tools.access import OPERATOR

# typer bundles its own click; its usage errors derive from this ClickException.
TyperClickException: type[click.ClickException] = typer.BadParameter.__mro__[2]

app = typer.Typer(help="Retain: a self-hosted, multi-agent customer-success assistant.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
demo_app = typer.Typer(help="The demo portfolio.", no_args_is_help=True)
model_app = typer.Typer(help="The renewal-risk model.", no_args_is_help=True)
import_app = typer.Typer(help="Import records from a real CRM.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(model_app, name="model")
app.add_typer(import_app, name="import")
models_app = typer.Typer(help="The local GGUF models.", no_args_is_help=True)
memory_app = typer.Typer(help="Retain's memory (Chroma): notes, playbooks, remembered facts.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(memory_app, name="memory")

console = Console()


class Band(StrEnum):
    """Health bands."""

    red = "red"
    yellow = "yellow"
    green = "green"


class Segment(StrEnum):
    """Planning segments."""

    at_risk = "at risk"
    growth = "growth potential"
    high_value = "high-value"
    healthy = "healthy"


class Kind(StrEnum):
    """Importable record kinds."""

    accounts = "accounts"
    contacts = "contacts"
    contracts = "contracts"
    tickets = "tickets"
    notes = "notes"
    nps = "nps"

BAND_STYLE = {"green": "green", "yellow": "yellow", "red": "bold red"}


class DataTable(Table):
    """A table whose string cells are data: shown as they are, never read as rich markup."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        """Add a row; strings become plain Text (CRM text like `[/v1/completions]` is not markup)."""
        super().add_row(*(Text(c) if isinstance(c, str) else c for c in renderables), **kwargs)


def _esc(obj: Any) -> Any:
    """CRM or user data escaped for rich markup, recursively (dict keys are left alone)."""
    if isinstance(obj, str):
        return escape(obj)
    if isinstance(obj, dict):
        return {k: _esc(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_esc(v) for v in obj]
    return obj


class _State:
    config: str | None = None
    who: str | None = None
    runtime: Runtime | None = None


state = _State()


def runtime() -> Runtime:
    """The runtime for this invocation, built from the settings on first use."""
    if state.runtime is None:
        state.runtime = Runtime(load_settings(state.config))
    return state.runtime


@app.callback()
def _main(
    config: str | None = typer.Option(None, "--config", help="A YAML settings file."),
    who: str | None = typer.Option(None, "--as", help="Act as this CSM (email, Slack id or name)."),
) -> None:
    state.config = config
    state.who = who


def _who() -> str:
    """Who this invocation acts as: --as, else settings.cli_user, else the operator's admin view."""
    return state.who or runtime().settings.cli_user or OPERATOR


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=False)


# ---------------------------------------------------------------- demo
@demo_app.command("seed")
def demo_seed(
    accounts: int = typer.Option(150, "--accounts", min=9, max=200_000, help="How many live accounts."),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same portfolio."),
    csms: int = typer.Option(6, "--csms", min=2, max=2000, help="How many CSMs."),
) -> None:
    """Replace the CRM with a deterministic demo portfolio, fit the renewal model and score it."""
    from retain import demo
    from tools import renewal_model
    from tools.health import save_snapshots, score_portfolio

    rt = runtime()
    as_of = rt.settings.as_of()
    with _progress() as bar:
        task = bar.add_task("Generating portfolio", total=1.0)
        pf = demo.generate(accounts, seed, as_of, csms,
                           progress=lambda stage, f: bar.update(task, completed=f * 0.6,
                                                                description=f"Generating {stage}"))
        counts = demo.write(rt.store, pf, progress=lambda stage, f: bar.update(
            task, completed=0.6 + (f - 0.9) * 3, description=f"Writing {stage}"))
        bar.update(task, description="Fitting renewal model", completed=0.93)
        try:
            model = renewal_model.fit(rt.store, rt.card)
            renewal_model.save(model, rt.model_file)
        except renewal_model.ThinHistory as exc:
            rt.model_file.unlink(missing_ok=True)
            console.print(f"[yellow]{escape(str(exc))}[/]")
        bar.update(task, description="Scoring accounts", completed=0.96)
        health = score_portfolio(rt.store, rt.card, as_of)
        save_snapshots(rt.store, health)
        bar.update(task, description="Done", completed=1.0)
    table = DataTable(title=f"Demo portfolio as of {as_of} (seed {seed})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


@demo_app.command("run")
def demo_run(
    accounts: int = typer.Option(150, "--accounts", min=9, max=200_000),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Retain's main job end to end on the embedded defaults: seed, sync memory, answer, brief, follow up."""
    demo_seed(accounts=accounts, seed=seed, csms=6)
    accounts_cmd(csm=None, band=None, segment=None, renewal_days=None, limit=15, as_json=False)
    rt = runtime()
    console.rule("Memory")
    try:
        with _progress() as bar:
            _sync_table(rt.memory.sync(_memory_progress(bar)))
    except RetainError as exc:
        console.print(f"[yellow]Memory skipped:[/] {escape(str(exc))}")
    console.rule("Questions CSMs ask (story arcs)")
    a = _assistant()
    if a.chat is None:
        console.print("[dim]No chat model present: answers are the verified findings (run `retain models pull` "
                      "for LLM prose).[/]")
    for who, q in [("dana.reyes@retain.example", "why did Globex's latency go up?"),
                   ("dana.reyes@retain.example", "prep me for Initech's QBR"),
                   ("marcus.chen@retain.example", "how is Wayne Media doing?"),
                   ("sam.okafor@retain.example", "what happened to Umbrella's fine-tune?"),
                   ("dana.reyes@retain.example", "which of my renewals this quarter are at risk?")]:
        console.print(f"[bold]{who.split('@')[0].replace('.', ' ').title()}:[/] {q}")
        _show(a.ask(q, who, f"demo:{q}"), False)
    console.rule("Today's briefing")
    brief_cmd(csm="dana.reyes@retain.example", since=None, dry_run=True, deterministic=a.chat is None,
              as_json=False)
    console.rule("Pending onboarding follow-ups")
    from integrations.scheduler import load_schedules
    from tools import crm

    ctx = rt.tool_context()
    t = DataTable(title="Overdue or stalled milestones the hourly sweep drafts follow-ups for (approve in Slack)")
    for c in ("account", "owner", "milestone", "due", "days overdue", "status"):
        t.add_column(c)
    for r in crm.portfolio(ctx, limit=500)["accounts"]:
        st = crm.onboarding_status(ctx, r["account_id"])
        for m in st.get("overdue", [])[:1]:
            t.add_row(r["name"], r["owner"] or "", m["name"], m["due"], str(m["days_overdue"]), m["status"])
    console.print(t)
    console.print(f"Quiet period {load_schedules()['onboarding_sweep']['quiet_days']} days; with Slack tokens set, "
                  "`retain serve` runs the sweep, briefings and answers live.")


# ---------------------------------------------------------------- read commands
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

    ctx = runtime().tool_context(state.who)
    data = portfolio(ctx, csm=csm, band=band.value if band else None,
                     segment=segment.value if segment else None, renewal_within_days=renewal_days,
                     limit=limit)
    if as_json:
        _print_json(data)
        return
    table = DataTable(title=f"{data['count']} accounts ({ctx.viewer.name}, as of {ctx.as_of})")
    for col, just in [("account", "left"), ("owner", "left"), ("health", "right"), ("trend", "right"),
                      ("segment", "left"), ("ARR", "right"), ("renewal", "left"), ("P(renew)", "right")]:
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in data["accounts"]:
        trend = r["trend"]
        table.add_row(
            r["name"], r["owner"] or "", Text(f"{r['score']:.0f} {r['band']}", style=BAND_STYLE[r["band"]]),
            "" if trend is None else f"{trend:+.0f}", r["segment"], f"${r['arr']:,.0f}",
            f"{r['renewal_date']} ({int(r['days_to_renewal'])}d)" if r["renewal_date"] else "",
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

    ctx = runtime().tool_context(state.who)
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
    trend = "" if h["trend"] is None else f", {h['trend']:+.0f} vs 30 days ago"
    p = f" · P(renew) {rn['p_renew']:.2f}" if rn["p_renew"] is not None else ""
    head = (f"[{BAND_STYLE[h['band']]}]Health {h['score']:.0f} ({h['band']}){trend}[/] · "
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


@app.command("csms")
def csms_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """The people who use Retain, with their role and team."""
    from sqlalchemy import select

    from integrations.crm.models import CSM

    with runtime().store.session() as s:
        rows = [{"name": c.name, "email": c.email, "role": c.role, "team": c.team,
                 "slack_user_id": c.slack_user_id} for c in s.scalars(select(CSM).order_by(CSM.id))]
    if as_json:
        _print_json(rows)
        return
    table = DataTable(title="CSMs")
    for c in ("name", "email", "role", "team", "slack_user_id"):
        table.add_column(c)
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in ("name", "email", "role", "team", "slack_user_id")))
    console.print(table)


# ---------------------------------------------------------------- model
@model_app.command("fit")
def model_fit(as_json: bool = typer.Option(False, "--json")) -> None:
    """Fit P(renew) on renewal history, print the held-out backtest and save the model."""
    from tools import renewal_model

    rt = runtime()
    try:
        model = renewal_model.fit(rt.store, rt.card)
    except renewal_model.ThinHistory as exc:
        rt.model_file.unlink(missing_ok=True)
        if as_json:
            _print_json({"fitted": False, "reason": str(exc)})
        else:
            console.print(f"[yellow]{escape(str(exc))}[/]")
        return
    renewal_model.save(model, rt.model_file)
    if as_json:
        _print_json({"fitted": True, **model.to_json()})
        return
    m = model.metrics
    console.print(f"Fitted on {m['n_events']} renewals ({m['n_lost']} lost). Backtest on the newest "
                  f"{m['n_test']} ({m['test_from']} to {m['test_to']}), trained on the older {m['n_train']}:")
    t = DataTable(title="Held-out backtest")
    t.add_column("")
    t.add_column("ROC AUC", justify="right")
    t.add_column("Brier", justify="right")
    t.add_row("renewal model", f"{m['auc']:.3f}", f"{m['brier']:.3f}")
    t.add_row("scorecard alone", f"{m['scorecard_auc']:.3f}", "")
    console.print(t)
    cal = DataTable(title="Calibration (held out)")
    for c in ("P(renew) bin", "n", "predicted", "observed"):
        cal.add_column(c, justify="right")
    for row in m["calibration"]:
        cal.add_row(row["bin"], str(row["n"]), f"{row['predicted']:.2f}", f"{row['observed']:.2f}")
    console.print(cal)
    co = DataTable(title="Drivers: P(renew) = sigmoid(b0 + sum(bi * zi)), z = standardised feature")
    co.add_column("feature")
    co.add_column("coefficient", justify="right")
    co.add_row("b0 (intercept)", f"{model.intercept:+.3f}")
    for feat, coef in sorted(model.coefficients.items(), key=lambda kv: -abs(kv[1])):
        co.add_row(feat, f"{coef:+.3f}")
    console.print(co)
    console.print(f"Saved to {rt.model_file}")


# ---------------------------------------------------------------- import
@import_app.command("csv")
def import_csv_cmd(
    file: Path = typer.Argument(..., help="The CSV file."),
    kind: Kind = typer.Option(..., "--kind"),
    mapping: str | None = typer.Option(None, "--mapping", help="salesforce, hubspot, or a YAML file."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows and report the bad ones."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import a CSV export; any bad row stops the import (nothing written) unless --skip-bad."""
    from integrations.crm.importer import import_csv

    result = import_csv(runtime().store, kind.value, file, mapping, skip_bad)
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['kind']}: {result['inserted']} added, {result['updated']} updated, "
                  f"{result['skipped']} skipped of {result['rows']} rows.")
    for line, why in result["bad"]:
        console.print(f"  [yellow]line {line}[/]: {escape(str(why))}")


# ---------------------------------------------------------------- models
def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The configured models: in use or not, where they should be, present or missing, size."""
    from integrations.models import status

    rows = status(runtime().settings)
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title=f"Models (folder {runtime().settings.models_path})")
    for c in ("name", "kind", "in use", "present", "size", "path"):
        t.add_column(c)
    for r in rows:
        size = _size(r["size_bytes"]) if r["present"] else (f"{r['download_size']} to download"
                                                             if r["download_size"] else "")
        t.add_row(r["name"], r["kind"], "yes" if r["in_use"] else "",
                  "[green]yes[/]" if r["present"] else "[red]missing[/]", size, r["path"])
    console.print(t)
    if any(r["in_use"] and not r["present"] for r in rows):
        console.print("Fetch missing models with `retain models pull`, or point RETAIN_MODELS_DIR at "
                      "a folder that has them.")


@models_app.command("pull")
def models_pull(
    names: list[str] = typer.Argument(None, help="Model names from configs/models.yaml (default: the ones in use)."),
    force: bool = typer.Option(False, "--force", help="Download again even if a verified file is present."),
) -> None:
    """Download models with huggingface_hub into the models folder and verify their sha256."""
    from integrations.models import ModelMissing, pull, registry, resolve

    settings = runtime().settings
    specs = registry()
    wanted = names or [n for n in (resolve(settings, "chat")[0], resolve(settings, "embedding")[0])]
    unknown = [n for n in wanted if n not in specs]
    if unknown:
        raise ModelMissing(f"No model called {', '.join(unknown)} in configs/models.yaml. "
                           f"Known: {', '.join(specs)}.")
    for name in wanted:
        spec = specs[name]
        console.print(f"{name}: {spec.repo} / {spec.file} ({spec.download_size or 'size unknown'})")
        path = pull(spec, settings.models_path, force=force)
        console.print(f"  [green]ok[/] sha256 verified, {path}")


# ---------------------------------------------------------------- memory
def _memory_progress(bar: Progress) -> Any:
    tasks: dict[str, Any] = {}

    def tick(which: str, done: int, total: int) -> None:
        if which not in tasks:
            tasks[which] = bar.add_task(f"Embedding {which}", total=max(total, 1))
        bar.update(tasks[which], completed=done if total else 1, total=max(total, 1))
    return tick


def _sync_table(result: dict[str, Any]) -> None:
    t = DataTable(title="Memory sync")
    for c in ("collection", "documents", "embedded", "unchanged", "removed", "chunks added"):
        t.add_column(c, justify="left" if c == "collection" else "right")
    for name, r in result.items():
        if isinstance(r, dict):
            t.add_row(name, *(f"{r[k]:,}" for k in ("documents", "embedded", "unchanged", "removed", "chunks")))
    console.print(t)


@memory_app.command("sync")
def memory_sync(as_json: bool = typer.Option(False, "--json")) -> None:
    """Embed what is new or changed in the CRM and the knowledge base (only that)."""
    mem = runtime().memory
    with _progress() as bar:
        result = mem.sync(_memory_progress(bar))
    _print_json(result) if as_json else _sync_table(result)


@memory_app.command("rebuild")
def memory_rebuild(as_json: bool = typer.Option(False, "--json")) -> None:
    """Drop every memory collection (any embedding model) and rebuild it from the CRM."""
    mem = runtime().memory
    with _progress() as bar:
        result = mem.rebuild(_memory_progress(bar))
    if as_json:
        _print_json(result)
        return
    if result["dropped"]:
        console.print(f"Dropped {len(result['dropped'])} collections: {', '.join(result['dropped'])}")
    _sync_table(result)


@memory_app.command("search")
def memory_search(
    query: str = typer.Argument(..., help="What to look for, in plain words."),
    account: str | None = typer.Option(None, "--account", help="Only this account's notes."),
    kb: bool = typer.Option(False, "--kb", help="Search the playbooks instead of account notes."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="How many hits."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search notes, tickets, NPS comments and remembered facts you may see (or the playbooks)."""
    from tools import crm

    rt = runtime()
    mem = rt.memory
    if kb:
        hits = mem.search_knowledge(query, k=k)
    else:
        ctx = rt.tool_context(state.who)
        ids = [crm.find_account(ctx, account)["account_id"]] if account else None
        hits = mem.search(query, ctx.viewer, account_ids=ids, k=k, as_of=ctx.as_of)
    rows = [h.as_dict() for h in hits]
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title=f"{len(rows)} hits for “{escape(query)}”")
    for c in ("score", "account", "source", "date", "text"):
        t.add_column(c, overflow="fold")
    for r in rows:
        src = r["source"]
        t.add_row(f"{r['score']:.2f}", r["account"], f"{src['type']} {src['id']}", src["date"],
                  r["text"][:160].replace("\n", " "))
    console.print(t)


@memory_app.command("remember")
def memory_remember(
    account: str = typer.Argument(..., help="The account the fact is about."),
    fact: str = typer.Argument(..., help="The fact, e.g. 'their champion leaves in May'."),
) -> None:
    """Remember a fact about an account, with who said it and when."""
    from tools import crm

    rt = runtime()
    ctx = rt.tool_context(state.who)
    acct = crm.find_account(ctx, account)
    saved = rt.memory.remember(ctx.viewer, acct["account_id"], fact, said_by=ctx.viewer.name, origin="cli")
    console.print(Text(f"Remembered for {saved['account']} (fact {saved['id']}): {saved['text']}"))


@memory_app.command("stats")
def memory_stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """The collections in the memory store and their sizes."""
    rows = runtime().memory.stats()
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title="Memory collections")
    for c in ("collection", "chunks", "current model"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["collection"], f"{r['chunks']:,}", "yes" if r["current"] else "stale")
    console.print(t)


# ---------------------------------------------------------------- ask / chat / eval
def _assistant(deterministic: bool = False) -> Any:
    from agents.graph import build_assistant

    def warn(msg: str) -> None:
        Console(stderr=True).print(f"[yellow]note:[/] {escape(msg)}", highlight=False, soft_wrap=True)

    return build_assistant(runtime(), deterministic, warn)


def _show(result: dict[str, Any], verbose: bool) -> None:
    ans = result["answer"]
    label = {"llm": "", "deterministic": " [dim](verified findings, no LLM prose)[/]"}.get(ans.get("mode", ""), "")
    console.print(Panel(Text(ans.get("text", "")), title=f"Retain{label}", expand=False))
    if ans.get("sources"):
        t = DataTable(title="Sources", show_header=True)
        for c in ("#", "record", "date", "label", "account"):
            t.add_column(c)
        for s in ans["sources"]:
            t.add_row(str(s["n"]), f"{s.get('type', '')} {s.get('id', '')}", s.get("date", ""), s.get("label", ""),
                      s.get("account", ""))
        console.print(t)
    for d in result.get("pending", []):
        console.print(Panel(Text(f"To: {d.get('to', '') or d.get('account', '')}\n\n{d['body']}"),
                            title=f"Draft for approval: {escape(d['subject'])}", expand=False))
    for a in result.get("actions", []):
        what = "already done" if a.get("already_done") else a["decision"]
        ids = json.dumps({k: v for k, v in a.items() if k.endswith("_id")})
        err = f" ({escape(a['error'])})" if a.get("error") else ""
        console.print(f"[green]{a['kind']}[/]: {what} {escape(ids)}{err}")
    if verbose:
        r = result["route"]
        names = escape(str([a["name"] for a in r.get("accounts", [])]))
        console.print(f"[dim]route: intents={r.get('intents')} accounts={names} "
                      f"via={r.get('accounts_via')} window={r.get('window_days')} "
                      f"method={escape(str(r.get('method')))}[/]")
        for step in result["trace"]:
            rest = {k: v for k, v in step.items() if k not in ("step", "accounts", "intents")}
            console.print(f"[dim]  {step.get('step')}: {escape(json.dumps(rest, default=str)[:200])}[/]")
        llm = result["llm"]
        console.print(f"[dim]LLM calls {llm['calls']}, prompt tokens {llm['prompt_tokens']} "
                      f"(cached {llm['cached_tokens']}), completion {llm['completion_tokens']}, "
                      f"LLM seconds {llm['seconds']}; total {result['seconds']} s[/]")


def _approve_interactively(a: Any, thread: str, result: dict[str, Any]) -> dict[str, Any]:
    while result.get("pending"):
        choice = typer.prompt("Approve, edit or skip this draft?", default="skip",
                              type=click.Choice(["approve", "edit", "skip"]))
        text = None
        if choice == "edit":
            text = typer.prompt("New text", default=result["pending"][0]["body"])
        result = a.decide(thread, choice, _who(), text)
        _show(result, False)
    return result


@app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., help="Your question, in plain words."),
    thread: str | None = typer.Option(None, "--thread", help="Continue this conversation thread."),
    as_json: bool = typer.Option(False, "--json"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the route, agents, tool and LLM calls."),
    deterministic: bool = typer.Option(False, "--no-llm", help="Answer from the verified findings only."),
) -> None:
    """Ask Retain about your accounts; the answer cites its sources."""
    import uuid

    a = _assistant(deterministic)
    thread_id = thread or f"cli:{uuid.uuid4().hex[:8]}"
    result = a.ask(question, _who(), thread_id)
    if as_json:
        _print_json({"thread": thread_id, **result})
        return
    _show(result, verbose)
    if result["pending"] and sys.stdin.isatty():
        _approve_interactively(a, thread_id, result)
    elif result["pending"]:
        console.print(f"Decide with: retain decide --thread {thread_id} approve|edit|skip [--text ...]")
    if not thread:
        console.print(f"[dim]thread {thread_id} (continue with --thread {thread_id})[/]")


@app.command("decide")
def decide_cmd(
    decision: str = typer.Argument(..., help="approve, edit or skip"),
    thread: str = typer.Option(..., "--thread", help="The thread waiting for approval."),
    text: str | None = typer.Option(None, "--text", help="The edited text (with edit)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Approve, edit or skip the draft a thread is waiting on; the action runs once."""
    if decision not in ("approve", "edit", "skip"):
        raise typer.BadParameter("Say approve, edit or skip.")
    a = _assistant(True)
    result = a.decide(thread, decision, _who(), text)
    if as_json:
        _print_json(result)
    elif result.get("note"):
        console.print(Text(result["note"]))
    else:
        _show(result, False)


@app.command("chat")
def chat_cmd(
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    deterministic: bool = typer.Option(False, "--no-llm"),
) -> None:
    """A conversation with Retain in the terminal (one thread; empty line or Ctrl-D to leave)."""
    import uuid

    a = _assistant(deterministic)
    thread_id = f"cli-chat:{uuid.uuid4().hex[:8]}"
    console.print(f"Retain ({escape(a.runtime.viewer(state.who).name)}). Ask about your accounts; 'help' for ideas.")
    while True:
        try:
            q = console.input("[bold]you>[/] ").strip()
        except EOFError:
            break
        if not q or q in ("exit", "quit"):
            break
        try:
            result = a.ask(q, _who(), thread_id)
        except RetainError as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}")
            continue
        _show(result, verbose)
        if result["pending"]:
            _approve_interactively(a, thread_id, result)


@app.command("eval")
def eval_cmd(
    file: Path | None = typer.Option(None, "--file", help="Questions YAML (default tests/eval/questions.yaml)."),
    deterministic: bool = typer.Option(True, "--no-llm/--llm",
                                       help="Deterministic path (default) or the configured LLM."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score Retain on the evaluation questions: fact recall, unsupported claims, routing, LLM calls, tokens."""
    from agents.evaluate import DEFAULT_FILE, run_eval, table

    a = _assistant(deterministic)
    if as_json:
        _print_json(run_eval(a, file or DEFAULT_FILE))
        return
    with _progress() as bar:
        task = bar.add_task("Evaluating", total=1.0)
        report = run_eval(a, file or DEFAULT_FILE, progress=lambda f: bar.update(task, completed=f))
    console.print(table(report))


# ---------------------------------------------------------------- briefings
@app.command("brief")
def brief_cmd(
    csm: str | None = typer.Option(None, "--csm", help="Whose briefing (email, Slack id or name); default --as."),
    since: str | None = typer.Option(None, "--since", help="Changes since this date (default yesterday)."),
    dry_run: bool = typer.Option(True, "--dry-run/--send", help="Print it (default) or queue it for Slack."),
    deterministic: bool = typer.Option(False, "--no-llm"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Today's portfolio briefing: what changed, at risk with the play, renewals, overdue onboarding, 3 to-dos."""
    from datetime import date as _date

    from sqlalchemy import select

    from agents import briefing
    from agents.state import Deps
    from integrations.crm.models import Account
    from tools.access import may_brief

    rt = runtime()
    asker = rt.viewer(state.who)
    subject = rt.viewer(csm) if csm else asker
    if not may_brief(rt.store, asker, subject):
        raise AccessDenied(f"You can read your own briefing, your team's as their manager, or anyone's as an admin; "
                           f"not {csm}'s.")
    a = _assistant(deterministic)
    who = csm or _who()
    deps = Deps(runtime=a.runtime, chat=a.chat, use_memory=False)
    b = briefing.build(deps, who, _date.fromisoformat(since) if since else None)
    with a.runtime.store.session() as s:
        names = list(s.scalars(select(Account.name)))
    opening = briefing.summary(deps, b, names)
    if as_json:
        _print_json({**b, "opening": opening})
        return
    console.print(Panel(Text(briefing.render_text(b, opening)), title=f"Briefing: {escape(b['who'])}", expand=False))
    if not dry_run:
        from integrations import jobs

        viewer = a.runtime.viewer(who)
        if viewer.csm_id is None:
            raise RetainError("Say whose briefing to send with --csm.")
        jobs.configure(a.runtime, assistant=a)
        r = jobs.briefing("csm", viewer.csm_id)
        console.print(f"Briefing slot {r.get('slot')}: sent {r.get('sent', 0)}, retrying {r.get('retry', 0)}.")


# ---------------------------------------------------------------- scheduler
jobs_app = typer.Typer(help="Scheduled jobs.", invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback()
def jobs_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """The scheduled jobs with their next run."""
    if ctx.invoked_subcommand:
        return
    from integrations.scheduler import Scheduler

    sch = Scheduler(runtime())
    sch.aps.start(paused=True)
    sch.sync_jobs()
    rows = [{"id": j.id, "name": j.name, "next_run_utc": str(j.next_run_time)[:19] if j.next_run_time else "",
             "trigger": str(j.trigger)} for j in sch.aps.get_jobs()]
    sch.aps.shutdown(wait=False)
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title="Scheduled jobs (configs/schedules.yaml)")
    for c in ("id", "name", "next run (UTC)", "trigger"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["id"], r["name"], r["next_run_utc"], r["trigger"])
    console.print(t)


@jobs_app.command("run")
def jobs_run(name: str = typer.Argument(..., help="A job id from `retain jobs`, e.g. onboarding:sweep")) -> None:
    """Run one job now (its outbox keeps it from sending anything twice)."""
    from integrations import jobs
    from integrations.scheduler import job_specs

    rt = runtime()
    spec = next((s for s in job_specs(rt.store) if s.id == name), None)
    if spec is None:
        raise RetainError(f"No job '{name}'. See `retain jobs`.")
    jobs.configure(rt)
    fn = getattr(jobs, spec.func.split(":")[1])
    _print_json(fn(*spec.args))


@app.command("scheduler")
def scheduler_cmd() -> None:
    """Run the scheduler alone (briefings, onboarding sweep, nightly, outbox); Ctrl-C to stop."""
    from integrations.scheduler import Scheduler

    sch = Scheduler(runtime())
    sch.start()
    console.print(f"Scheduler running ({len(sch.aps.get_jobs())} jobs, lease {sch.holder}).")
    _wait_until_stopped()
    sch.shutdown()


def _wait_until_stopped() -> None:
    """Block until SIGTERM or Ctrl-C."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


# ---------------------------------------------------------------- slack
@app.command("serve")
def serve_cmd(
    http: bool = typer.Option(False, "--http", help="HTTP mode (/slack/events) instead of slack.mode."),
    port: int | None = typer.Option(None, "--port", help="HTTP port (default slack.port)."),
    deterministic: bool = typer.Option(False, "--no-llm", help="Answer from the verified findings only."),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Do not run the scheduler in this process."),
) -> None:
    """Run the Slack app and the scheduler (Socket Mode by default; HTTP mode with --http)."""
    import logging

    from integrations.slack.app import RetainSlack, secrets, serve_http

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    rt = runtime()
    st = rt.settings.slack
    sec = secrets(rt.settings)
    mode = "http" if http else st.mode
    if not sec["bot_token"]:
        raise RetainError("No Slack bot token. Set RETAIN_SLACK__BOT_TOKEN (xoxb-...) or slack.secrets_file; "
                          "see the README's Slack section.")
    if mode == "http" and not sec["signing_secret"]:
        raise RetainError("HTTP mode needs the app's signing secret: set RETAIN_SLACK__SIGNING_SECRET.")
    if mode == "socket" and not sec["app_token"]:
        raise RetainError("Socket Mode needs an app-level token (xapp-...): set RETAIN_SLACK__APP_TOKEN, "
                          "or use --http.")
    bot = RetainSlack(rt, _assistant(True), worker_process=True, deterministic=deterministic)
    pending = bot.inbox.recover()
    sch = None
    if not no_scheduler:
        from integrations.scheduler import Scheduler

        sch = Scheduler(rt)
        sch.start()
    console.print(f"Retain on Slack ({mode} mode); {pending} pending events resumed; scheduler "
                  f"{'off' if sch is None else 'on'}.")
    try:
        if mode == "http":
            server = serve_http(bot.app, st.host, port or st.port)
            console.print(f"Listening on http://{st.host}:{server.server_port}/slack/events")
            _wait_until_stopped()
            server.shutdown()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(bot.app, sec["app_token"])
            handler.connect()  # not start(): it blocks and ignores SIGTERM's clean-up
            try:
                _wait_until_stopped()
            finally:
                handler.close()
    finally:
        bot.close()
        if sch is not None:
            sch.shutdown()


def main() -> None:
    """Run the CLI; a user error is one red line and exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        console.print("[red]aborted[/]")
        sys.exit(130)
    except (click.ClickException, TyperClickException) as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except RetainError as exc:
        Console(stderr=True).print(f"[red]error:[/] {escape(mask_secrets(str(exc)))}", highlight=False,
                                   soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the user gets one line; RETAIN_DEBUG shows the rest
        if os.environ.get("RETAIN_DEBUG"):
            raise
        Console(stderr=True).print(
            f"[red]error:[/] unexpected {type(exc).__name__}: {escape(mask_secrets(str(exc)))}. "
            "Re-run with RETAIN_DEBUG=1 for details.", highlight=False)
        sys.exit(1)
