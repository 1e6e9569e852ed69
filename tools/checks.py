"""Read-only SQL for the eval's checks: what a correct answer must hold, read from the database itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from integrations.crm.store import CRMStore


def rows(store: CRMStore, sql: str, params: dict[str, str]) -> list[tuple[Any, ...]]:
    """The rows of one check's SELECT (written by the eval's authors, never by a user or a model)."""
    with store.session() as s:
        return [tuple(r) for r in s.execute(text(sql), params)]


def decided_or_queued(store: CRMStore, draft_id: str) -> bool:
    """Whether a draft has an action-log row or an outbox item (it ran, or was decided)."""
    with store.session() as s:
        logged = s.execute(text("select count(*) from action_log where draft_id = :i"), {"i": draft_id}).scalar()
        queued = s.execute(text("select count(*) from outbox where key like :k"), {"k": f"%{draft_id}%"}).scalar()
    return bool(logged or queued)
