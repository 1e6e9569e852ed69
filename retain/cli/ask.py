"""`retain ask`, `decide`, `chat`, `eval`, `brief`: questions, approvals and briefings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import typer
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from core.errors import AccessDenied, ConfigError, RetainError
from retain.cli.common import (
    DataTable,
    _print_json,
    _progress,
    _who,
    app,
    assistant,
    console,
    services,
    state,
)

if TYPE_CHECKING:  # the eval is imported only when `retain eval` runs (cold start)
    from agents.evaluate import Report


def show(result: dict[str, Any], verbose: bool) -> None:
    """Print an answer, its sources and (verbose) the trace."""
    ans = result["answer"]
    label = {"llm": "", "deterministic": " [dim](verified findings, no LLM prose)[/]"}.get(ans.get("mode", ""), "")
    console.print(Panel(Text(ans.get("text", "")), title=f"Retain{label}", expand=False))
    for f in result.get("findings") or []:  # lists as tables
        tab = (f.get("data") or {}).get("table")
        if tab and tab.get("rows"):
            t = DataTable(title=str(f["data"].get("title", "")).capitalize(), show_header=True)
            for c in tab["columns"]:
                t.add_column(str(c))
            for row in tab["rows"]:
                t.add_row(*[str(c) for c in row])
            console.print(t)
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
        show(result, False)
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

    a = assistant(deterministic)
    thread_id = thread or f"cli:{uuid.uuid4().hex[:8]}"
    result = a.ask(question, _who(), thread_id)
    if as_json:
        _print_json({"thread": thread_id, **result})
        return
    show(result, verbose)
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
    a = assistant(True)
    result = a.decide(thread, decision, _who(), text)
    if as_json:
        _print_json(result)
    elif result.get("note"):
        console.print(Text(result["note"]))
    else:
        show(result, False)


@app.command("chat")
def chat_cmd(
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    deterministic: bool = typer.Option(False, "--no-llm"),
) -> None:
    """A conversation with Retain in the terminal (one thread; empty line or Ctrl-D to leave)."""
    import uuid

    a = assistant(deterministic)
    thread_id = f"cli-chat:{uuid.uuid4().hex[:8]}"
    console.print(f"Retain ({escape(a.services.asker(state.who).name)}). Ask about your accounts; 'help' for ideas.")
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
        show(result, verbose)
        if result["pending"]:
            _approve_interactively(a, thread_id, result)


@app.command("eval")
def eval_cmd(
    file: Path | None = typer.Option(None, "--file", help="Questions YAML or a folder of them (default tests/eval)."),
    deterministic: bool = typer.Option(True, "--no-llm/--llm",
                                       help="Deterministic path (default) or the configured LLM."),
    as_json: bool = typer.Option(False, "--json"),
    here: bool = typer.Option(False, "--here", help="Ask this data folder's CRM as it is (for your own --file), "
                                                    "not the eval's own demo portfolio."),
    against: Path | None = typer.Option(None, "--against", help="A report saved with --json (e.g. the deterministic "
                                                                "run): list the questions answered worse or better."),
) -> None:
    """Score Retain on the evaluation questions: fact recall, unsupported claims, routing, LLM calls, tokens.

    The questions are about the demo portfolio on its own date (seed 7, 2026-11-23): it is seeded in a
    temporary folder, whatever this data folder holds and whatever today is (--here asks your data instead).
    """
    import tempfile

    from agents.evaluate import DEFAULT_FILE, compare, run_eval, summary_table, table

    baseline = _baseline(against) if against else None
    with tempfile.TemporaryDirectory(prefix="retain-eval-") as folder:
        a = assistant(deterministic) if here else eval_assistant(Path(folder), deterministic)
        if as_json:
            report = run_eval(a, file or DEFAULT_FILE)
            _print_json({**report, "against": compare(report, baseline)} if baseline else report)
            return
        with _progress() as bar:
            task = bar.add_task("Evaluating", total=1.0)
            report = run_eval(a, file or DEFAULT_FILE, progress=lambda f: bar.update(task, completed=f))
    console.print(table(report))
    console.print(summary_table(report))
    if baseline:
        c = compare(report, baseline)
        console.print(f"Against {against}: {c['compared']} questions compared, {len(c['worse'])} worse "
                      f"({', '.join(c['worse']) or 'none'}), {len(c['better'])} better "
                      f"({', '.join(c['better']) or 'none'}).")


def _baseline(path: Path) -> Report:
    """A saved `retain eval --json` report, or one clear error."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--against {path}: not a readable `retain eval --json` report ({exc}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ConfigError(f"--against {path}: not a `retain eval --json` report (no rows).")
    for k, row in enumerate(data["rows"], 1):  # what `compare` reads of each row, checked before the eval runs
        missing = [key for key in ("id", "correct", "facts_found") if not isinstance(row, dict) or key not in row]
        if missing:
            raise ConfigError(f"--against {path}: row {k} has no {', '.join(missing)}, so it is not a "
                              "`retain eval --json` report. Save one with `retain eval --json > FILE`.")
    return cast("Report", data)


def eval_assistant(folder: Path, deterministic: bool) -> Any:
    """An assistant over the eval's demo portfolio, seeded in `folder` on its own date (no memory, like the tests)."""
    from agents.evaluate import DEMO_ACCOUNTS, DEMO_SEED, DEMO_TODAY
    from core.settings import load_settings
    from retain import demo
    from retain.deps import build_assistant
    from tools import renewal_model
    from tools.health import save_snapshots, score_portfolio
    from tools.services import Services

    mine = services().settings
    rt = Services(load_settings(state.config, data_dir=str(folder), database_url="", today=DEMO_TODAY.isoformat(),
                                models_dir=str(mine.models_path)))
    demo.write(rt.store, demo.generate(DEMO_ACCOUNTS, DEMO_SEED, rt.settings.as_of()))
    rt.save_renewal_model(renewal_model.fit(rt.store, rt.card))
    # Today's health bands saved as `retain demo seed` saves them: facts on health_snapshots need them.
    save_snapshots(rt.store, score_portfolio(rt.store, rt.card, rt.settings.as_of()))
    return build_assistant(rt, deterministic, use_memory=False)


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

    from agents import briefing
    from agents.context import request_deps
    from tools.access import may_brief

    rt = services()
    asker = rt.asker(state.who)
    subject = rt.asker(csm) if csm else asker
    if not may_brief(rt.store, asker, subject):
        raise AccessDenied(f"You can read your own briefing, your team's as their manager, or anyone's as an admin; "
                           f"not {csm}'s.")
    a = assistant(deterministic)
    deps = request_deps(a.services, a.chat, use_memory=False, asker=subject)
    b, opening, text = briefing.assemble(deps, subject.key, _date.fromisoformat(since) if since else None)
    if as_json:
        _print_json({**b, "opening": opening})
        return
    console.print(Panel(Text(text), title=f"Briefing: {escape(b['who'])}", expand=False))
    if not dry_run:
        from retain import jobs

        if subject.csm_id is None:
            raise RetainError("Say whose briefing to send with --csm.")
        jobs.configure(a.services, assistant=a)
        r = jobs.briefing("csm", subject.csm_id)
        console.print(f"Briefing slot {r.get('slot')}: sent {r.get('sent', 0)}, retrying {r.get('retry', 0)}.")


# ---------------------------------------------------------------- scheduler
