"""Faults production has, caused for real under running `retain serve` processes; what the person sees.

Each test starts real workers (`retain serve --http`: the front end that acks and its answering
child) on the suite's database, plays Slack (signed events, redelivered until acked; a mock Web API
on 127.0.0.1 that keeps the messages and answers `conversations.replies`), causes one fault and
asserts the outcome: every question answered exactly once (one message in its thread, holding the
answer), the workers back on their own, readiness telling the truth meanwhile, and every log line
one JSON object. The PostgreSQL restarts run on a server of their own (`pg_instance.PgInstance`),
never the suite's shared one; they need PostgreSQL and are skipped on SQLite, where no server restarts.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from conftest import PG, SLACK_SECRET
from fault_rig import SlackEvents, Worker, answered, env_for, exactly_once, json_only, kill_9, seen, wait_answered
from mock_slack import MockSlack
from pg_instance import PgInstance


@pytest.fixture
def mock():
    m = MockSlack()
    yield m
    m.close()


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def _wait(cond, timeout=120, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _answered_count(mock, ks):
    return sum(answered(seen(mock, k)) for k in ks)


@pytest.fixture
def restartable_pg(seeded_dir, tmp_path):
    """A PostgreSQL of this test's own holding a copy of the seeded demo, and a data dir beside it."""
    if PG is None:
        pytest.skip("a PostgreSQL server restart needs PostgreSQL: set RETAIN_TEST_DATABASE_URL (.ci/postgres)")
    pg = PgInstance()
    try:
        url = pg.copy_from(PG.url(PG.seed), "retain_faults")
        data = tmp_path / "demo"
        shutil.copytree(seeded_dir, data)
        yield pg, str(data), url
    finally:
        pg.close()


@pytest.mark.parametrize("down_s", [3, 20])
def test_postgres_stopped_mid_load_every_event_answered_once_without_a_restart(restartable_pg, mock, workers,
                                                                               down_s):
    pg, data, url = restartable_pg
    env = env_for(data, url, mock.url, SLACK_SECRET)
    workers += [Worker(env, "a"), Worker(env, "b")]
    children = [w.answering_pid() for w in workers]
    slack = SlackEvents([w.url for w in workers], SLACK_SECRET)
    ks = list(range(30))
    for k in ks[:10]:
        slack.send(k)
    _wait(lambda: _answered_count(mock, ks[:10]) >= 2, what="the first answers")
    pg.stop("fast")  # a restart or failover: every session ends, new connections are refused
    for k in ks[10:20]:
        slack.send(k)  # not acked while the database is down: Slack redelivers them
    while_down = [w.readyz() for w in workers]
    time.sleep(down_s)
    pg.start()
    for k in ks[20:]:
        slack.send(k)
    slack.all_acked()
    wait_answered(mock, ks, workers=workers)
    assert exactly_once(mock, ks) == {}
    for status, body in while_down:  # readiness told the truth meanwhile: which check, never where
        assert status == 503 and not body["checks"]["database"]["ok"], body
        assert str(pg.port) not in str(body) and "127.0.0.1" not in str(body), body
    for w, child in zip(workers, children, strict=True):
        body = w.wait_ready(120)
        assert w.child_pid() == child  # the same answering process lived through it
        assert w.proc.poll() is None
        assert json_only(w) == [], json_only(w)[:5]


def test_kill_9_of_the_answering_child_is_restarted_and_reported_meanwhile(rt, mock, workers):
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET)
    w = Worker(env)
    workers.append(w)
    child = w.answering_pid()
    slack = SlackEvents([w.url], SLACK_SECRET)
    ks = list(range(12))
    for k in ks:
        slack.send(k)
    _wait(lambda: _answered_count(mock, ks) >= 2, what="the first answers")
    kill_9(child)
    down: list[dict] = []

    def reported() -> bool:
        status, body = w.readyz()
        if status == 503 and not body["checks"].get("answering", {"ok": True})["ok"]:
            down.append(body)
        return bool(down)

    _wait(reported, 60, "readiness to report the dead answering process")
    assert "down" in down[0]["checks"]["answering"]["detail"] or "starting" in down[0]["checks"]["answering"]["detail"]
    slack.all_acked()
    wait_answered(mock, ks, workers=[w])
    assert exactly_once(mock, ks) == {}
    assert w.wait_ready(120)["checks"]["answering"]["ok"] and w.answering_pid() != child
    assert json_only(w) == [], json_only(w)[:5]


