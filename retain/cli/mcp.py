"""`retain mcp`: Retain as an MCP server (stdio as one person, or streamable HTTP behind tokens); its tokens."""

from __future__ import annotations

import logging
import sys
import threading

import typer
from rich.console import Console
from rich.markup import escape

from core import logs
from core.errors import RetainError
from retain.cli.common import DataTable, _print_json, app, assistant, authorize, console, services, state

mcp_app = typer.Typer(help="Retain as an MCP server for Claude Desktop, IDEs, Slackbot and other agents.",
                      invoke_without_command=True)
tokens_app = typer.Typer(help="Per-person tokens for `retain mcp --http` (an admin's job).", no_args_is_help=True)
mcp_app.add_typer(tokens_app, name="tokens")
app.add_typer(mcp_app, name="mcp")


@mcp_app.callback()
def mcp_cmd(
    ctx: typer.Context,
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP (remote clients, per-person tokens) "
                                                    "instead of stdio."),
    host: str | None = typer.Option(None, "--host", help="HTTP: the address to listen on (default mcp.host)."),
    port: int | None = typer.Option(None, "--port", min=0, max=65535, help="HTTP: the port (default mcp.port)."),
    deterministic: bool = typer.Option(False, "--no-llm", help="Answer from the verified findings only."),
) -> None:
    """Serve Retain's tools over MCP: stdio as the --as person (a local client), or --http for everyone by token."""
    if ctx.invoked_subcommand is not None:
        authorize(f"mcp {ctx.invoked_subcommand}")  # tokens are an operator's (or an admin's) business
        return
    from retain.mcp import server
    from retain.mcp.calls import Caller

    rt = services()
    logs.configure(rt.settings.log.format, rt.settings.log.level)  # stderr: stdout is the stdio transport's
    logging.getLogger("mcp").setLevel(logging.WARNING)  # the SDK's per-request lines; ours say who and how
    err = Console(stderr=True)
    if http:
        if state.who:
            raise RetainError("`retain mcp --http` serves everyone by their own token; drop --as (each request "
                              "acts as its token's person).")
        from retain.mcp.http import serve

        a = assistant(deterministic, quiet=True)
        st = rt.settings.mcp
        threading.Thread(target=rt.prewarm, name="retain-prewarm", daemon=True).start()  # first answers wait once
        serve(server.build(a), rt, host or st.host, st.port if port is None else port,
              ready=lambda url: err.print(f"Retain MCP server (streamable HTTP) on {url}", highlight=False))
        return
    who = state.who or rt.settings.cli_user
    if not who:
        raise RetainError("`retain mcp` over stdio answers as one person: say who with --as EMAIL (or set "
                          "cli_user). For remote clients use `retain mcp --http` with per-person tokens.")
    viewer = rt.asker(who)  # an unknown or deactivated person is refused before the server starts
    a = assistant(deterministic, quiet=True)
    err.print(f"Retain MCP server (stdio) for {escape(viewer.name)} ({viewer.role})", highlight=False)
    server.build(a, Caller(who=who, key=f"stdio:{viewer.email or who}", via="stdio")).run("stdio")


@tokens_app.command("add")
def tokens_add(email: str = typer.Argument(..., help="The person's email (`retain csms`)."),
               label: str = typer.Option("", "--label", help="Where it is used, e.g. 'Claude Desktop, laptop'."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Make a token for one person; it is shown once (Retain keeps only its hash)."""
    from tools import mcp_tokens

    token, row = mcp_tokens.add(services().store, email, label)
    if as_json:
        _print_json({**row, "token": token})
        return
    console.print(f"Token {row['id']} for {escape(row['name'])} ({escape(row['email'])}), shown once; keep it "
                  "like a password:")
    sys.stdout.write(token + "\n")
    console.print("Clients send it as 'Authorization: Bearer <token>'. Revoke with "
                  f"`retain mcp tokens revoke {row['id']}`.")


@tokens_app.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every token made: whose, when made and last used, revoked or live (never the token itself)."""
    from tools import mcp_tokens

    rows = mcp_tokens.listing(services().store)
    if as_json:
        _print_json(rows)
        return
    table = DataTable(title=f"{sum(r['active'] for r in rows)} live MCP tokens")
    for c in ("id", "person", "label", "created", "last used", "status"):
        table.add_column(c)
    for r in rows:
        status = "live" if r["active"] else ("revoked " + r["revoked_at"] if r["revoked_at"] else "person inactive")
        table.add_row(str(r["id"]), f"{r['name']} <{r['email']}>", r["label"], r["created_at"] or "",
                      r["last_used_at"] or "never", status)
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(which: str = typer.Argument(..., help="A token id, or an email to revoke all of theirs.")) -> None:
    """Revoke a token (or all of a person's); the next request bearing it is refused."""
    from tools import mcp_tokens

    n = mcp_tokens.revoke(services().store, which)
    console.print(f"{n} token{'s' if n != 1 else ''} revoked.")
