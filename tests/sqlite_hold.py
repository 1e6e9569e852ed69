"""A SQLite file held by another process while a real process opens it (the fault of two processes creating it).

The holder is a real SQLite connection with a write transaction on a new file (not yet WAL); the opener
is watched in /proc until it has the file open, then held a little longer, so the opener surely meets the
lock, without sleeping on a guess of its start-up time.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path


def run_while_held(path: Path, args: list[str], env: dict[str, str] | None = None,
                   grace: float = 3.0) -> tuple[int, str, str]:
    """Run `args` in a process while `path` is write-locked (a new file, as while another process creates
    it): until the process has the file open and `grace` seconds more, or until it ended (the old code
    failed there at once; `grace=inf`: until it ended). Its exit code, output and error output."""
    holder = sqlite3.connect(path, isolation_level=None)
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # no pipe to fill while it waits
    try:
        holder.execute("BEGIN IMMEDIATE")
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
        opened, deadline = None, time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            if opened is None and _has_open(proc.pid, path):
                opened = time.monotonic()
            if opened is not None and time.monotonic() - opened > grace:
                break
            time.sleep(0.02)
        holder.execute("COMMIT")
    finally:
        holder.close()
    proc.wait(300)
    out.seek(0)
    err.seek(0)
    with out, err:
        return proc.returncode, out.read(), err.read()


def _has_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir())
    except OSError:  # the process ended, or a descriptor closed while we looked
        return False
