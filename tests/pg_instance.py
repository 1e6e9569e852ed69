"""A PostgreSQL server of one test's own (its own data directory and port), which the test may stop and start.

The fault tests restart PostgreSQL under a running deployment; doing that to the suite's shared
server (`.ci/postgres`) would break every other test's database, so they start this one from the
same binaries (Debian's package), seed it with a dump of the suite's seeded database, and remove it
at the end. As root, the server runs as the `postgres` user (initdb refuses root), like .ci/postgres.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(found[-1]) if found else None


def _as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgInstance:
    """initdb, start, stop, start again; `url(db)` for SQLAlchemy; `close()` stops it and removes its files."""

    def __init__(self):
        self.bin = _bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's binaries are not installed (see .ci/postgres)")
        self.dir = Path(tempfile.mkdtemp(prefix="retain-fault-pg."))
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        r = _as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "--auth=trust", "-U", "postgres",
                          "-E", "UTF8"])
        if r.returncode:
            raise RuntimeError(r.stderr[-2000:])
        self.start()

    def start(self) -> None:
        """Start the server (and wait until it accepts connections)."""
        r = _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
                          "-w", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                      "-c max_connections=300 -c fsync=off", "start"])
        if r.returncode:
            raise RuntimeError(r.stderr[-2000:] + self.log())

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (what a restart or failover does), `immediate` crashes it."""
        r = _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"])
        if r.returncode:
            raise RuntimeError(r.stderr[-2000:])

    def url(self, db: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def copy_from(self, source_url: str, db: str) -> str:
        """Create `db` here as a copy of the database at `source_url` (pg_dump | pg_restore); its URL."""
        src = source_url.replace("postgresql+psycopg://", "postgresql://")
        dump = self.dir / f"{db}.dump"
        r = subprocess.run([str(self.bin / "pg_dump"), "-Fc", "-f", str(dump), "-d", src], capture_output=True,
                           text=True, timeout=300)
        if r.returncode:
            raise RuntimeError(r.stderr[-2000:])
        base = f"postgresql://postgres@127.0.0.1:{self.port}"
        for cmd in ([str(self.bin / "psql"), "-d", f"{base}/postgres", "-c", f'CREATE DATABASE "{db}"'],
                    [str(self.bin / "pg_restore"), "--no-owner", "-d", f"{base}/{db}", str(dump)]):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if r.returncode:
                raise RuntimeError(r.stderr[-2000:])
        return self.url(db)

    def log(self) -> str:
        """The server's log (for a failure message)."""
        try:
            return (self.dir / "server.log").read_text()[-3000:]
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the server if it runs and remove its directory."""
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)
