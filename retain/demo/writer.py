"""Writes a generated portfolio into the CRM store in one transaction, in bulk.

Rows go in chunks as they are generated (`Portfolio.chunks`): SQLite takes them through `executemany`,
PostgreSQL through `COPY ... FROM STDIN`, which is several times faster than row inserts there. The
replacement is still one transaction: a failed seed leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, text

from integrations.crm.models import Base
from integrations.crm.store import CRMStore
from retain.demo.model import Portfolio

# Operational tables a re-seed keeps: the event inbox, the outbox, the scheduler's lease, metadata.
KEEP = {"outbox", "retain_meta", "scheduler_lease", "slack_inbox"}
TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP]  # parents before children
CHUNK_ROWS = 50_000  # rows per executemany / COPY batch


def write(store: CRMStore, pf: Portfolio, progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Replace the store's contents with the portfolio in one transaction; return row counts."""
    tick = progress or (lambda _stage, _frac: None)
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # generated rows are consistent by construction: no per-row foreign-key look-ups
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside a transaction, where SQLite obeys it
            conn.commit()
        try:
            with conn.begin():
                _replace(conn, pf, counts, tick)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    store.reset_sequences()
    store.analyze()
    return counts


def _replace(conn: Connection, pf: Portfolio, counts: dict[str, int], tick: Callable[[str, float], None]) -> None:
    """Delete every CRM row and insert the portfolio's (inside the caller's transaction)."""
    for table in reversed(TABLES):
        conn.execute(text(f"DELETE FROM {table}"))
    filled = [t for t in TABLES if t in pf.columns]
    for k, table in enumerate(filled):
        counts[table] = _insert(conn, table, pf.columns[table], pf.chunks(table))
        tick(table, 0.9 + 0.1 * (k + 1) / len(filled))
    conn.execute(text("DELETE FROM retain_meta WHERE key IN ('demo_anchor', 'demo_seed')"))
    conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('demo_anchor', :a)"), {"a": pf.anchor.isoformat()})


def _insert(conn: Connection, table: str, cols: list[str], chunks: Iterable[list[tuple[Any, ...]]]) -> int:
    """Insert every chunk's rows into `table`; return how many."""
    n = 0
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection  # psycopg 3, inside this transaction
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for chunk in chunks:
                for row in chunk:
                    copy.write_row(row)
                n += len(chunk)
        return n
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    for chunk in chunks:
        for k in range(0, len(chunk), CHUNK_ROWS):
            conn.exec_driver_sql(sql, chunk[k : k + CHUNK_ROWS])
        n += len(chunk)
    return n
