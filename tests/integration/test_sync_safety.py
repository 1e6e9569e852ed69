"""Issue 29 items 4 and 5: one bad record or a talkative server cannot poison a sync or leak a token.

The real hubspot-api-client and simple-salesforce talk to the local servers in tests/ that speak
their APIs; runs are recorded in the real store and read back through `retain sync status`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import PG, TODAY
from crm_world import CSMS, expected, world
from mock_hubspot import MockHubSpot
from mock_salesforce import MockSalesforce, sfid
from sqlalchemy import func, select

from core.settings import load_settings
from integrations.crm.models import Account, Contact, Contract, SyncRun
from integrations.crm.source import AuthError, SourceError
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


# ---------------------------------------------------------------- item 4: one bad record cannot stall a sync
class Crm:
    """One mock CRM and a Retain synced from it, with what the tests change in it."""

    def __init__(self, tmp_path: Path, kind: str):
        self.kind, w = kind, world()
        self.world = w
        if kind == "hubspot":
            self.mock = MockHubSpot(w)
            conn = {"hubspot": {"access_token": self.mock.token, "base_url": self.mock.url}}
        else:
            self.mock = MockSalesforce(w, tmp_path)
            conn = {"salesforce": {"instance_url": self.mock.url, "access_token": self.mock.token,
                                   "ca_bundle": str(self.mock.cert)}}
        self.rt = _empty(tmp_path, connectors={"page_size": 5, **conn})
        self.source, self.mapping = crm_sync.connect(self.rt.settings, kind, sleep=lambda _s: None)

    def run(self, **kw):
        return crm_sync.run(self.rt.store, self.source, self.mapping, page_size=5, **kw)

    def company(self, n: int) -> tuple[dict, str]:
        """The n-th company's mock record and its Retain external id."""
        c = self.world.of("company")[n]
        if self.kind == "hubspot":
            return self.mock.data["companies"][c.id], c.id
        return self.mock.data["Account"][sfid("001", c.id)], sfid("001", c.id)

    def latest(self) -> datetime:
        key = "modified" if self.kind == "hubspot" else "_modified"
        return max(r[key] for t in self.mock.data.values() for r in t.values() if r[key].year < 2100)

    def change(self, n: int, name: str, when: datetime | None = None, raw: str | None = None) -> str:
        """Rename the n-th company at `when` (just after every real change by default); its external id."""
        rec, ext = self.company(n)
        when = when or self.latest() + timedelta(seconds=1)
        if self.kind == "hubspot":
            rec["props"]["name"], rec["modified"] = name, when
            if raw:
                rec["raw_modified"] = raw
        else:
            rec["Name"], rec["_modified"] = name, when
            if raw:
                rec["_raw_modified"] = raw
        return ext

    def name(self, ext: str) -> str:
        with self.rt.store.session() as s:
            return s.scalar(select(Account.name).where(Account.external_id == ext))

    def close(self):
        self.mock.close()


@pytest.fixture(params=["hubspot", "salesforce"])
def crm(request, tmp_path):
    c = Crm(tmp_path, request.param)
    c.run()  # the first full sync
    yield c
    c.close()


def _accounts_run(c: Crm, out: dict) -> dict:
    return next(k for k in out["kinds"] if k["kind"] == "accounts")


def test_a_record_dated_2999_is_rejected_and_never_moves_the_checkpoint(crm):
    poisoned = crm.change(0, "Poisoned Name", when=datetime(2999, 1, 1, tzinfo=UTC))
    acc = _accounts_run(crm, crm.run())
    assert acc["status"] == "ok" and acc["rejected"] >= 1
    assert any("in the future" in why for _id, why in acc["problems"])
    assert not crm_sync.checkpoint(crm.rt.store, f"{crm.kind}:accounts").startswith("2999")
    assert crm.name(poisoned) != "Poisoned Name"
    later = crm.change(1, "Renamed After The Poison")  # a real change made afterwards still arrives
    crm.run()
    assert crm.name(later) == "Renamed After The Poison"


def test_an_unreadable_time_is_one_rejected_record_not_a_failed_run(crm):
    garbled = crm.change(0, "Garbled Time Co", raw="31/02/2026 25:61")
    for _ in range(2):  # and the run after it, too
        acc = _accounts_run(crm, crm.run())
        assert acc["status"] == "ok" and any("not a time" in why for _id, why in acc["problems"])
    assert crm.name(garbled) != "Garbled Time Co"
    later = crm.change(1, "Renamed After The Garble")
    crm.run()
    assert crm.name(later) == "Renamed After The Garble"


@pytest.mark.parametrize("stored", ["2999-01-01T00:00:00.000Z", "garbage"])
def test_a_poisoned_stored_checkpoint_is_passed_over(crm, stored):
    """A checkpoint written by an older Retain (2999) or garbled: the next run resumes from the last good one."""
    good = crm_sync.checkpoint(crm.rt.store, f"{crm.kind}:accounts")
    with crm.rt.store.session() as s:
        s.add(SyncRun(source=f"{crm.kind}:accounts", started_at=datetime.now(), finished_at=datetime.now(),
                      status="ok", watermark=stored))
    assert crm_sync.checkpoint(crm.rt.store, f"{crm.kind}:accounts") == good
    later = crm.change(1, "Renamed After A Bad Checkpoint")
    acc = _accounts_run(crm, crm.run())
    assert acc["status"] == "ok" and crm.name(later) == "Renamed After A Bad Checkpoint"


def _stuck(c: Crm, cursor: str) -> None:
    c.change(0, "Changed Again")
    c.mock.down_after = 200  # a safety net: an endless pager would get 503s after 200 requests
    c.mock.stuck_cursor = cursor if c.kind == "hubspot" else True
    before = len(c.mock.requests)
    with pytest.raises(SourceError, match="cursor|same next page"):
        c.run(full=True)
    assert len(c.mock.requests) - before < 20
    with c.rt.store.session() as s:
        statuses = set(s.scalars(select(SyncRun.status)))
    assert "running" not in statuses and "failed" in statuses


def test_a_cursor_that_never_ends_stops_the_run_with_a_clear_status(crm):
    _stuck(crm, "5")  # HubSpot: `after=5` on every page; Salesforce: nextRecordsUrl naming the same page


def test_an_unreadable_hubspot_cursor_stops_the_run_with_a_clear_status(tmp_path):
    c = Crm(tmp_path, "hubspot")
    try:
        c.run()
        _stuck(c, "zzz")
    finally:
        c.close()


def test_a_run_reads_at_most_max_pages_and_the_next_goes_on(tmp_path):
    c = Crm(tmp_path, "hubspot")
    try:
        out = c.run(max_pages=2)
        assert out["status"] == "limited" and "max_pages" in out["error"]
        with c.rt.store.session() as s:
            assert s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "running")) == 0
            assert s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "limited")) == 1
        for _ in range(40):
            if c.run(max_pages=2)["status"] == "ok":
                break
        with c.rt.store.session() as s:
            got = {"accounts": s.scalar(select(func.count()).select_from(Account)),
                   "contacts": s.scalar(select(func.count()).select_from(Contact)),
                   "contracts": s.scalar(select(func.count()).select_from(Contract))}
        want = expected(c.world)
        assert got == {k: want[k] for k in got}
    finally:
        c.close()
