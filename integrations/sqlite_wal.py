"""Opening a SQLite file the way every Retain connection does: a busy timeout, then WAL.

The busy timeout comes first so every statement after it waits for other processes' locks. WAL itself
needs more than the timeout: turning a *new* file (rollback journal) into WAL reads its header and then
takes the write lock from inside that read, and SQLite never calls the busy handler for such an
upgrade. Two processes creating the same file at once (two `retain jobs run` creating
`checkpoints.sqlite`, two workers on a new data folder) then fail at once with "database is locked",
whatever the busy timeout. So a file already in WAL (every open after the first) is left alone, and
the switch is retried until the busy timeout has passed, as a write would wait.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

BUSY_TIMEOUT_MS = 10_000  # how long a statement waits for another connection's lock before "database is locked"


def busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (SQLITE_BUSY), raw or wrapped by SQLAlchemy, a few causes deep."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.OperationalError) and "database is locked" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def use_wal(conn: Any, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Set the busy timeout on a DBAPI sqlite3 connection, then WAL mode (waiting for a process that holds the file).

    An in-memory database stays as it is (SQLite answers "memory"), as does a file SQLite will not switch.
    """
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.005
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if not busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
