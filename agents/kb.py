"""Playbook sections as citable sources, found by their heading (no embedding needed)."""

from __future__ import annotations

from functools import cache
from typing import Any

from integrations.memory import knowledge_docs


@cache
def _sections() -> dict[str, Any]:
    return {d.meta["source_id"]: d for d in knowledge_docs()}


def playbook(source_id: str) -> dict[str, Any]:
    """The source reference of one playbook section, e.g. 'tuning.md#model-choice'."""
    doc = _sections().get(source_id)
    if doc is None:
        raise KeyError(f"No playbook section {source_id}; see configs/knowledge/.")
    return {"type": "playbook", "id": source_id, "date": "", "label": doc.meta["label"]}


def excerpt(source_id: str, sentences: int = 2) -> str:
    """The first sentences of a playbook section."""
    body = _sections()[source_id].text.split("\n", 1)[1]
    parts = body.replace("\n", " ").split(". ")
    return ". ".join(parts[:sentences]).rstrip(".") + "."
