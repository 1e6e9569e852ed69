"""`retain model`, `retain import`, `retain export`, `retain sync`: the renewal model, data in and out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text

from core.errors import RetainError
from retain.cli.common import (
    DataTable,
    Kind,
    _print_json,
    _progress,
    app,
    console,
    import_app,
    model_app,
    services,
    state,
    sync_app,
)


@model_app.command("fit")
def model_fit(as_json: bool = typer.Option(False, "--json")) -> None:
    """Fit P(renew) on renewal history, print the held-out backtest and save the model."""
    from tools import renewal_model

    rt = services()
    try:
        model = renewal_model.fit(rt.store, rt.card)
    except renewal_model.ThinHistory as exc:
        rt.save_renewal_model(None)
        if as_json:
            _print_json({"fitted": False, "reason": str(exc)})
        else:
            console.print(f"[yellow]{escape(str(exc))}[/]")
        return
    rt.save_renewal_model(model)
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
    console.print(f"Saved in the database (every worker's) and to {rt.model_file}")


# ---------------------------------------------------------------- import
@import_app.command("file")
@import_app.command("csv", hidden=True)
def import_file_cmd(
    file: Path = typer.Argument(..., help="A CSV or Parquet (.parquet) file."),
    kind: Kind = typer.Option(..., "--kind"),
    mapping: str | None = typer.Option(None, "--mapping", help="salesforce, hubspot, or a YAML file."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows and report the bad ones."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import one file of one kind; any bad row stops the import (nothing written) unless --skip-bad.

    Kinds: CRM records (accounts, contacts, contracts, tickets, notes, nps), people (csms), and product
    data: telemetry (daily rows), requests (raw request events, summed to days), fine_tunes, plans,
    milestones, renewals (history). Re-importing a file changes nothing.
    """
    from tools.data_import import import_file

    result = import_file(services().store, kind.value, file, mapping, skip_bad)
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['kind']}: {result['inserted']} added, {result['updated']} updated, "
                  f"{result['skipped']} skipped of {result['rows']} rows.")
    if result.get("unread"):
        console.print(_unread(result["kind"], result["unread"]))
    if result.get("cleared"):
        console.print("  [yellow]cleared by blank cells[/]: " + escape(", ".join(
            f"{col} ({n:,})" for col, n in sorted(result["cleared"].items()))))
    for line, why in result["bad"]:
        console.print(f"  [yellow]line {line}[/]: {escape(str(why))}")
    for line, why in result.get("warnings", [])[:50]:
        console.print(f"  [yellow]warning, {'row' if file.suffix.lower() in ('.parquet', '.pq') else 'line'} {line}"
                      f"[/]: {escape(str(why))} (imported; check it is the name you mean)")


def _unread(kind: str, columns: list[str]) -> str:
    return (f"  [yellow]columns not read[/]: {escape(', '.join(columns))} (no {kind} field of that name; "
            "name the field in a --mapping file to import one)")


