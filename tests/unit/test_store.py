import time

import pytest
from sqlalchemy import func, select, text

from integrations.crm.models import Account
from integrations.crm.store import head_revision, open_store


def test_a_database_from_before_alembic_upgrades_in_place_with_its_rows(rt):
    s = rt.store
    assert s.schema_version() == head_revision() >= 7
    with s.session() as sess:
        before = sess.scalar(select(func.count()).select_from(Account))
    with s.engine.begin() as conn:  # what a Retain 0.1 database looked like: numbered, no Alembic, no score_runs
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP TABLE score_runs"))
        conn.execute(text("DELETE FROM retain_meta WHERE key IN ('schema_version', 'data_version')"))
        conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('schema_version', '5')"))
    s.engine.dispose()
    again = open_store(rt.settings.db_url)
    assert again.schema_version() == head_revision() and again.data_version() == 1
    with again.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == f"{head_revision():04d}"
        assert conn.execute(text("SELECT count(*) FROM score_runs")).scalar() == 0
    with again.session() as sess:
        assert sess.scalar(select(func.count()).select_from(Account)) == before


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if not env.get("RETAIN_DATABASE_URL"):
        env["RETAIN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'new.db'}"
    # What `retain serve` opens first: the CRM (Alembic) and the conversation checkpoints (on PostgreSQL,
    # langgraph's setup, whose CREATE INDEX CONCURRENTLY once deadlocked with a process waiting for the lock).
    code = ("import sys; from pathlib import Path; from core.settings import load_settings; "
            "from integrations.checkpoints import open_checkpointer; "
            "from integrations.crm.store import open_store; s = open_store(load_settings().db_url); "
            "open_checkpointer(Path(sys.argv[1]), s); print(s.schema_version())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"w{i}")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    results = [p.communicate(timeout=1200) for p in procs]  # a deadlock fails here
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-500:] for _, err in results]
    assert [out.strip() for out, _ in results] == [str(head_revision())] * 4


def test_sqlite_pragmas(rt):
    if rt.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own settings: checked by the SQLite run of the suite")
    with rt.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_workers_waiting_for_the_migration_lock_do_not_block_the_checkpoint_setup(rt, tmp_path):
    """Workers started together on a new PostgreSQL: while one creates the checkpoint tables (whose
    CREATE INDEX CONCURRENTLY waits for every older snapshot), the others wait for the lock without
    holding one. Waiting inside pg_advisory_lock did hold one: every worker hung at start."""
    import os
    import subprocess
    import sys

    if rt.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's advisory lock and langgraph's Postgres setup: checked by the PostgreSQL run")
    code = ("import sys; from pathlib import Path; from core.settings import load_settings; "
            "from integrations.checkpoints import open_checkpointer; from integrations.crm.store import open_store; "
            "s = open_store(load_settings().db_url); print('waiting', flush=True); "
            "open_checkpointer(Path(sys.argv[1]), s); print('open', flush=True)")
    env = {**os.environ, "RETAIN_DATABASE_URL": rt.settings.db_url}
    with rt.store.migration_lock():  # held while all three come to wait for it
        procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"w{i}")], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
        assert [p.stdout.readline().strip() for p in procs] == ["waiting"] * 3  # type: ignore[union-attr]
        time.sleep(1)  # each is now inside migration_lock's wait
    try:
        results = [p.communicate(timeout=600) for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        raise AssertionError("the workers deadlocked in the checkpoint store's setup") from None
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-500:] for _, err in results]
    assert [out.strip() for out, _ in results] == ["open"] * 3
    with rt.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoint_migrations")).scalar() > 0


def test_the_head_revision_read_from_file_names_is_alembics_and_an_up_to_date_store_opens_without_alembic(rt):
    import subprocess
    import sys

    from integrations.crm.store import _scripts

    assert head_revision() == int(_scripts().get_current_head())
    probe = ("import sys; from integrations.crm.store import open_store; "
             f"s = open_store({rt.settings.db_url!r}); s.data_version(); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "False"
