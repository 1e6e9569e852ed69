"""Playbook sections as citable sources, found by their heading (no embedding needed)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from integrations.memory.documents import Doc, knowledge_docs
from tools.context import Source


@cache
def _sections() -> dict[str, Doc]:
    return {d.meta["source_id"]: d for d in knowledge_docs()}


def _section(source_id: str) -> Doc:
    doc = _sections().get(source_id)
    if doc is None:
        raise KeyError(f"No playbook section {source_id}; see configs/knowledge/.")
    return doc


def playbook(source_id: str) -> Source:
    """The source reference of one playbook section, e.g. 'tuning.md#model-choice'."""
    return {"type": "playbook", "id": source_id, "date": "", "label": str(_section(source_id).meta["label"])}


def _lines(source_id: str, *tags: str) -> list[str]:
    return [line for line in _section(source_id).text.splitlines() if line.startswith(tags)]


def advice(source_id: str, values: Mapping[str, object]) -> list[str]:
    """A section's `Advice:` lines, filled in from `values`.

    A line needing a value that is missing is left out, and then the `Otherwise:` line after it
    (if any) is used instead.
    """
    known = {k: v for k, v in values.items() if v}
    out: list[str] = []
    skipped = False
    for line in _lines(source_id, "Advice: ", "Otherwise: "):
        if line.startswith("Otherwise: "):
            if skipped:
                out.append(line.removeprefix("Otherwise: ").strip())
            continue
        try:
            out.append(line.removeprefix("Advice: ").strip().format(**known))
            skipped = False
        except (KeyError, ValueError, IndexError):
            skipped = True
    return out


def play(source_id: str) -> str:
    """A section's one-line play (its `Play:` line)."""
    lines = _lines(source_id, "Play: ")
    if not lines:
        raise KeyError(f"Playbook section {source_id} has no 'Play:' line; see configs/knowledge/.")
    return lines[0].removeprefix("Play: ").strip()
