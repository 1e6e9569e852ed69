"""`retain demo`: seed the demo portfolio and run its story."""

from __future__ import annotations

import typer
from rich.markup import escape

from core.errors import RetainError
from integrations.gguf import provide
from retain.cli.accounts import accounts_cmd
from retain.cli.ask import brief_cmd, show
from retain.cli.common import (
    DataTable,
    _progress,
    assistant,
    console,
    demo_app,
    services,
)
from retain.cli.memory import memory_progress, sync_table


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

    rt = services()
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
            rt.save_renewal_model(model)
        except renewal_model.ThinHistory as exc:
            rt.save_renewal_model(None)
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
    from retain.deps import chat_line  # the graph and its libraries: loaded here, not by `retain --help`

    demo_seed(accounts=accounts, seed=seed, csms=6)
    accounts_cmd(csm=None, band=None, segment=None, renewal_days=None, limit=15, as_json=False)
    rt = services()
    console.rule("Memory")
    try:
        console.print(f"[dim]Embedding model: {escape(provide(rt.settings, 'embedding')[1])}[/]")
        with _progress() as bar:
            sync_table(rt.memory.sync(memory_progress(bar)))
    except RetainError as exc:
        console.print(f"[yellow]Memory skipped:[/] {escape(str(exc))}")
    console.rule("Questions CSMs ask (story arcs)")
    a = assistant(quiet=True)
    console.print(f"[dim]{escape(chat_line(rt.settings, a.chat))}[/]")
    for who, q in [("dana.reyes@retain.example", "why did Globex's latency go up?"),
                   ("dana.reyes@retain.example", "prep me for Initech's QBR"),
                   ("marcus.chen@retain.example", "how is Wayne Media doing?"),
                   ("sam.okafor@retain.example", "what happened to Umbrella's fine-tune?"),
                   ("dana.reyes@retain.example", "which of my renewals this quarter are at risk?")]:
        console.print(f"[bold]{who.split('@')[0].replace('.', ' ').title()}:[/] {q}")
        show(a.ask(q, who, f"demo:{q}"), False)
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
    console.rule("QBR deck")
    # python-pptx loads only for a deck: importing it with the CLI slowed every command's start.
    from retain.decks import make_deck

    deck = make_deck(rt, "dana.reyes@retain.example", "Initech", None, chat=a.chat)
    path = rt.settings.data_dir / "qbr" / deck.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(deck.pptx)
    console.print(f"Initech's QBR deck ({len(deck.spec['slides'])} slides, native charts, sources in the speaker "
                  f"notes, {deck.seconds:.1f} s) was written to {escape(str(path))}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- read commands
