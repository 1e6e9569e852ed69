"""The scheduled QBR prep: the owner gets the deck in a DM before a review or a renewal, once."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import apscheduler.executors.base as executors
import apscheduler.schedulers.base as base
import pytest
from apscheduler.schedulers.base import STATE_RUNNING
from mock_slack import MockSlack
from pptx import Presentation
from slack_sdk import WebClient
from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import CSM, Account, Activity, Outbox
from integrations.scheduler import Scheduler
from retain import jobs, qbr_prep
from retain.jobs import job_specs

SCHEDULE = {"time": "07:00", "timezone": "UTC", "meeting_days_before": 7, "renewal_days_before": 3}


@pytest.fixture
def prep(rt, monkeypatch):
    mock = MockSlack()
    jobs.configure(rt, client=WebClient(token="xoxb-test", base_url=mock.url),
                   assistant=Assistant(rt, use_memory=False), clock=lambda: datetime(2026, 11, 23, 7, 0))
    real = qbr_prep.load_schedules
    monkeypatch.setattr(qbr_prep, "load_schedules", lambda: {**real(), "qbr_prep": SCHEDULE})
    yield rt, mock
    mock.close()
    jobs.reset()


def _account(rt, name):
    with rt.store.session() as s:
        a = s.scalars(select(Account).where(Account.name == name)).one()
        return a.id, s.scalar(select(CSM.slack_user_id).where(CSM.id == a.owner_id))


def test_the_owner_gets_each_accounts_deck_once_before_its_review_or_renewal(prep):
    rt, mock = prep
    initech, dana = _account(rt, "Initech")
    with rt.store.session() as s:  # a QBR booked in five days (Initech's renewal is 21 days out: too far)
        s.add(Activity(account_id=initech, kind="meeting", occurred_on=date(2026, 11, 28), author="Dana Reyes",
                       subject="QBR: Initech", body="Quarterly business review with Jamie and Raj."))
        s.commit()
    first = qbr_prep.run()
    again = qbr_prep.run()  # the next day's run, or a second scheduler: nothing new
    jobs.deliver_outbox()
    assert first["queued"] == 2 and again["queued"] == 0 and first["decks"] == 2 and again["decks"] == 0
    kestrel = "Kestrel Markets"  # the only renewal within 3 days on the demo's today
    with rt.store.session() as s:
        rows = s.scalars(select(Outbox).where(Outbox.job == "qbr:prep").order_by(Outbox.slot)).all()
    assert len(rows) == 2 and all(r.status == "sent" for r in rows)
    dms = [p for p in mock.of("chat.postMessage") if "QBR deck" in p.get("text", "")]
    assert len(dms) == 2
    to_dana = [p for p in dms if p["channel"] == dana]
    assert len(to_dana) == 1 and "Initech" in to_dana[0]["text"] and "QBR is on 2026-11-28" in to_dana[0]["text"]
    assert any(kestrel in p["text"] and "renewal is on 2026-11-26" in p["text"] for p in dms)
    assert sorted(f["filename"] for f in mock.files) == ["Initech-QBR-2026Q4.pptx", "Kestrel-Markets-QBR-2026Q4.pptx"]
    ts = next(r.ts for r in rows if r.slot.startswith(f"{initech}:"))
    deck = next(f for f in mock.files if f["filename"].startswith("Initech"))
    assert deck["channel"] == MockSlack.conversation(dana) and deck["thread_ts"] == ts
    assert Presentation(io.BytesIO(deck["content"])).slides[0].shapes.title.text_frame.text.startswith("Initech")


def test_a_failed_upload_is_tried_again_on_the_next_run_and_not_after(prep):
    rt, mock = prep
    mock.fail["files.getUploadURLExternal"] = [(500, {})] * 20  # Slack's file service is down for the first run
    first = qbr_prep.run()
    assert first["queued"] == 1 and first["decks"] == 0 and first["deck_failures"] == 1 and not mock.files
    mock.fail.clear()
    assert qbr_prep.run()["decks"] == 1 and qbr_prep.run()["decks"] == 0
    assert len(mock.files) == 1 and len([p for p in mock.of("chat.postMessage") if "QBR deck" in p["text"]]) == 1


def test_the_scheduler_runs_it_at_its_time_and_the_owner_gets_one_dm_and_one_deck(prep, monkeypatch):


    rt, mock = prep
    now = [datetime(2026, 11, 23, 6, 59)]

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now[0].replace(tzinfo=ZoneInfo("UTC")).astimezone(tz) if tz else now[0]

    monkeypatch.setattr(base, "datetime", Clock)
    monkeypatch.setattr(executors, "datetime", Clock)
    sch = Scheduler(rt.store, lambda: [j for j in job_specs(rt.store) if j.id == "qbr:prep"], executor="debug")
    sch.start(paused=True)

    def tick(at):
        now[0] = at
        sch.aps.state = STATE_RUNNING  # run due jobs in this thread, at the injected time
        sch.aps._process_jobs()

    try:
        tick(datetime(2026, 11, 23, 6, 59))
        assert not mock.files  # not its time yet
        for at in (datetime(2026, 11, 23, 7, 0, 5), datetime(2026, 11, 23, 7, 5), datetime(2026, 11, 24, 7, 0, 5)):
            tick(at)
    finally:
        sch.shutdown()
    dms = [p for p in mock.of("chat.postMessage") if "QBR deck" in p.get("text", "")]
    assert len(dms) == 1 and "Kestrel Markets" in dms[0]["text"]  # the renewal in 3 days; the next day: nothing new
    assert [f["filename"] for f in mock.files] == ["Kestrel-Markets-QBR-2026Q4.pptx"]


def test_the_job_is_scheduled_from_the_schedules_file(rt):
    spec = next(s for s in job_specs(rt.store, rt.settings) if s.id == "qbr:prep")
    assert spec.func == "retain.qbr_prep:run" and spec.trigger == "cron"
    assert spec.fields == {"hour": 7, "minute": 0, "timezone": "UTC"}
