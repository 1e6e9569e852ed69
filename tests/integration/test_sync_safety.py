"""Issue 29 items 4 and 5: one bad record or a talkative server cannot poison a sync or leak a token.

The real hubspot-api-client and simple-salesforce talk to the local servers in tests/ that speak
their APIs; runs are recorded in the real store and read back through `retain sync status`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PG, TODAY
from crm_world import CSMS, world
from mock_hubspot import MockHubSpot
from sqlalchemy import select

from core.settings import load_settings
from integrations.crm.models import SyncRun
from integrations.crm.source import AuthError
from tools import crm_sync, people
from tools.services import Services

TOKEN = "pat-na1-5f3c9a2e-1b7d-4c8e-9f00-0123456789ab"


def _empty(tmp_path: Path, **settings) -> Services:
    extra = dict(settings)
    if PG:
        db = PG.name_for(f"{tmp_path}/crm")
        PG.create(db)
        PG.extra.append(db)
        extra["database_url"] = PG.url(db)
    rt = Services(load_settings(data_dir=str(tmp_path / "crm"), today=TODAY.isoformat(), **extra))
    for n, e in CSMS:
        people.add(rt.store, people.Person(name=n, email=e))
    return rt


def _env(rt: Services, **extra: str) -> dict[str, str]:
    return {"RETAIN_DATA_DIR": str(rt.settings.data_dir), **extra,
            **({"RETAIN_DATABASE_URL": rt.settings.database_url} if rt.settings.database_url else {})}


def test_a_401_quoting_the_token_is_masked_when_shown_stored_and_listed(tmp_path, run_cli):
    mock = MockHubSpot(world(3), token="pat-na1-00000000-rotated", quote_auth=True)  # our token is no longer valid
    try:
        rt = _empty(tmp_path, connectors={"hubspot": {"access_token": TOKEN, "base_url": mock.url}})
        source, mapping = crm_sync.connect(rt.settings, "hubspot")
        with pytest.raises(AuthError) as err:
            crm_sync.run(rt.store, source, mapping)
        assert "Bearer ***" in str(err.value)  # what the server said, without the secret
        with rt.store.session() as s:
            stored = [r.error or "" for r in s.scalars(select(SyncRun))]
        assert stored and all(TOKEN not in e and "5f3c9a2e" not in e for e in stored)
        assert any("Bearer ***" in e for e in stored)
        env = _env(rt, RETAIN_CONNECTORS__HUBSPOT__ACCESS_TOKEN=TOKEN, RETAIN_CONNECTORS__HUBSPOT__BASE_URL=mock.url)
        code, out, errtext = run_cli("sync", "hubspot", env_extra=env)
        assert code != 0 and "5f3c9a2e" not in out + errtext and "Bearer ***" in errtext
        for args in (("sync", "status"), ("sync", "status", "--json")):
            code, out, errtext = run_cli(*args, env_extra=env)
            assert code == 0 and "hubspot:accounts" in out and "5f3c9a2e" not in out + errtext, errtext
    finally:
        mock.close()


def test_an_error_stored_by_any_writer_is_masked(rt):
    """`sync_runs.error` is masked by the model itself: a file import, the warehouse, a connector alike."""
    with rt.store.session() as s:
        s.add(SyncRun(source="warehouse:telemetry", started_at=TODAY, status="failed",
                      error=f"connect failed: postgresql://bi:s3cr/et@wh/db; header Bearer {TOKEN}"))
    with rt.store.session() as s:
        error = s.scalars(select(SyncRun.error)).one()
    assert "s3cr/et" not in error and TOKEN not in error and "bi:***@wh" in error
