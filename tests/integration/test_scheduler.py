"""Scheduler, briefings, outbox and follow-ups with an injected clock (no sleeping) and a mock Slack Web API."""

from datetime import datetime, timedelta

import pytest
from mock_slack import MockSlack
from slack_sdk import WebClient
from sqlalchemy import func, select

from agents.assistant import Assistant
from integrations.crm.models import Activity, Outbox
from integrations.outbox import deliver, enqueue
from integrations.scheduler import Scheduler, SchedulerBusy, slot_for
from retain import jobs
from retain.actions import Delivery
from retain.jobs import job_specs

DANA_ID = None


class Clock:
    """A controllable 'now' for APScheduler and the jobs (UTC)."""

    def __init__(self, now):
        self.now = now

    def aware(self, tz=None):
        from zoneinfo import ZoneInfo

        return self.now.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz) if tz else self.now


@pytest.fixture
def env(rt, monkeypatch):
    import apscheduler.schedulers.base as base

    clock = Clock(datetime(2026, 11, 23, 12, 0))  # a Monday, 07:00 in New York

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock.aware(tz)

    import apscheduler.executors.base as executors

    monkeypatch.setattr(base, "datetime", FakeDatetime)
    monkeypatch.setattr(executors, "datetime", FakeDatetime)
    mock = MockSlack()
    client = WebClient(token="xoxb-test", base_url=mock.url)
    jobs.configure(rt, client=client, assistant=Assistant(rt, use_memory=False, actions=Delivery(rt)),
                   clock=lambda: clock.now)
    yield rt, clock, mock
    mock.close()
    jobs.reset()


def process(sch):
    from apscheduler.schedulers.base import STATE_RUNNING

    sch.aps.state = STATE_RUNNING  # run due jobs in this thread, at the injected time
    sch.aps._process_jobs()


def dana_posts(mock):
    return [p for p in mock.of("chat.postMessage") if p["channel"] == "UCSM00004" and "Briefing for" in p["text"]]


def test_daily_briefing_fires_at_the_csms_local_time_once(env):
    rt, clock, mock = env
    sch = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    sch.start(paused=True)
    job = sch.aps.get_job("brief:csm:4")
    assert (job.next_run_time.hour, job.next_run_time.minute) == (8, 0)  # 08:00 in Dana's timezone
    assert str(job.next_run_time.tzinfo) == "America/New_York"
    process(sch)
    assert not dana_posts(mock)  # 07:00 local: not yet
    clock.now = datetime(2026, 11, 23, 13, 0, 5)
    process(sch)
    posts = dana_posts(mock)
    assert len(posts) == 1 and "Briefing for Dana Reyes" in posts[0]["text"] and "Initech" in posts[0]["text"]
    clock.now = datetime(2026, 11, 23, 13, 5)
    process(sch)
    assert len(dana_posts(mock)) == 1
    sch.shutdown()


def test_misfire_within_grace_runs_once_after_restart_beyond_grace_is_missed(env):
    rt, clock, mock = env
    first = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    first.start(paused=True)
    first.shutdown()  # the process stops before 08:00 New York
    clock.now = datetime(2026, 11, 23, 13, 30)  # back 30 minutes late (grace 3600 s)
    second = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    second.start(paused=True)
    process(second)
    process(second)
    assert len(dana_posts(mock)) == 1
    second.shutdown()
    clock.now = datetime(2026, 11, 24, 16, 0)  # next day, 3 hours late
    third = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    third.start(paused=True)
    process(third)
    assert "brief:csm:4" in third.missed and len(dana_posts(mock)) == 1
    third.shutdown()


def test_a_second_scheduler_refuses_to_start(env):
    rt, clock, mock = env
    a = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    a.start(paused=True)
    b = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    with pytest.raises(SchedulerBusy, match="Only one may run"):
        b.start(paused=True)
    a.shutdown()
    b.start(paused=True)  # released on a clean stop
    b.shutdown()


