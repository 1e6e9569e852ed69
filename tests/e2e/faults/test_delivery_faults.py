"""Delivery under faults: real `retain` processes on one database (SQLite, or PostgreSQL with
RETAIN_TEST_DATABASE_URL), Slack played by the recording mock Web API on 127.0.0.1.

Overlapping `deliver` callers (processes and threads), the same briefing run by two schedulers at
once, a scheduler killed holding its lease, two onboarding sweeps at once. Each test asserts what
people see: every outbox message posted exactly once, one scheduler at a time, an Approve acting on
exactly the draft it was shown. `MockSlack.overlap` holds the first posts until every caller has
one in flight, so the callers surely overlap (no sleeps).
"""

import json
import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from mock_slack import MockSlack
from slack_http import MARCUS, form
from sqlalchemy import select, text
from sqlite_hold import run_while_held

from integrations.crm.models import CSM, ActionLog, Activity, Outbox
from integrations.outbox import deliver, enqueue
from integrations.slack.client import make_client


def _env(rt, mock):
    return {**os.environ, "RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_DATABASE_URL": rt.settings.db_url,
            "RETAIN_LLM__BACKEND": "none", "RETAIN_SLACK__BOT_TOKEN": "xoxb-test", "RETAIN_SLACK__BASE_URL": mock.url}


def _retain(env, *args):
    return subprocess.Popen([sys.executable, "-m", "retain", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(procs):
    done = [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=600)]]
    for code, out, err in done:
        assert code == 0 and "Traceback" not in err, (code, out[-2000:], err[-3000:])
    return [json.loads(out[out.index("{"):]) for _, out, _ in done]


def _queue(rt, n):
    """`n` messages in the outbox to active people's DMs, each with its own text."""
    with rt.store.session() as s:
        people = list(s.scalars(select(CSM.slack_user_id).where(CSM.active.is_(True), CSM.slack_user_id.is_not(None))
                                .order_by(CSM.id)))
    texts = [f"Fault test message {k}" for k in range(n)]
    for k, t in enumerate(texts):
        enqueue(rt.store, "fault:test", "2026-11-23", f"{people[k % len(people)]}:{k}", people[k % len(people)], t)
    return texts


def _posted(mock, texts):
    got = [p["text"] for p in mock.of("chat.postMessage")]
    return {t: got.count(t) for t in texts}


def _statuses(rt, job):
    with rt.store.session() as s:
        return [r.status for r in s.scalars(select(Outbox).where(Outbox.job == job))]


def test_three_deliver_processes_at_once_post_every_message_once(rt):
    mock = MockSlack()
    try:
        texts = _queue(rt, 9)
        mock.overlap("chat.postMessage", 3)
        results = _finish([_retain(_env(rt, mock), "jobs", "run", "outbox:deliver") for _ in range(3)])
        assert _posted(mock, texts) == {t: 1 for t in texts}
        assert sum(r["sent"] for r in results) == 9 and _statuses(rt, "fault:test") == ["sent"] * 9
    finally:
        mock.close()


