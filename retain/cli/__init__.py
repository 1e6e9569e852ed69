"""The `retain` command line: one Typer app, its commands split by sub-app in this package."""

from __future__ import annotations

import os
import sys

import click
import typer
from rich.console import Console
from rich.markup import escape

from core.errors import RetainError, mask_secrets
from integrations.sqlite_wal import BUSY_TIMEOUT_MS, busy
from retain.cli import accounts, ask, data, demo, mcp, memory, models, qbr, run  # noqa: F401 - registers the commands
from retain.cli.common import TyperClickException, app, console

__all__ = ["app", "main"]


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
        if busy(exc):  # SQLite: another process held its lock for longer than a statement waits
            Console(stderr=True).print(
                f"[red]error:[/] the database was busy: another process held it for more than "
                f"{BUSY_TIMEOUT_MS // 1000} s. Run the command again.", highlight=False, soft_wrap=True)
            sys.exit(1)
        Console(stderr=True).print(
            f"[red]error:[/] unexpected {type(exc).__name__}: {escape(mask_secrets(_first_part(exc)))}. "
            "Re-run with RETAIN_DEBUG=1 for details.", highlight=False)
        sys.exit(1)


def _first_part(exc: Exception) -> str:
    """What went wrong, without a database error's statement and parameters (rows of people's data)."""
    text = str(exc).split("\n[SQL:", 1)[0].split("\n(Background on this error", 1)[0]
    if type(exc).__name__ == "IntegrityError":
        text += " (another command may have written the same record at the same time; nothing of this one was " \
                "saved: run it again)"
    return text
