"""The CRM store: one SQLAlchemy engine (SQLite by default, any URL works) and Alembic migrations.

Migrations (`migrations/versions`, what they do in `schema.py`) run at open, under a lock, in one
transaction; they never drop a user's rows. Every write to a CRM table bumps a data version in the
same transaction, so caches of derived data (`tools.scores`) know when to recompute.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from sqlalchemy import Connection, Integer, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError, mask_secrets
from integrations.crm.models import OPERATIONAL, Base, Meta
from integrations.sqlite_wal import use_wal

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 7_265_213_001  # the advisory lock every Retain process takes to migrate


def _alembic_config(conn: Connection | None = None) -> Config:
    # Alembic loads only when the schema must change: a database at head is checked without it,
    # which keeps a third of a second of imports off every command's start.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory  # start-up cost: see _alembic_config

    return ScriptDirectory.from_config(_alembic_config())


@lru_cache(maxsize=1)
def head_revision() -> int:
    """The newest schema revision this Retain knows: revision files are named by their number (0001_...).

    Read from the file names, not through Alembic, so a command on an up-to-date database starts
    without loading Alembic (tests check both agree).
    """
    return max((int(f.name[:4]) for f in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")), default=0)


_DML = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)
_BUMP = "UPDATE retain_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'data_version'"


def _track_writes(engine: Engine) -> None:
    """Bump `retain_meta.data_version` once in every transaction that writes a CRM table (SQLite).

    The bump runs just before the write, on its DBAPI cursor (so a RETURNING result is left alone),
    inside the writer's transaction, so it commits or rolls back with the data. Readers compare one
    integer instead of digesting tables (`tools.scores.ScoreCache`). On SQLite, writes made outside
    Retain (the sqlite3 shell, another program) are not seen: run `retain scores --refresh` after them.
    PostgreSQL bumps the same counter in triggers (`schema.track_writes`), which see every writer.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if conn.info.get("bumped"):
            return
        m = _DML.match(statement)
        if m and m.group(1).lower() not in OPERATIONAL:
            cursor.execute(_BUMP)
            conn.info["bumped"] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn):  # type: ignore[no-untyped-def]
        conn.info.pop("bumped", None)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    use_wal(dbapi_conn)  # the busy timeout first; WAL without "database is locked" beside another new opener
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, pool: Any = None) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout; a server gets `pool`'s sizes.

    `pool` is `core.settings.DatabaseSettings` (pool_size, max_overflow, pool_timeout_s, pool_recycle_s).
    """
    kw: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
    elif pool is not None:
        kw = {"pool_size": pool.pool_size, "max_overflow": pool.max_overflow, "pool_timeout": pool.pool_timeout_s,
              "pool_recycle": pool.pool_recycle_s, "pool_pre_ping": True}
    try:
        engine = create_engine(url, future=True, **kw)
    except Exception as exc:  # noqa: BLE001 - any driver/URL problem becomes one clear line
        raise ConfigError(f"Cannot use database_url {mask_secrets(repr(url))}: {mask_secrets(str(exc))}. "
                          "Check the URL (and that its driver is installed).") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name != "postgresql":
        _track_writes(engine)
    return engine


class CRMStore:
    """Access to the CRM database."""

    def __init__(self, url: str, pool: Any = None):
        self.url = url
        self.engine = make_engine(url, pool)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def schema_version(self) -> int:
        """The schema revision applied (Alembic's, as a number), 0 for an empty database."""
        insp = inspect(self.engine)
        if insp.has_table("alembic_version"):
            with self.engine.connect() as conn:
                rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
            return int(rev) if rev else 0
        if not insp.has_table("retain_meta"):
            return 0
        with self.engine.connect() as conn:  # a database made before Alembic
            value = conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one_or_none()
        return int(value) if value else 0

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """One process at a time changes the schema: a PostgreSQL advisory lock, a file lock on SQLite."""
        if self.engine.dialect.name == "postgresql":
            # A session-level lock on a connection outside any transaction, waited for by polling: a
            # migration that waits for older snapshots (CREATE INDEX CONCURRENTLY in the checkpoint
            # store's setup) must not wait on the lock holder's connection, nor on a process blocked
            # in pg_advisory_lock (its statement holds a snapshot until it gets the lock: a deadlock
            # PostgreSQL cannot see, since the holder waits on its own client).
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                pause = 0.02
                while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY}).scalar():
                    time.sleep(pause)
                    pause = min(pause * 2, 0.5)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
        elif self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            with FileLock(f"{self.engine.url.database}.migrate.lock", timeout=600):
                yield
        else:
            yield

    def upgrade(self) -> int:
        """Bring the schema to Alembic's head under the migration lock; return the revision reached.

        Already at head: one query, no lock. A database made before Alembic is stamped at the
        revision its `retain_meta.schema_version` names, then upgraded with its rows in place.
        """
        head = head_revision()
        if self.schema_version() == head and inspect(self.engine).has_table("alembic_version"):
            return head
        from alembic import command  # start-up cost: see _alembic_config
        from alembic.runtime.migration import MigrationContext

        with self.migration_lock(), self.engine.begin() as conn:
            cfg = _alembic_config(conn)
            if MigrationContext.configure(conn).get_current_revision() is None:
                legacy = conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one_or_none() \
                    if inspect(conn).has_table("retain_meta") else None
                if legacy:
                    command.stamp(cfg, f"{int(legacy):04d}")
            command.upgrade(cfg, "head")
            conn.execute(text("DELETE FROM retain_meta WHERE key = 'schema_version'"))
            conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('schema_version', :v)"), {"v": str(head)})
        return head

    def data_version(self) -> int:
        """A number that grows with every committed write to a CRM table (0 before migration 6)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(Meta.value).where(Meta.key == "data_version")).scalar_one_or_none()
        return int(value) if value else 0

    def reset_sequences(self) -> None:
        """After rows were written with explicit ids (a seed, a restore), move each id sequence past them.

        PostgreSQL's SERIAL sequences do not see explicit ids: the next insert would reuse id 1.
        SQLite needs nothing (it takes the largest rowid).
        """
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
                    continue
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": table.name, "c": pk[0].name}).scalar()
                if seq:
                    top = f'SELECT MAX("{pk[0].name}") FROM "{table.name}"'
                    conn.execute(text(f"SELECT setval(:s, COALESCE(({top}), 0) + 1, false)"), {"s": seq})

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (SQLite then skip-scans telemetry by day)."""
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=2000")
            conn.exec_driver_sql("ANALYZE")

    def get_meta(self, key: str) -> str | None:
        """Read a value from retain_meta."""
        with self.engine.connect() as conn:
            return conn.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()

    def set_meta(self, key: str, value: str) -> None:
        """Write a value to retain_meta."""
        with self.session() as s:
            s.merge(Meta(key=key, value=value))


def open_store(url: str, pool: Any = None) -> CRMStore:
    """Open the store and bring its schema up to date."""
    store = CRMStore(url, pool)
    store.upgrade()
    return store
