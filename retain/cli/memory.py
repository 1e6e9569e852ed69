"""`retain memory`: sync, rebuild, search, remember, stats."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.text import Text

from retain.cli.common import (
    DataTable,
    _print_json,
    _progress,
    console,
    memory_app,
    services,
    state,
)


def memory_progress(bar: Progress) -> Any:
    """A progress callback drawing one bar per collection."""
    tasks: dict[str, Any] = {}

    def tick(which: str, done: int, total: int) -> None:
        if which not in tasks:
            tasks[which] = bar.add_task(f"Embedding {which}", total=max(total, 1))
        bar.update(tasks[which], completed=done if total else 1, total=max(total, 1))
    return tick


def sync_table(result: dict[str, Any]) -> None:
    """Print what a memory sync did, per collection."""
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
    mem = services().memory
    with _progress() as bar:
        result = mem.sync(memory_progress(bar))
    _print_json(result) if as_json else sync_table(result)


@memory_app.command("rebuild")
def memory_rebuild(as_json: bool = typer.Option(False, "--json")) -> None:
    """Drop every memory collection (any embedding model) and rebuild it from the CRM."""
    mem = services().memory
    with _progress() as bar:
        result = mem.rebuild(memory_progress(bar))
    if as_json:
        _print_json(result)
        return
    if result["dropped"]:
        console.print(f"Dropped {len(result['dropped'])} collections: {', '.join(result['dropped'])}")
    sync_table(result)


@memory_app.command("search")
def memory_search(
    query: str = typer.Argument(..., help="What to look for, in plain words."),
    account: str | None = typer.Option(None, "--account", help="Only this account's notes."),
    kb: bool = typer.Option(False, "--kb", help="Search the playbooks instead of account notes."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="How many hits."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search notes, tickets, NPS comments and remembered facts you may see (or the playbooks)."""
    from tools import crm, recall

    rt = services()
    mem = rt.memory
    if kb:
        hits = mem.search_knowledge(query, k=k)
    else:
        ctx = rt.tool_context(state.who)
        ids = [crm.find_account(ctx, account)["account_id"]] if account else None
        hits = recall.search(mem, query, ctx.viewer, account_ids=ids, k=k, as_of=ctx.as_of)
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
    from tools import crm, recall

    rt = services()
    ctx = rt.tool_context(state.who)
    acct = crm.find_account(ctx, account)
    saved = recall.remember(rt.memory, rt.store, ctx.viewer, acct["account_id"], fact, said_by=ctx.viewer.name,
                            origin="cli")
    console.print(Text(f"Remembered for {saved['account']} (fact {saved['id']}): {saved['text']}"))


@memory_app.command("stats")
def memory_stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """The collections in the memory store and their sizes."""
    rows = services().memory.stats()
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
