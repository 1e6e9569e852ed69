"""`retain qbr ACCOUNT`: the account's QBR deck as an editable .pptx, every number cited in the notes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from retain.cli.common import _print_json, _who, app, console, services


@app.command("qbr")
def qbr_cmd(
    account: str = typer.Argument(..., help="The account, as you would name it (typos are fine)."),
    quarter: str | None = typer.Option(None, "--quarter", help="The quarter, e.g. 2026Q4 (default: this one)."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the .pptx (default: <data_dir>/qbr/)."),
    as_json: bool = typer.Option(False, "--json", help="Print the deck's slides, notes and sources as JSON."),
    deterministic: bool = typer.Option(False, "--no-llm", help="Summary and next steps from the findings only."),
) -> None:
    """Build a QBR deck (PowerPoint, native charts, sources in the speaker notes) for one account."""
    from core.errors import RetainError
    from retain.decks import make_deck
    from retain.deps import chat_model

    if out is not None and out.suffix.lower() != ".pptx":
        raise RetainError(f"--out {out} must end in .pptx (a PowerPoint file).")
    rt = services()

    def warn(msg: str) -> None:
        Console(stderr=True).print(f"[yellow]note:[/] {escape(msg)}", highlight=False, soft_wrap=True)

    chat = None if deterministic else chat_model(rt.settings, None if as_json else warn)
    deck = make_deck(rt, _who(), account, quarter, chat)
    folder = Path(rt.settings.qbr.out_dir) if rt.settings.qbr.out_dir else rt.settings.data_dir / "qbr"
    path = out or folder / deck.filename
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_bytes(deck.pptx)
        tmp.replace(path)  # never a half-written deck under the real name
    except OSError as exc:
        raise RetainError(f"Could not write {path}: {exc.strerror or exc}. Pick another --out.") from None
    if as_json:
        info = {k: v for k, v in deck.info.items() if k != "findings"}
        _print_json({"file": str(path), "seconds": deck.seconds, **info, "slides": deck.spec["slides"]})
        return
    console.print(f"Wrote {escape(str(path))}: {len(deck.spec['slides'])} slides for "
                  f"{escape(deck.info['account']['name'])}, {deck.info['quarter']} ({deck.seconds:.1f} s; "
                  f"summary {deck.info['prose']}).", highlight=False, soft_wrap=True)
    for m in deck.info["missing"]:
        console.print(f"[dim]left out: {escape(m)}[/]", highlight=False)