def _kill_on_placeholder(mock, nth, pids):
    """When the nth placeholder reaches Slack, kill -9 `pids()` before Slack answers the post."""
    seen_posts: list[int] = []
    lock = threading.Lock()

    def hook(params):
        if "Looking into" not in str(params.get("text", "")):
            return
        with lock:
            seen_posts.append(1)
            fire = len(seen_posts) == nth
        if fire:
            for pid in pids():
                kill_9(pid)
    mock.on["chat.postMessage"] = hook
    return seen_posts


def test_kill_9_mid_answer_updates_the_placeholder_already_posted(rt, mock, workers):
    """Killed as its placeholder reached Slack (before it could store the ts): the next attempt finds it there."""
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET)
    w = Worker(env)
    workers.append(w)
    child = w.answering_pid()
    _kill_on_placeholder(mock, 1, lambda: [child])
    slack = SlackEvents([w.url], SLACK_SECRET)
    slack.send(0)
    slack.all_acked()
    wait_answered(mock, [0], workers=[w])
    assert exactly_once(mock, [0]) == {}, seen(mock, 0)
    assert w.answering_pid() != child


def test_kill_9_after_storing_the_placeholder_reuses_it_from_the_claim(rt, mock, workers, tmp_path):
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET,
                  RETAIN_FAULT="after_placeholder_kept", RETAIN_FAULT_ONCE=str(tmp_path / "fired"))
    w = Worker(env)
    workers.append(w)
    slack = SlackEvents([w.url], SLACK_SECRET)
    slack.send(0)
    slack.all_acked()
    wait_answered(mock, [0], workers=[w])
    assert (tmp_path / "fired").exists()  # the worker was killed there
    assert exactly_once(mock, [0]) == {}, seen(mock, 0)
    assert mock.of("conversations.replies") == []  # the ts came from the claim, not from asking Slack


def test_kill_9_of_front_end_and_child_then_restart_answers_each_once(rt, mock, workers):
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET)
    first = Worker(env, "first")
    workers.append(first)
    child = first.answering_pid()
    _kill_on_placeholder(mock, 3, lambda: [first.proc.pid, child])
    slack = SlackEvents([first.url], SLACK_SECRET)
    ks = list(range(16))
    for k in ks:
        slack.send(k)
    _wait(lambda: first.proc.poll() is not None, 120, "the kill")
    second = Worker(env, "second")  # what systemd or Kubernetes does
    workers.append(second)
    slack.urls[0] = second.url  # Slack redelivers what was not acked
    slack.all_acked()
    wait_answered(mock, ks, workers=[first, second])
    assert exactly_once(mock, ks) == {}
    assert json_only(second) == [], json_only(second)[:5]


def test_web_api_errors_after_slack_processed_a_post_give_no_duplicates(rt, mock, workers):
    """500s and connection resets after the post took effect, and 429s before: one message per question."""
    mock.fail["chat.postMessage"] = [(429, {"Retry-After": "1"})] * 2
    mock.fail_after["chat.postMessage"] = [500, "reset", 500, "reset", 503]
    mock.fail_after["chat.update"] = [500, "reset"]
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET)
    w = Worker(env)
    workers.append(w)
    slack = SlackEvents([w.url], SLACK_SECRET)
    ks = list(range(10))
    for k in ks:
        slack.send(k)
    slack.all_acked()
    wait_answered(mock, ks, workers=[w])
    assert exactly_once(mock, ks) == {}
    assert not mock.fail_after["chat.postMessage"] and not mock.fail["chat.postMessage"]  # every fault happened
