"""Per-test databases on the PostgreSQL server named by RETAIN_TEST_DATABASE_URL.

The URL's own database is used only to create and drop others: a seeded template once per session,
and one database per test (empty, or a copy of the template, which PostgreSQL makes at file level).
"""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class PgServer:
    """Creates and drops the suite's databases on one PostgreSQL server."""

    def __init__(self, url: str):
        self.base = make_url(url)
        if not self.base.drivername.startswith("postgresql"):
            raise SystemExit(f"RETAIN_TEST_DATABASE_URL must name a PostgreSQL server, not {self.base.drivername}")
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.server = f"{self.base.host}:{self.base.port or 5432}"
        self.prefix = f"retain_test_{os.getpid()}"
        self.seed = f"{self.prefix}_seed"
        self.extra: list[str] = []  # copies of the seed made outside a test's own database (dropped at the end)

    def name_for(self, nodeid: str) -> str:
        """A short database name for one test (PostgreSQL names stop at 63 bytes)."""
        return f"{self.prefix}_{hashlib.sha1(nodeid.encode()).hexdigest()[:12]}"

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of one of the suite's databases."""
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> None:
        """(Re)create a database, empty or as a copy of `template`."""
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if template:  # a template must have no other sessions while it is copied
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :t"),
                             {"t": template})
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))

    def drop(self, name: str) -> None:
        """Drop a database, ending any session a test left open on it."""
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
