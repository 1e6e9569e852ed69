"""Where LangGraph keeps each thread's checkpoints: a SQLite file in the data folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def open_checkpointer(data_dir: Path) -> Any:
    """A SqliteSaver on `data_dir/checkpoints.sqlite` (WAL, shared across threads)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(data_dir / "checkpoints.sqlite"), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(conn)