@import_app.command("all")
def import_all_cmd(
    folder: Path = typer.Argument(..., help="A folder of <kind>.csv or <kind>.parquet files "
                                            "(as `retain export` writes)."),
    mapping: str | None = typer.Option(None, "--mapping"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import every kind found in a folder, parents first; each file all or nothing."""
    from tools.data_import import import_dir

    results = import_dir(services().store, folder, mapping)
    if as_json:
        _print_json(results)
        return
    t = DataTable(title=f"Imported from {folder}")
    for c in ("kind", "rows", "added", "updated", "cleared"):
        t.add_column(c, justify="right" if c not in ("kind", "cleared") else "left")
    for r in results:
        cleared = ", ".join(f"{col} ({n:,})" for col, n in sorted((r.get("cleared") or {}).items()))
        t.add_row(r["kind"], f"{r['rows']:,}", f"{r['inserted']:,}", f"{r['updated']:,}", cleared)
    console.print(t)
    for r in results:
        if r.get("unread"):
            console.print(_unread(r["kind"], r["unread"]))
        for line, why in r.get("warnings", [])[:20]:
            console.print(f"  [yellow]warning, {escape(r['kind'])} {line}[/]: {escape(str(why))}")


@app.command("export")
def export_cmd(
    folder: Path = typer.Argument(..., help="Where to write <kind>.csv (or .parquet) files."),
    kinds: list[Kind] = typer.Option(None, "--kind", help="Only these kinds (repeatable); default all."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Export every kind in the shape `retain import all` reads back (a backup, or a move to another Retain)."""
    from tools.data_export import export_dir

    if fmt not in ("csv", "parquet"):
        raise RetainError(f"--format must be csv or parquet, not '{fmt}'.")
    rt = services()
    counts = export_dir(rt.store, folder, [k.value for k in kinds] if kinds else None, fmt, rt.asker(state.who))
    if as_json:
        _print_json(counts)
        return
    t = DataTable(title=f"Exported to {folder}")
    t.add_column("kind")
    t.add_column("rows", justify="right")
    for k, n in counts.items():
        t.add_row(k, f"{n:,}")
    console.print(t)


# ---------------------------------------------------------------- sync
@sync_app.command("warehouse")
def sync_warehouse_cmd(
    mapping: Path | None = typer.Option(None, "--mapping", help="A mapping file (default: warehouse.mapping_file)."),
    source: list[str] = typer.Option(None, "--source", help="Only this source of the mapping (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read new rows from the warehouse now (the scheduler does it every warehouse.every_minutes)."""
    from tools import warehouse

    rt = services()
    path = mapping or rt.settings.warehouse.mapping_file
    if not path:
        raise RetainError("No mapping: pass --mapping FILE or set warehouse.mapping_file "
                          "(start from configs/warehouse.example.yaml).")
    runs = warehouse.run(rt.store, path, rt.settings.warehouse.url.get_secret_value(), source or None, dry_run)
    if as_json:
        _print_json(runs)
        return
    t = DataTable(title="Warehouse sync" + (" (dry run: nothing written)" if dry_run else ""))
    for c in ("source", "kind", "rows", "would add" if dry_run else "added", "would update" if dry_run else "updated",
              "rejected", "from", "watermark"):
        t.add_column(c, justify="right" if c in ("rows", "added", "updated", "rejected", "would add",
                                                   "would update") else "left")
    for r in runs:
        t.add_row(r["source"], r["kind"], f"{r['rows']:,}", f"{r['inserted']:,}", f"{r['updated']:,}",
                  f"{r['rejected']:,}", str(r["watermark_from"] or ""), str(r["watermark"] or ""))
    console.print(t)
    for r in runs:
        for n, why in r["problems"]:
            console.print(f"  [yellow]{escape(r['source'])} row {n}[/]: {escape(str(why))}")


def _crm_sync(crm: str, dry_run: bool, full: bool, kind: list[str] | None, as_json: bool) -> None:
    from tools import crm_sync

    rt = services()
    source, mapping = crm_sync.connect(rt.settings, crm)
    if as_json:
        out = crm_sync.run(rt.store, source, mapping, page_size=rt.settings.connectors.page_size,
                           max_pages=rt.settings.connectors.max_pages, dry_run=dry_run, full=full,
                           only=kind or None)
        _print_json(out)
        return
    with _progress() as bar:
        tasks: dict[str, Any] = {}

        def step(k: str, n: int) -> None:
            if k not in tasks:
                tasks[k] = bar.add_task(f"{crm} {k}", total=None)
            bar.update(tasks[k], advance=n)

        out = crm_sync.run(rt.store, source, mapping, page_size=rt.settings.connectors.page_size,
                           max_pages=rt.settings.connectors.max_pages, dry_run=dry_run, full=full,
                           only=kind or None, progress=step)
    title = f"{'HubSpot' if crm == 'hubspot' else 'Salesforce'} sync" + (" (dry run: nothing written)" if dry_run
                                                                         else "")
    t = DataTable(title=title)
    add, upd = ("would add", "would update") if dry_run else ("added", "updated")
    for c in ("kind", "object", "records", add, upd, "rejected", "ignored", "status", "checkpoint"):
        t.add_column(c, justify="right" if c in ("records", add, upd, "rejected", "ignored") else "left")
    for r in out["kinds"]:
        t.add_row(r["kind"], r["object"], f"{r['rows']:,}", f"{r['inserted']:,}", f"{r['updated']:,}",
                  f"{r['rejected']:,}", f"{r['ignored']:,}", r.get("status", "not run"), str(r["watermark"] or ""))
    console.print(t)
    for r in out["kinds"]:
        for rid, why in r["problems"][:20]:
            console.print(f"  [yellow]{escape(r['kind'])} {escape(str(rid))}[/]: {escape(str(why))}")
        if r["unassigned"]:
            owners = sorted(set(r["unassigned"].values()))
            console.print(f"  [yellow]{len(r['unassigned'])} account(s) came in unassigned[/]: their owners "
                          f"({escape(', '.join(owners[:5]))}) are not Retain CSMs; add them with `retain csms add`.")
    if out["status"] == "limited":
        console.print(f"[yellow]Stopped early:[/] {escape(out['error'])}")


@sync_app.command("hubspot")
def sync_hubspot_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    full: bool = typer.Option(False, "--full", help="Read everything again, not only what changed."),
    kind: list[str] = typer.Option(None, "--kind", help="Only this kind (repeatable)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read what changed in HubSpot (the scheduler does it every connectors.every_minutes)."""
    _crm_sync("hubspot", dry_run, full, kind, as_json)


@sync_app.command("salesforce")
def sync_salesforce_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    full: bool = typer.Option(False, "--full", help="Read everything again, not only what changed."),
    kind: list[str] = typer.Option(None, "--kind", help="Only this kind (repeatable)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read what changed in Salesforce (the scheduler does it every connectors.every_minutes)."""
    _crm_sync("salesforce", dry_run, full, kind, as_json)


@sync_app.command("status")
def sync_status_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Per data source: last run, rows in / added / updated / rejected, watermark, next run."""
    from retain.jobs import job_specs
    from tools import warehouse

    rt = services()
    rows = warehouse.status(rt.store)
    every = {s.id: s for s in job_specs(rt.store, rt.settings)}
    for r in rows:
        prefix = r["source"].split(":", 1)[0]
        spec = every.get(f"sync:{prefix}") if prefix in ("warehouse", "hubspot", "salesforce") else None
        r["next_run"] = _next(r["last_run"], spec.fields.get("minutes")) if spec else "on demand"
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title="Data sources")
    for c in ("source", "last run", "status", "rows in", "added", "updated", "rejected", "watermark", "next run"):
        t.add_column(c, justify="right" if c in ("rows in", "added", "updated", "rejected") else "left")
    for r in rows:
        style = {"ok": "green", "failed": "red", "limited": "yellow", "running": "cyan"}.get(r["status"], "")
        t.add_row(r["source"], str(r["last_run"])[:19], Text(r["status"], style=style),
                  f"{r['rows_in']:,}", f"{r['inserted']:,}", f"{r['updated']:,}", f"{r['rejected']:,}",
                  r["watermark"] or "", r["next_run"])
    console.print(t)
    if not rows:
        console.print("No data source has run yet: `retain import file`, `retain sync warehouse|hubspot|salesforce`.")
    for r in rows:
        if r["status"] in ("failed", "limited") and r["error"]:
            console.print(f"  [red]{escape(r['source'])}[/]: {escape(r['error'][:300])}")


def _next(last: Any, minutes: int | None) -> str:
    if not minutes or last is None:
        return ""
    return str(last + timedelta(minutes=int(minutes)))[:19]