def test_outbox_sends_once_retries_with_backoff_and_dead_letters(env):
    rt, clock, mock = env
    client = jobs.client()
    key, new = enqueue(rt.store, "brief:csm:4", "2026-11-23", "UCSM00004", "UCSM00004", "hello")
    assert new and not enqueue(rt.store, "brief:csm:4", "2026-11-23", "UCSM00004", "UCSM00004", "hello")[1]
    mock.fail["chat.postMessage"] = [(500, {})]
    now = datetime.now()
    cfg = {"max_attempts": 3, "backoff_s": [30, 120], "admin_channel": "C0ADMIN0001"}
    assert deliver(rt.store, client, now, cfg)["retry"] == 1
    assert deliver(rt.store, client, now + timedelta(seconds=10), cfg) == {"sent": 0, "retry": 0, "dead": 0}
    assert deliver(rt.store, client, now + timedelta(seconds=31), cfg)["sent"] == 1
    assert deliver(rt.store, client, now + timedelta(days=1), cfg)["sent"] == 0  # sent rows are not sent again
    with rt.store.session() as s:
        row = s.get(Outbox, key)
        assert row.status == "sent" and row.ts and row.attempts == 2
    enqueue(rt.store, "brief:csm:5", "2026-11-23", "UCSM00005", "UCSM00005", "x")
    mock.fail["chat.postMessage"] = [(500, {})] * 3
    for k in range(3):
        deliver(rt.store, client, now + timedelta(hours=k + 1), cfg)
    with rt.store.session() as s:
        assert s.get(Outbox, "brief:csm:5|2026-11-23|UCSM00005").status == "dead"
    assert any(p["channel"] == "C0ADMIN0001" for p in mock.of("chat.postMessage"))


def test_onboarding_follow_up_flow(env):
    rt, clock, mock = env
    first = jobs.onboarding_sweep()
    assert first["drafted"] >= 2 and first["sent"] == first["drafted"]
    marcus = [p for p in mock.of("chat.postMessage") if p["channel"] == "UCSM00005"
              and "Cyberdyne Systems" in p["text"]]
    assert len(marcus) == 1 and marcus[0]["blocks"][-1]["elements"][0]["action_id"] == "retain_approve"
    again = jobs.onboarding_sweep()  # an hour later: nobody is nagged twice in the quiet period
    assert again["drafted"] == 0 and again["quiet"] == first["drafted"]
    import json

    thread = json.loads(marcus[0]["blocks"][-1]["elements"][0]["value"])["thread"]
    assistant = jobs.assistant()
    with rt.store.session() as s:
        before = s.scalar(select(func.count()).select_from(Activity))
    done = assistant.decide(thread, "approve", "UCSM00005")
    act = done["actions"][0]
    assert act["sent_via"] == "slack_connect" and act["activity_id"]  # Cyberdyne has a Slack Connect channel
    deliver(rt.store, jobs.client())
    assert len([p for p in mock.of("chat.postMessage") if p["channel"] == "C0CYBERDYN1"]) == 1
    assert assistant.decide(thread, "approve", "UCSM00005")["note"].startswith("Nothing is waiting")
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == before + 1
    # Skip another: it is snoozed past the quiet period.
    other = [p for p in mock.of("chat.postMessage") if p["channel"].startswith("UCSM") and p["channel"] != "UCSM00005"
             and "Draft for approval" in p["text"]][0]
    other_thread = json.loads(other["blocks"][-1]["elements"][0]["value"])["thread"]
    assert assistant.decide(other_thread, "skip", other["channel"])["actions"][0]["snoozed_days"] == 7
    clock.now = clock.now + timedelta(days=4)  # quiet period (3 days) over, snooze (7) not
    seen = len(mock.of("chat.postMessage"))
    later = jobs.onboarding_sweep()
    new = mock.of("chat.postMessage")[seen:]
    assert later["drafted"] >= 1 and later["quiet"] == 1  # the others are nagged again; the skipped one is not
    assert all(p["text"] != other["text"] for p in new)


def test_slot_is_the_local_schedule_day():
    from zoneinfo import ZoneInfo

    utc = ZoneInfo("UTC")
    assert slot_for(datetime(2026, 11, 23, 12, 59, tzinfo=utc), "America/New_York", "08:00") == "2026-11-22"
    assert slot_for(datetime(2026, 11, 23, 13, 0, tzinfo=utc), "America/New_York", "08:00") == "2026-11-23"
    assert slot_for(datetime(2026, 11, 23, 13, 0, tzinfo=utc), "UTC", "08:00", "weekly") == "2026-W48"


