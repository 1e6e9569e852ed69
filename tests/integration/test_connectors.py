"""CRM connectors: the real hubspot-api-client and simple-salesforce against local servers speaking their APIs.

Each fills an empty CRM, re-syncs idempotently, resumes after an outage mid-way without reading
from the start, honours rate limits, and fails clearly on bad credentials.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PG, TODAY
from crm_world import CSMS, expected, world
from mock_hubspot import MockHubSpot
from mock_salesforce import MockSalesforce, sfid
from sqlalchemy import func, select

from agents.assistant import Assistant
from core.settings import load_settings
from integrations.crm.models import CSM, Account, Activity, Contact, Contract, SyncRun, Ticket
from integrations.crm.source import AuthError, SourceError
from retain.jobs import job_specs
from tools import crm_sync, people
from tools.services import Services

MODELS = {"accounts": Account, "contacts": Contact, "contracts": Contract, "tickets": Ticket, "notes": Activity}


def _empty(tmp_path: Path, name: str = "crm", **settings) -> Services:
    extra = dict(settings)
    if PG:
        db = PG.name_for(f"{tmp_path}/{name}")
        PG.create(db)
        PG.extra.append(db)
        extra["database_url"] = PG.url(db)
    rt = Services(load_settings(data_dir=str(tmp_path / name), today=TODAY.isoformat(), **extra))
    for n, e in CSMS:
        people.add(rt.store, people.Person(name=n, email=e))
    return rt


def _counts(rt: Services) -> dict[str, int]:
    with rt.store.session() as s:
        return {k: s.scalar(select(func.count()).select_from(m)) for k, m in MODELS.items()}


def _version(rt: Services) -> int:
    return rt.store.data_version()


@pytest.fixture
def hubspot():
    w = world()
    mock = MockHubSpot(w)
    yield w, mock
    mock.close()


@pytest.fixture
def salesforce(tmp_path):
    w = world()
    mock = MockSalesforce(w, tmp_path)
    yield w, mock
    mock.close()


def _hs(tmp_path, mock, **extra) -> tuple[Services, object, crm_sync.CrmMapping]:
    rt = _empty(tmp_path, connectors={"page_size": 5, "hubspot": {"access_token": mock.token, "base_url": mock.url,
                                                                   **extra}})
    source, mapping = crm_sync.connect(rt.settings, "hubspot")
    return rt, source, mapping


def _sf(tmp_path, mock, **extra) -> tuple[Services, object, crm_sync.CrmMapping]:
    rt = _empty(tmp_path, connectors={"page_size": 5, "salesforce": {
        "instance_url": mock.url, "access_token": mock.token, "ca_bundle": str(mock.cert), **extra}})
    source, mapping = crm_sync.connect(rt.settings, "salesforce")
    return rt, source, mapping


def test_hubspot_fills_an_empty_crm_and_resyncs_idempotently(tmp_path, hubspot):
    w, mock = hubspot
    rt, source, mapping = _hs(tmp_path, mock)
    out = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert out["status"] == "ok"
    assert _counts(rt) == expected(w)
    by_kind = {k["kind"]: k for k in out["kinds"]}
    # Real-CRM oddities: a ticket without a subject rejected with its id, a lone contact ignored,
    # an account owned by someone who is not a Retain CSM comes in unassigned.
    assert [rid for rid, _ in by_kind["tickets"]["problems"]] == [w.of("ticket")[3].id]
    assert "subject" in by_kind["tickets"]["problems"][0][1]
    assert by_kind["contacts"]["ignored"] == 1
    assert by_kind["accounts"]["unassigned"] == {"Globex Analytics": "pat.nobody@vendor.example"}
    # Many pages (5 a page), each record's company from the associations API, owners from the owners API.
    assert len(mock.searches("contacts")) >= 7
    with rt.store.session() as s:
        acme = s.scalars(select(Account).where(Account.name == "Acme Robotics")).one()
        owner = s.get(CSM, acme.owner_id)
        assert owner.email == CSMS[0][1] and acme.segment == "enterprise" and acme.arr == 20000
        assert s.scalar(select(Account.owner_id).where(Account.name == "Globex Analytics")) is None
        champ = s.scalars(select(Contact).where(Contact.account_id == acme.id, Contact.is_champion)).one()
        assert champ.name == "Maya Lee00" and champ.role == "VP Engineering"
        note = s.scalars(select(Activity).where(Activity.external_id == w.of("note")[0].id)).one()
        assert note.body == "Kickoff went well.\nNext: SSO & rollout plan."  # HubSpot's HTML as text
        assert note.author == CSMS[0][0]
        closed = s.scalars(select(Ticket).where(Ticket.external_id == w.of("ticket")[0].id)).one()
        assert closed.status == "closed" and closed.closed_at is not None
        deal = s.scalars(select(Contract).where(Contract.account_id == acme.id)).one()
        assert deal.seats == w.of("deal")[0].fields["seats"]
    # An answer from the synced CRM.
    answer = Assistant(rt, use_memory=False).ask("how is Acme Robotics doing?", CSMS[0][1], thread="t1")
    assert "Acme Robotics" in answer["answer"]["text"]

    # Again: nothing changed, nothing written, and only the page boundary is read again.
    v = _version(rt)
    before = len(mock.requests)
    again = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert all(k["inserted"] == 0 and k["updated"] == 0 for k in again["kinds"])
    assert _version(rt) == v
    assert len(mock.requests) - before <= 2 * len(MODELS) + 1
    # A change in HubSpot: the next run picks up just that record.
    mock.touch("tickets", w.of("ticket")[1].id, hs_pipeline_stage="4", closed_date="2026-11-20T12:00:00Z")
    third = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert {k["kind"]: k["updated"] for k in third["kinds"]}["tickets"] == 1
    with rt.store.session() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.external_id == w.of("ticket")[1].id)) == "closed"


def test_salesforce_fills_an_empty_crm_like_hubspot(tmp_path, salesforce):
    w, mock = salesforce
    rt, source, mapping = _sf(tmp_path, mock)
    out = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert out["status"] == "ok" and _counts(rt) == expected(w)
    assert any("/query/01g" in r["path"] for r in mock.requests)  # later pages through nextRecordsUrl
    with rt.store.session() as s:
        acme = s.scalars(select(Account).where(Account.external_id == sfid("001", w.company("Acme Robotics").id))).one()
        assert s.get(CSM, acme.owner_id).email == CSMS[0][1]
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == acme.id)) == 3
        case = s.scalars(select(Ticket).where(Ticket.external_id == sfid("500", w.of("ticket")[0].id))).one()
        assert case.status == "closed" and case.priority in ("low", "normal", "high")
        task = s.scalars(select(Activity).where(Activity.account_id == acme.id)).first()
        assert task.author == CSMS[0][0] and task.kind in ("call", "email", "note")
    v = _version(rt)
    again = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert all(k["inserted"] == 0 and k["updated"] == 0 for k in again["kinds"]) and _version(rt) == v
    # Every incremental query filters on SystemModstamp from the checkpoint.
    assert all("SystemModstamp >= " in r["soql"] for r in mock.queries()[-len(MODELS):])


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_an_outage_mid_way_resumes_at_the_page_it_did_not_commit(tmp_path, crm):
    w = world()
    mock = MockHubSpot(w) if crm == "hubspot" else MockSalesforce(w, tmp_path)
    try:
        rt = (_hs if crm == "hubspot" else _sf)(tmp_path, mock)[0]
        source, mapping = crm_sync.connect(rt.settings, crm, sleep=lambda s: None)  # retries without waiting
        # The CRM goes down in the middle of contacts (HubSpot: owners, 3 company pages, then a search and an
        # associations call per contact page; Salesforce: 3 account pages, then one request per contact page).
        mock.down_after = 14 if crm == "hubspot" else 6
        with pytest.raises(SourceError) as err:
            crm_sync.run(rt.store, source, mapping, page_size=5)
        assert mock.token not in str(err.value)
        partial = _counts(rt)
        assert partial["accounts"] == expected(w)["accounts"] and 0 < partial["contacts"] < expected(w)["contacts"]
        with rt.store.session() as s:
            failed = s.scalars(select(SyncRun).where(SyncRun.source == f"{crm}:contacts")).one()
            assert failed.status == "failed" and failed.watermark and failed.inserted == partial["contacts"]
        mock.down_after = None
        first = len(mock.requests)
        out = crm_sync.run(rt.store, source, mapping, page_size=5)
        assert out["status"] == "ok" and _counts(rt) == expected(w)
        contacts = {k["kind"]: k for k in out["kinds"]}["contacts"]
        assert contacts["from"] == failed.watermark  # resumed at the checkpoint, not from the start
        assert contacts["rows"] <= expected(w)["contacts"] - partial["contacts"] + 5 + 1
        assert len(mock.requests) > first
    finally:
        mock.close()


def test_hubspot_rate_limits_are_waited_out(tmp_path):
    w = world(6)
    mock = MockHubSpot(w, per_second=4)
    try:
        rt, source, mapping = _hs(tmp_path, mock)
        out = crm_sync.run(rt.store, source, mapping, page_size=5)
        assert out["status"] == "ok" and _counts(rt) == expected(w)
        limited = [i for i, r in enumerate(mock.requests) if r["status"] == 429]
        assert limited, "the mock's per-second limit should have been hit"
        # After each 429 the connector waits what HubSpot's per-second policy asks before it asks again.
        for i in limited:
            if i + 1 < len(mock.requests):
                assert mock.requests[i + 1]["at"] - mock.requests[i]["at"] >= 0.9
        # A daily limit stops the run (no waiting a day) and the next run resumes.
        mock.daily_exhausted = True
        mock.touch("notes", w.of("note")[0].id, hs_note_body="Renewal call booked.")
        stopped = crm_sync.run(rt.store, source, mapping, page_size=5)
        assert stopped["status"] == "limited" and "daily" in stopped["error"]
        mock.daily_exhausted = False
        resumed = crm_sync.run(rt.store, source, mapping, page_size=5)
        assert {k["kind"]: k["updated"] for k in resumed["kinds"]}["notes"] == 1
    finally:
        mock.close()


def test_salesforce_stops_at_its_share_of_the_daily_api_allowance_and_resumes(tmp_path, salesforce):
    w, mock = salesforce
    mock.total = 20  # the org's daily allowance; the connector may use 80% of it
    rt, source, mapping = _sf(tmp_path, mock)
    out = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert out["status"] == "limited" and "max_api_share" in out["error"]
    assert mock.used <= 16 and not any(r["status"] == 403 for r in mock.requests)
    partial = _counts(rt)
    assert partial != expected(w)
    with rt.store.session() as s:
        assert "limited" in set(s.scalars(select(SyncRun.status).where(SyncRun.source.like("salesforce:%"))))
    mock.used, mock.total = 0, 15000  # a new day
    source, mapping = crm_sync.connect(rt.settings, "salesforce")
    assert crm_sync.run(rt.store, source, mapping, page_size=5)["status"] == "ok"
    assert _counts(rt) == expected(w)


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_a_wrong_token_is_one_clear_error_that_writes_nothing(tmp_path, crm, run_cli):
    w = world(3)
    mock = MockHubSpot(w) if crm == "hubspot" else MockSalesforce(w, tmp_path)
    try:
        rt = (_hs if crm == "hubspot" else _sf)(tmp_path, mock)[0]
        source, mapping = crm_sync.connect(rt.settings, crm)
        right, mock.token = mock.token, "rotated-in-the-crm"  # the configured token is no longer valid
        with pytest.raises(AuthError) as err:
            crm_sync.run(rt.store, source, mapping)
        assert right not in str(err.value) and "access" in str(err.value).lower()
        assert _counts(rt)["accounts"] == 0
        # The same through the command line: one line, no traceback, no token.
        env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), **({"RETAIN_DATABASE_URL": rt.settings.database_url}
                                                               if rt.settings.database_url else {})}
        if crm == "hubspot":
            env |= {"RETAIN_CONNECTORS__HUBSPOT__ACCESS_TOKEN": right, "RETAIN_CONNECTORS__HUBSPOT__BASE_URL": mock.url}
        else:
            env |= {"RETAIN_CONNECTORS__SALESFORCE__ACCESS_TOKEN": right,
                    "RETAIN_CONNECTORS__SALESFORCE__INSTANCE_URL": mock.url,
                    "RETAIN_CONNECTORS__SALESFORCE__CA_BUNDLE": str(mock.cert)}
        code, out, errtext = run_cli("sync", crm, env_extra=env)
        assert code != 0 and "Traceback" not in out + errtext and right not in out + errtext
        assert "refused" in errtext.lower() or "rejected" in errtext.lower()
        code, out, errtext = run_cli("sync", "status", env_extra=env)
        assert code == 0 and f"{crm}:accounts" in out and "failed" in out, errtext
    finally:
        mock.close()


def test_a_prospect_that_becomes_a_customer_brings_its_older_records(tmp_path, hubspot):
    """Companies outside the mapping's filter are not accounts; when one qualifies, its records come too."""
    w, mock = hubspot
    mapping_file = tmp_path / "hubspot.yaml"
    text = (Path(crm_sync.CONFIG_DIR) / "mappings" / "hubspot.yaml").read_text()
    mapping_file.write_text(text.replace("    # where: [{propertyName: lifecyclestage, operator: EQ, value: customer}]",
                                         "    where: [{propertyName: lifecyclestage, operator: EQ, value: customer}]"))
    rt, source, mapping = _hs(tmp_path, mock, mapping=str(mapping_file))
    crm_sync.run(rt.store, source, mapping, page_size=5)
    assert _counts(rt) == expected(w, prospects=False)
    prospect = w.of("company")[-1]
    mock.touch("companies", prospect.id, lifecyclestage="customer")  # only the company changes
    out = crm_sync.run(rt.store, source, mapping, page_size=5)
    assert _counts(rt) == expected(w, prospects=True)
    assert {k["kind"]: k["backfilled"] for k in out["kinds"]}["contacts"] == 3


