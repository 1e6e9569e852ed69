from sqlalchemy import func, select, text

from integrations.crm import store as store_mod
from integrations.crm.models import Account
from integrations.crm.store import open_store


def test_upgrade_is_versioned_and_keeps_rows(rt, monkeypatch):
    s = rt.store
    with s.session() as sess:
        before = sess.scalar(select(func.count()).select_from(Account))
    assert s.schema_version() == store_mod.MIGRATIONS[-1][0]

    def add_column(conn):
        conn.execute(text("ALTER TABLE accounts ADD COLUMN region VARCHAR(50)"))

    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + [(99, "add region", add_column)])
    again = open_store(rt.settings.db_url)
    assert again.schema_version() == 99
    assert open_store(rt.settings.db_url).schema_version() == 99  # applied once only
    with again.session() as sess:
        assert sess.scalar(select(func.count()).select_from(Account)) == before


def test_sqlite_pragmas(rt):
    with rt.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
