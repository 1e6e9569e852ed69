"""Writes a generated portfolio into the CRM store in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text

from integrations.crm.models import Base
from integrations.crm.store import CRMStore
from retain.demo.model import Portfolio

# Operational tables a re-seed keeps: the event inbox, the outbox, the scheduler's lease, metadata.
KEEP = {"outbox", "retain_meta", "scheduler_lease", "slack_inbox"}
TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP]  # parents before children


def write(store: CRMStore, pf: Portfolio, progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Replace the store's contents with the portfolio in one transaction; return row counts."""
    tick = progress or (lambda _stage, _frac: None)
    mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        for table in reversed(TABLES):
            conn.execute(text(f"DELETE FROM {table}"))
        filled = [t for t in TABLES if t in pf.columns]
        for k, table in enumerate(filled):
            rows = pf.tables.get(table, [])
            cols = pf.columns.get(table)
            if not rows or not cols:
                counts[table] = 0
                continue
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
            for chunk in _chunks(rows, 50_000):
                conn.exec_driver_sql(sql, chunk)
            counts[table] = len(rows)
            tick(table, 0.9 + 0.1 * (k + 1) / len(filled))
        conn.execute(text("DELETE FROM retain_meta WHERE key IN ('demo_anchor', 'demo_seed')"))
        conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('demo_anchor', :a)"),
                     {"a": pf.anchor.isoformat()})
    store.reset_sequences()
    store.analyze()
    return counts


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterable[list[tuple[Any, ...]]]:
    for k in range(0, len(rows), size):
        yield rows[k : k + size]
