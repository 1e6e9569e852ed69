"""The ack path's group commit: concurrent acks, duplicates and failures, on the real database."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from integrations.crm.models import SlackInbox
from integrations.slack.inbox import Inbox


def _burst(inbox, keys):
    out, errors = {}, []
    gate = threading.Barrier(len(keys))

    def one(i, key):
        gate.wait()
        try:
            out[i] = inbox.writes.write({"key": key, "kind": "question", "payload": {"n": i}, "status": "pending",
                                         "attempts": 0, "received_at": datetime.now(), "thread_key": None,
                                         "order_ts": i})
        except Exception as exc:  # noqa: BLE001
            errors.append((i, exc))

    threads = [threading.Thread(target=one, args=(i, k)) for i, k in enumerate(keys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out, errors


def test_a_burst_of_acks_writes_each_event_once_and_says_which_were_new(rt):
    inbox = Inbox(rt.store, None, notify=lambda key: None)
    keys = [f"EvBurst{i}" for i in range(40)] + [f"EvBurst{i}" for i in range(10)]  # 10 retries among them
    out, errors = _burst(inbox, keys)
    assert not errors and len(out) == 50
    new_by_key: dict[str, int] = {}
    for i, key in enumerate(keys):
        new_by_key[key] = new_by_key.get(key, 0) + int(out[i])
    assert set(new_by_key.values()) == {1}  # exactly one ack per event saw it as new
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(SlackInbox).where(SlackInbox.key.like("EvBurst%"))) == 40
    again, _ = _burst(inbox, ["EvBurst3"])  # Slack's retry later: not new
    assert again == {0: False}


def test_a_row_that_cannot_be_written_fails_only_its_own_ack(rt):
    inbox = Inbox(rt.store, None, notify=lambda key: None)
    good = [f"EvOk{i}" for i in range(8)]
    bad_key = "EvBad"
    out: dict[int, bool] = {}
    errors = []
    gate = threading.Barrier(len(good) + 1)

    def one(i, key, payload):
        gate.wait()
        try:
            out[i] = inbox.writes.write({"key": key, "kind": "question", "payload": payload, "status": "pending",
                                         "attempts": 0, "received_at": datetime.now(), "thread_key": None,
                                         "order_ts": i})
        except Exception:  # noqa: BLE001
            errors.append(key)

    threads = [threading.Thread(target=one, args=(i, k, {"n": i})) for i, k in enumerate(good)]
    threads.append(threading.Thread(target=one, args=(99, bad_key, {"x": object()})))  # not JSON: cannot be stored
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [bad_key] and all(out[i] for i in range(len(good)))
    with rt.store.session() as s:
        assert s.get(SlackInbox, bad_key) is None
        assert s.scalar(select(func.count()).select_from(SlackInbox).where(SlackInbox.key.like("EvOk%"))) == 8


def test_accept_still_tells_a_duplicate_from_new_work(rt):
    seen = []
    inbox = Inbox(rt.store, None, notify=seen.append)
    assert inbox.accept("EvAcc1", "question", {"channel": "D1", "ts": "1.1", "text": "hi"})
    with rt.store.engine.begin() as c:
        c.execute(SlackInbox.__table__.update().where(SlackInbox.key == "EvAcc1").values(status="done"))
    assert not inbox.accept("EvAcc1", "question", {"channel": "D1", "ts": "1.1", "text": "hi"})
    assert seen == ["EvAcc1"]
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises: the ack is not sent
        inbox.accept("EvAcc2", "question", {"x": object()})


def test_a_live_worker_takes_over_a_dead_workers_claim_once_and_never_a_live_ones(rt):
    """Worker A claims a question and hangs; while A renews its lease nobody else takes it, and once A
    stops renewing (it died) worker B answers it, once. A's late finish cannot overwrite B's."""
    hold, started, ran = threading.Event(), threading.Event(), []

    def a_handler(job):
        ran.append("A")
        started.set()
        hold.wait(60)
        return {"by": "A"}

    def b_handler(job):
        ran.append("B")
        return {"by": "B"}

    a = Inbox(rt.store, a_handler, workers=1, lease_s=2)
    b = Inbox(rt.store, b_handler, workers=1, lease_s=2)
    try:
        t0 = datetime.now()
        assert a.accept("EvLease1", "question", {"channel": "D1", "ts": "1.1", "text": "how is Acme doing?"})
        assert started.wait(60) and a.status("EvLease1") == "running"
        assert b.tick(t0 + timedelta(seconds=1)) == 0           # A's lease holds
        a.tick(t0 + timedelta(seconds=1.5))                     # A is alive: its lease runs to t0+3.5 s
        assert b.tick(t0 + timedelta(seconds=3)) == 0           # without the renewal this would take it
        assert b.tick(t0 + timedelta(seconds=30)) == 1          # A stopped renewing: B takes over
        assert b.drain(60)
        assert ran == ["A", "B"] and b.status("EvLease1") == "done"
        assert b.tick(t0 + timedelta(seconds=60)) == 0          # done is done: never a third run
        hold.set()
        assert a.drain(60)
        with rt.store.session() as s:
            row = s.get(SlackInbox, "EvLease1")
            assert row.status == "done" and row.result == {"by": "B"} and row.attempts == 2
    finally:
        hold.set()
        a.pool.shutdown(wait=True)
        b.pool.shutdown(wait=True)


def test_a_database_outage_mid_answer_is_retried_without_using_up_attempts(rt):
    """A PostgreSQL restart during an answer (psycopg's own error, as the checkpoint saver raises it) is not
    the event's fault: it is tried again, as often as outages happen, and never reported as a failure."""
    import psycopg

    from integrations.slack.inbox import MAX_ATTEMPTS, Retry

    runs = []

    def handler(job):
        runs.append(job.attempt)
        if len(runs) <= MAX_ATTEMPTS + 1:  # more outages than attempts
            raise Retry(psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
        return {"answered": True}

    inbox = Inbox(rt.store, handler, workers=1)
    inbox.accept("EvOutage", "question", {"channel": "C1", "ts": "1.000001", "text": "hi"})
    inbox.drain()
    for _ in range(MAX_ATTEMPTS + 1):  # each retry when its backoff has passed
        inbox.tick(now=datetime.now() + timedelta(seconds=60))
        inbox.drain()
    with rt.store.session() as s:
        row = s.get(SlackInbox, "EvOutage")
        assert row.status == "done" and row.result == {"answered": True}
    assert len(runs) == MAX_ATTEMPTS + 2 and max(runs) == 1  # every outage attempt was given back


def test_a_real_error_still_uses_up_attempts(rt):
    runs = []

    def handler(job):
        runs.append(job.attempt)
        raise ValueError("a bug")

    inbox = Inbox(rt.store, handler, workers=1)
    inbox.accept("EvBug", "question", {"channel": "C1", "ts": "1.000002", "text": "hi"})
    inbox.drain()
    for _ in range(5):
        inbox.tick(now=datetime.now() + timedelta(seconds=60))
        inbox.drain()
    with rt.store.session() as s:
        assert s.get(SlackInbox, "EvBug").status == "failed"
    assert runs == [1, 2, 3]