def test_two_deliver_threads_at_once_post_every_message_once(rt):
    mock = MockSlack()
    try:
        texts = _queue(rt, 6)
        mock.overlap("chat.postMessage", 2)
        client = make_client("xoxb-test", mock.url)
        results: list[dict] = []
        threads = [threading.Thread(target=lambda: results.append(deliver(rt.store, client))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert _posted(mock, texts) == {t: 1 for t in texts}
        assert sum(r["sent"] for r in results) == 6 and _statuses(rt, "fault:test") == ["sent"] * 6
    finally:
        mock.close()


def test_posts_slack_took_but_answered_500_or_dropped_are_not_posted_again(rt):
    mock = MockSlack()
    try:
        texts = _queue(rt, 4)
        mock.fail_after["chat.postMessage"] = [500, "reset"]  # posted, then the answer is an error or lost
        first = _finish([_retain(_env(rt, mock), "jobs", "run", "outbox:deliver")])[0]
        assert first["sent"] == 2 and first["retry"] == 2
        with rt.store.engine.begin() as conn:  # their backoff is over
            conn.execute(text("UPDATE outbox SET next_try_at = :t WHERE status = 'pending'"),
                         {"t": datetime.now() - timedelta(seconds=1)})
        again = _finish([_retain(_env(rt, mock), "jobs", "run", "outbox:deliver")])[0]
        assert again.get("reconciled") == 2 and again["sent"] == 0  # found in Slack, not posted again
        assert _posted(mock, texts) == {t: 1 for t in texts} and _statuses(rt, "fault:test") == ["sent"] * 4
    finally:
        mock.close()


def test_the_same_briefing_run_by_two_processes_at_once_is_posted_once(rt):
    mock = MockSlack()
    try:
        mock.overlap("chat.postMessage", 2, timeout=15)  # the old outbox let both post; now one does
        _finish([_retain(_env(rt, mock), "jobs", "run", "brief:csm:4") for _ in range(2)])
        posts = [p for p in mock.of("chat.postMessage") if p["channel"] == "UCSM00004"]
        assert len(posts) == 1 and "Briefing for Dana Reyes" in posts[0]["text"]
        charts = mock.of("files.completeUploadExternal")  # its chart, in its thread, once
        assert len(charts) == 1 and charts[0]["thread_ts"] == posts[0]["_reply_ts"]
    finally:
        mock.close()


def test_a_briefing_run_while_another_process_creates_the_checkpoint_file_waits_for_it_and_posts(rt):
    """Two `retain jobs run brief:...` at once both create `checkpoints.sqlite`; switching a new file to WAL
    does not wait for the other's lock (SQLite calls no busy handler there), so one of them exited
    "unexpected OperationalError: database is locked". Now it waits for the file like any write."""
    if not rt.settings.db_url.startswith("sqlite"):
        pytest.skip("on PostgreSQL the checkpoints are in the CRM database: no SQLite file")
    mock = MockSlack()
    try:
        path = rt.settings.data_dir / "checkpoints.sqlite"
        assert not path.exists()
        code, out, err = run_while_held(path, [sys.executable, "-m", "retain", "jobs", "run", "brief:csm:4"],
                                        _env(rt, mock))
        assert code == 0 and "Traceback" not in err, (code, out[-2000:], err[-3000:])
        posts = [p for p in mock.of("chat.postMessage") if p["channel"] == "UCSM00004"]
        assert len(posts) == 1 and "Briefing for Dana Reyes" in posts[0]["text"]
    finally:
        mock.close()


def test_a_job_kept_from_the_database_past_the_busy_timeout_says_so_in_one_line(rt):
    if not rt.settings.db_url.startswith("sqlite"):
        pytest.skip("SQLite's busy timeout; PostgreSQL waits for row locks")
    mock = MockSlack()
    try:
        _queue(rt, 1)
        rt.store.engine.dispose()
        db = Path(rt.settings.db_url.removeprefix("sqlite:///"))
        code, out, err = run_while_held(db, [sys.executable, "-m", "retain", "jobs", "run", "outbox:deliver"],
                                        {**_env(rt, mock), "RETAIN_DEBUG": ""}, grace=float("inf"))
        assert code == 1 and "Traceback" not in err, (code, out[-2000:], err[-3000:])
        assert "the database was busy" in err and "Run the command again" in err and len(err.strip().splitlines()) == 1
        assert mock.of("chat.postMessage") == [] and _statuses(rt, "fault:test") == ["pending"]
    finally:
        mock.close()


def _scheduler(env):
    """`retain scheduler` in its own process: (process, its output so far) once it runs, or after it ended."""
    proc = _retain(env, "scheduler")
    lines: list[str] = []
    ready = threading.Event()

    def read(stream):
        for line in stream:
            lines.append(line)
            if "Scheduler running" in line:
                ready.set()
        ready.set()

    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=read, args=(stream,), daemon=True).start()
    ready.wait(300)
    if "Scheduler running" not in "".join(lines):
        proc.wait(300)
    return proc, lines


def test_a_scheduler_killed_holding_its_lease_keeps_a_second_out_until_the_lease_runs_out(rt):
    mock = MockSlack()
    env = _env(rt, mock)
    live = []
    try:
        first, out = _scheduler(env)
        live.append(first)
        assert "Scheduler running" in "".join(out), "".join(out)[-3000:]
        first.kill()  # kill -9: its lease stays in the database
        first.wait(60)
        second, out = _scheduler(env)
        assert second.returncode == 2 and "Another scheduler is running" in "".join(out), "".join(out)[-3000:]
        with rt.store.engine.begin() as conn:  # the dead scheduler's lease runs out
            conn.execute(text("UPDATE scheduler_lease SET expires_at = :t"),
                         {"t": datetime.now() - timedelta(seconds=1)})
        third, out = _scheduler(env)
        live.append(third)
        assert "Scheduler running" in "".join(out), "".join(out)[-3000:]
        fourth, out = _scheduler(env)  # while the third lives, nobody else runs jobs
        assert fourth.returncode == 2 and "Another scheduler is running" in "".join(out)
    finally:
        for p in live:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
        mock.close()


def test_two_sweeps_at_once_then_approve_records_exactly_the_draft_shown(slack, rt):
    bot, mock, url = slack
    _finish([_retain(_env(rt, mock), "jobs", "run", "onboarding:sweep") for _ in range(2)])
    shown = [p for p in mock.of("chat.postMessage") if p["channel"] == MARCUS and "Cyberdyne" in p["text"]]
    assert len(shown) == 1  # one follow-up per milestone and day, however many sweeps ran
    value = shown[0]["blocks"][-1]["elements"][0]["value"]
    body = re.sub(r"^\*Draft: .*?\*\n(To: .*\n)?", "", shown[0]["blocks"][0]["text"]["text"])
    payload = {"type": "block_actions", "user": {"id": MARCUS}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "D0MARCUS01"}, "message": {"ts": "1700000000.000009"}, "trigger_id": "trigS",
               "container": {"type": "message"},
               "actions": [{"action_id": "retain_approve", "value": value, "action_ts": "19.1",
                            "block_id": "retain_approval", "type": "button"}]}
    assert form(url, payload).status_code == 200
    bot.inbox.drain()
    with rt.store.session() as s:
        logged = list(s.scalars(select(ActionLog)))
        assert [a.draft_id for a in logged] == [json.loads(value)["draft"]]  # the draft on the button
        act = s.get(Activity, logged[0].result["activity_id"])
        assert body.strip() in act.body
