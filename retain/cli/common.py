"""What every command shares: the Typer apps, the console, tables, the invocation's state and services."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # the services pull in pandas and the CRM tools: loaded on first use, not for --help
    from tools.services import Services

# typer bundles its own click; its usage errors derive from this ClickException.
TyperClickException: type[click.ClickException] = typer.BadParameter.__mro__[2]

app = typer.Typer(help="Retain: a self-hosted, multi-agent customer-success assistant.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
demo_app = typer.Typer(help="The demo portfolio.", no_args_is_help=True)
model_app = typer.Typer(help="The renewal-risk model.", no_args_is_help=True)
import_app = typer.Typer(help="Import CRM records and product data (CSV or Parquet).", no_args_is_help=True)
sync_app = typer.Typer(help="Scheduled data sources: the warehouse and CRM connectors.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(model_app, name="model")
app.add_typer(import_app, name="import")
app.add_typer(sync_app, name="sync")
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
    csms = "csms"
    telemetry = "telemetry"
    requests = "requests"
    fine_tunes = "fine_tunes"
    plans = "plans"
    milestones = "milestones"
    renewals = "renewals"

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
    services: Services | None = None


state = _State()


def services() -> Services:
    """The services for this invocation, built from the settings on first use."""
    if state.services is None:
        from core.settings import load_settings
        from tools.services import Services

        state.services = Services(load_settings(state.config))
    return state.services


PERSONAL = frozenset({"accounts", "account", "ask", "decide", "chat", "brief", "feedback", "export", "qbr",
                      "memory search", "memory remember"})
"""Commands that act for one person: run as someone (`--as`, `cli_user`), they show only that person's scope.

Every other command operates Retain for everyone (people, imports, syncs, jobs, scores, models...)
and, run as someone, needs that someone to be an admin. A new command is an operator command
unless it is added here.
"""
DECIDED_BELOW = frozenset({"memory", "mcp"})  # groups whose subcommands differ (memory search vs rebuild)


def authorize(command: str) -> None:
    """Refuse an operator command run as someone who is not an admin: the one check, for every command."""
    who = state.who or services().settings.cli_user
    if not who or command in PERSONAL:
        return  # the operator at the terminal, or a command that shows only the asker's scope
    from core.errors import AccessDenied

    viewer = services().asker(who)  # an unknown or deactivated person is refused here too
    if not viewer.is_admin:
        raise AccessDenied(f"`retain {command}` operates Retain for everyone, so it needs an admin; "
                           f"{viewer.name} is a {viewer.role}. Ask an admin, or run it without --as as the "
                           "operator.")


@app.callback()
def _main(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", help="A YAML settings file."),
    who: str | None = typer.Option(None, "--as", help="Act as this CSM (email, Slack id or name)."),
) -> None:
    state.config = config
    state.who = who
    if ctx.invoked_subcommand and ctx.invoked_subcommand not in DECIDED_BELOW:
        authorize(ctx.invoked_subcommand)


@memory_app.callback()
def _memory(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand:
        authorize(f"memory {ctx.invoked_subcommand}")


def _who() -> str:
    """Who this invocation acts as: --as, else settings.cli_user, else the operator's admin view."""
    from tools.access import OPERATOR

    return state.who or services().settings.cli_user or OPERATOR


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(_finite(data), default=str, allow_nan=False))


def _finite(v: Any) -> Any:
    """JSON has no NaN or Infinity: a number that is not finite is printed as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=False)


def assistant(deterministic: bool = False, quiet: bool = False) -> Any:
    """The assistant for this invocation (deterministic: no LLM; quiet: no note when the chat model is missing)."""
    from retain.deps import build_assistant

    def warn(msg: str) -> None:
        Console(stderr=True).print(f"[yellow]note:[/] {escape(msg)}", highlight=False, soft_wrap=True)

    return build_assistant(services(), deterministic, None if quiet else warn)
