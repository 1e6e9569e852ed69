"""Every SQLite file Retain opens (the CRM, the conversation checkpoints, the embedding cache) is opened by
real processes while another process holds it, the way two `retain jobs run` create `checkpoints.sqlite`
at once: the opener waits for the holder (the busy timeout) and gets a WAL file, never "database is locked".

A new file is switched to WAL from inside a read, and SQLite does not call the busy handler for that
upgrade: before the fix, a process opening it while another held the lock failed at once.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from sqlite_hold import run_while_held

OPEN = {  # each opener, in a process of its own: open the file the way Retain does, then one write
    "crm": "from integrations.crm.store import CRMStore\n"
           "with CRMStore(f'sqlite:///{path}').engine.begin() as c:\n"
           "    c.exec_driver_sql('CREATE TABLE IF NOT EXISTS t (x)')\n",
    "checkpoints": "from integrations.checkpoints import open_checkpointer\n"
                   "open_checkpointer(path.parent).setup()\n",
    "embedding cache": "from integrations.memory.chroma import EmbeddingCache\n"
                       "EmbeddingCache(path, 'model')\n",
}
FILES = {"crm": "retain.db", "checkpoints": "checkpoints.sqlite", "embedding cache": "vectors.sqlite"}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="watches the opener's open files in /proc")
@pytest.mark.parametrize("what", list(OPEN))
def test_a_new_sqlite_file_held_by_another_process_is_waited_for_not_locked(tmp_path, what):
    path = tmp_path / FILES[what]
    script = f"from pathlib import Path\npath = Path({str(path)!r})\n{OPEN[what]}"
    code, _, err = run_while_held(path, [sys.executable, "-c", script])
    assert code == 0 and "database is locked" not in err, err[-2000:]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
