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
    code = ("from core.settings import load_settings; from integrations.crm.store import head_revision, open_store; "
            "print(open_store(load_settings().db_url).schema_version())")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-500:] for _, err in results]
    assert [out.strip() for out, _ in results] == [str(head_revision())] * 4


def test_sqlite_pragmas(rt):
    if rt.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own settings: checked by the SQLite run of the suite")
    with rt.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
