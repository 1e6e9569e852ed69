"""Where LangGraph keeps each thread's checkpoints: beside the CRM.

SQLite CRM (the laptop default): a SQLite file in the data folder. PostgreSQL CRM: the same
database, through langgraph-checkpoint-postgres (the `postgres` extra), so a thread's follow-up
answered by another worker still has the conversation.

Checkpoints are read with LangGraph's strict msgpack serializer: only plain values, dates, LangChain
messages, LangGraph's own types and the graph state's types (which `compile` adds to the allow-list)
come back; a blob naming any other callable is refused with a logged warning and its value dropped,
never imported or called, and pickled blobs are not read at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from sqlalchemy.engine import make_url

from core.errors import ConfigError
from integrations.crm.store import CRMStore
from integrations.sqlite_wal import use_wal


def strict_serde() -> JsonPlusSerializer:
    """The checkpoint serializer: msgpack limited to LangGraph's safe types, no pickle."""
    return JsonPlusSerializer(pickle_fallback=False, allowed_msgpack_modules=None)


def open_checkpointer(data_dir: Path, store: CRMStore | None = None, pool_size: int = 5) -> Any:
    """A PostgresSaver on the CRM store's PostgreSQL database, else a SqliteSaver in `data_dir`."""
    if store is not None and store.engine.dialect.name == "postgresql":
        return _postgres(store, pool_size)
    from langgraph.checkpoint.sqlite import SqliteSaver

    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(data_dir / "checkpoints.sqlite"), check_same_thread=False)
    use_wal(conn)  # two processes creating the file at once both get it (and wait on each other's writes)
    return SqliteSaver(conn, serde=strict_serde())


def _postgres(store: CRMStore, pool_size: int) -> Any:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool
    except ImportError:
        raise ConfigError("The CRM is PostgreSQL but its checkpoint store is not installed: install "
                          "Retain with the postgres extra (pip install 'retain[postgres]').") from None
    conninfo = make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = ConnectionPool(conninfo, min_size=1, max_size=max(2, pool_size), open=True,
                          check=ConnectionPool.check_connection,  # after a database restart: a new connection
                          kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
    saver = PostgresSaver(pool, serde=strict_serde())  # type: ignore[arg-type]
    with store.migration_lock():  # several workers starting at once: one creates the tables
        saver.setup()
    return saver
