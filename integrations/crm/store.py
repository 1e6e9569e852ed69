"""The CRM store: one SQLAlchemy engine (SQLite by default, any URL works) and versioned migrations.

Migrations only ever add: a table, a column, an index. They run in order, each in its own
transaction, and the applied version is recorded in `retain_meta`, so upgrading never touches
a user's rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError, mask_secrets
from integrations.crm.models import Base, Meta

Migration = Callable[[Connection], None]

_V1_TABLES = [
    "csms", "accounts", "contacts", "contracts", "telemetry_daily", "fine_tune_jobs", "tickets",
    "survey_responses", "onboarding_plans", "milestones", "activities", "renewal_events",
    "health_snapshots", "retain_meta",
]


def _v1_initial(conn: Connection) -> None:
    tables = [Base.metadata.tables[name] for name in _V1_TABLES]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def _v2_remembered_facts(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["remembered_facts"]], checkfirst=True)


def _v3_needs_and_actions(conn: Connection) -> None:
    tables = [Base.metadata.tables[n] for n in ("needs_profiles", "action_log")]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def _v4_slack_inbox(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["slack_inbox"]], checkfirst=True)


def _v5_outbox_and_scheduler(conn: Connection) -> None:
    tables = [Base.metadata.tables[n] for n in ("outbox", "scheduler_lease", "followup_state")]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def _v6_data_version_and_score_runs(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["score_runs"]], checkfirst=True)
    conn.execute(text("DELETE FROM retain_meta WHERE key = 'data_version'"))
    conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('data_version', '1')"))


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial CRM schema", _v1_initial),
    (2, "facts CSMs ask Retain to remember", _v2_remembered_facts),
    (3, "needs profiles and the approved-action log", _v3_needs_and_actions),
    (4, "the Slack inbox", _v4_slack_inbox),
    (5, "outbox, scheduler lease, follow-up state", _v5_outbox_and_scheduler),
    (6, "data version counter and stored portfolio scores", _v6_data_version_and_score_runs),
]

# Tables whose writes do not change what scores and answers are made from.
OPERATIONAL = frozenset({"retain_meta", "score_runs", "slack_inbox", "outbox", "scheduler_lease",
                         "followup_state", "action_log", "health_snapshots", "needs_profiles"})
_DML = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)
_BUMP = "UPDATE retain_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'data_version'"


def _track_writes(engine: Engine) -> None:
    """Bump `retain_meta.data_version` once in every transaction that writes a CRM table.

    The bump runs just before the write, on its DBAPI cursor (so a RETURNING result is left alone),
    inside the writer's transaction, so it commits or rolls back with the data. Readers compare one
    integer instead of digesting tables (`tools.scores.ScoreCache`). Writes made outside Retain (psql,
    another program) are not seen: run `retain scores --refresh` after them.
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
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # noqa: BLE001 - any driver/URL problem becomes one clear line
        raise ConfigError(f"Cannot use database_url {mask_secrets(repr(url))}: {mask_secrets(str(exc))}. "
                          "Check the URL (and that its driver is installed).") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _track_writes(engine)
    return engine


class CRMStore:
    """Access to the CRM database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
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
        """The last migration applied, 0 for an empty database."""
        if not inspect(self.engine).has_table("retain_meta"):
            return 0
        with self.engine.connect() as conn:
            value = conn.execute(
                select(Meta.value).where(Meta.key == "schema_version")
            ).scalar_one_or_none()
        return int(value) if value else 0

    def upgrade(self) -> int:
        """Apply every migration not yet applied; return the version reached."""
        current = self.schema_version()
        for version, _description, migrate in MIGRATIONS:
            if version <= current:
                continue
            with self.engine.begin() as conn:
                migrate(conn)
                conn.execute(text("DELETE FROM retain_meta WHERE key = 'schema_version'"))
                conn.execute(
                    text("INSERT INTO retain_meta(key, value) VALUES ('schema_version', :v)"),
                    {"v": str(version)},
                )
            current = version
        return current

    def data_version(self) -> int:
        """A number that grows with every committed write to a CRM table (0 before migration 6)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(Meta.value).where(Meta.key == "data_version")).scalar_one_or_none()
        return int(value) if value else 0

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


def open_store(url: str) -> CRMStore:
    """Open the store and bring its schema up to date."""
    store = CRMStore(url)
    store.upgrade()
    return store