def _until(check, timeout=60.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _set_timezone(rt, csm_id, tz):
    from integrations.crm.models import CSM

    with rt.store.session() as s:
        s.get(CSM, csm_id).timezone = tz
        s.commit()


def test_a_timezone_change_moves_the_briefing_across_a_restart_and_while_running(env):
    rt, clock, mock = env
    first = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug")
    first.start(paused=True)
    assert str(first.aps.get_job("brief:csm:4").next_run_time.tzinfo) == "America/New_York"
    first.shutdown()
    _set_timezone(rt, 4, "Europe/London")  # Dana moved
    second = Scheduler(rt.store, lambda: job_specs(rt.store), executor="debug", lease_s=3)
    second.start(paused=True)
    job = second.aps.get_job("brief:csm:4")
    when = job.next_run_time
    assert str(when.tzinfo) == "Europe/London" and (when.hour, when.minute) == (8, 0)
    second.RESYNC_S = 0  # a running scheduler reads its jobs again as it renews its lease
    _set_timezone(rt, 4, "Asia/Tokyo")
    assert _until(lambda: str(second.aps.get_job("brief:csm:4").next_run_time.tzinfo) == "Asia/Tokyo")
    second.shutdown()


def _quiet_specs():
    from integrations.scheduler import JobSpec

    return [JobSpec("nightly", "retain.jobs:nightly", [], "cron", {"hour": 3, "minute": 0}, "Nightly")]


def _cut(rt, away=True):
    """Make the lease table unreachable (or reachable again): every renewal fails with a database error."""
    from sqlalchemy import text

    names = ("scheduler_lease", "scheduler_lease_away")
    with rt.store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE {} RENAME TO {}".format(*(names if away else names[::-1]))))


def test_database_errors_pause_the_scheduler_until_its_lease_is_renewed(rt):
    from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

    sch = Scheduler(rt.store, _quiet_specs, lease_s=3)
    sch.start()
    try:
        _cut(rt)
        assert _until(lambda: sch.lease_paused)  # the lease may run out: no job runs meanwhile
        assert sch.aps.state == STATE_PAUSED and all(t.is_alive() for t in sch.threads)
        _cut(rt, away=False)  # the database is back and nobody took the lease
        assert _until(lambda: not sch.lease_paused)
        assert sch.aps.state == STATE_RUNNING and not sch.lost
    finally:
        sch.shutdown()


def test_a_scheduler_cut_off_while_another_takes_its_lease_stops(rt):
    from sqlalchemy import text

    sch = Scheduler(rt.store, _quiet_specs, lease_s=3)
    told = []
    sch.on_lost = lambda: told.append(True)
    sch.start()
    try:
        _cut(rt)
        assert _until(lambda: sch.lease_paused)
        later = datetime.now() + timedelta(minutes=5)  # its lease ran out and another scheduler took it
        with rt.store.engine.begin() as conn:
            conn.execute(text("UPDATE scheduler_lease_away SET holder = 'other-host:1:abc', expires_at = :t"),
                         {"t": later})
        _cut(rt, away=False)
        assert _until(lambda: told == [True])  # `retain scheduler` exits then
        assert sch.lost and not sch.aps.running  # never two schedulers on one job store
    finally:
        sch.shutdown()


def _held_briefing(rt, clock, mock):
    """Dana's 08:00 briefing, queued while Slack failed: it waits in the outbox for its retry."""
    from sqlalchemy import update

    clock.now = datetime(2026, 11, 23, 13, 0, 5)
    mock.fail["chat.postMessage"] = [(500, {})]
    assert jobs.briefing("csm", 4)["retry"] == 1
    with rt.store.engine.begin() as conn:  # its backoff is over
        conn.execute(update(Outbox).where(Outbox.job == "brief:csm:4").values(next_try_at=datetime(2000, 1, 1)))
    with rt.store.session() as s:
        return s.scalars(select(Outbox).where(Outbox.job == "brief:csm:4")).one()


def test_a_briefing_queued_before_a_deactivation_is_not_delivered(env, run_cli):
    rt, clock, mock = env
    _held_briefing(rt, clock, mock)
    code, out, err = run_cli("csms", "deactivate", "dana.reyes@retain.example", "--reassign-to",
                             "marcus.chen@retain.example", env_extra={"RETAIN_DATA_DIR": str(rt.settings.data_dir)})
    assert code == 0, err
    assert jobs.deliver_outbox()["skipped"] == 1
    assert not dana_posts(mock)
    with rt.store.session() as s:
        row = s.scalars(select(Outbox).where(Outbox.job == "brief:csm:4")).one()
        assert row.status == "skipped" and "deactivated" in row.last_error


def test_a_briefing_naming_an_account_its_reader_no_longer_sees_is_not_delivered(env):
    from integrations.crm.models import Account

    rt, clock, mock = env
    row = _held_briefing(rt, clock, mock)
    assert row.accounts
    with rt.store.session() as s:  # one account it names moved to Marcus meanwhile
        s.get(Account, row.accounts[0]).owner_id = 5
        s.commit()
    assert jobs.deliver_outbox()["skipped"] == 1 and not dana_posts(mock)
    with rt.store.session() as s:
        assert "no longer sees 1 of the accounts" in s.get(Outbox, row.key).last_error