def test_dry_run_reports_and_writes_nothing(tmp_path, hubspot, run_cli):
    w, mock = hubspot
    rt = _hs(tmp_path, mock)[0]
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_CONNECTORS__HUBSPOT__ACCESS_TOKEN": mock.token,
           "RETAIN_CONNECTORS__HUBSPOT__BASE_URL": mock.url,
           **({"RETAIN_DATABASE_URL": rt.settings.database_url} if rt.settings.database_url else {})}
    v = _version(rt)
    code, out, err = run_cli("sync", "hubspot", "--dry-run", env_extra=env)
    assert code == 0, err
    assert "dry run" in out and "would add" in out and "contacts" in out
    assert _counts(rt) == dict.fromkeys(MODELS, 0) and _version(rt) == v
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 0
    code, out, err = run_cli("sync", "hubspot", env_extra=env)
    assert code == 0 and _counts(rt) == expected(w)
    assert "unassigned" in out and "pat.nobody@vendor.example" in out
    code, out, _ = run_cli("sync", "status", env_extra=env)
    assert "hubspot:tickets" in out and "hubspot:notes" in out


def test_a_configured_connector_is_scheduled(tmp_path, hubspot):
    _w, mock = hubspot
    rt = _hs(tmp_path, mock)[0]
    specs = {s.id: s for s in job_specs(rt.store, rt.settings)}
    assert specs["sync:hubspot"].fields == {"minutes": 30} and "sync:salesforce" not in specs
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("salesforce_access_token: abc\n")
    other = load_settings(data_dir=str(rt.settings.data_dir), connectors={
        "secrets_file": str(secrets), "salesforce": {"instance_url": "https://example.my.salesforce.com"}})
    assert crm_sync.configured(other) == ["salesforce"]
