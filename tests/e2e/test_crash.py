"""Crash tests with a real process: `kill -9` at three points of a briefing run, then a restart.

Each briefing must reach the mock Slack Web API exactly once. A crash after posting but before
marking it sent leaves the row claimed: a restart leaves it alone while the claim's lease lasts, then
finds the post in the channel's history (its metadata marker) and marks it sent without posting again.
"""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from conftest import seeded_copy
from mock_slack import MockSlack
from models_dir import TINY_CHAT, model


def _engine(data, db):
    from sqlalchemy import create_engine

    return create_engine(db or f"sqlite:///{data / 'retain.db'}")


def _expire_outbox_claims(data, db):
    from sqlalchemy import text

    engine = _engine(data, db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET lease_until = :t WHERE status = 'sending'"),
                     {"t": datetime.now() - timedelta(seconds=1)})
    engine.dispose()


def _outbox_ts(data, db):
    from sqlalchemy import text

    engine = _engine(data, db)
    with engine.connect() as conn:
        ts = conn.execute(text("SELECT ts FROM outbox WHERE job = 'brief:csm:4' AND status = 'sent'")).scalar()
    engine.dispose()
    return ts


def briefings(mock):
    return [p for p in mock.of("chat.postMessage") if p["channel"] == "UCSM00004" and "Briefing for" in p["text"]]


@pytest.mark.parametrize("point,llm", [("after_outbox_write", False), ("after_post", False), ("in_llm", True)])
def test_kill_9_then_restart_delivers_once(seeded_dir, tmp_path, point, llm, run_cli):
    data = tmp_path / "data"
    db = seeded_copy(seeded_dir, data)
    mock = MockSlack()
    env = {**os.environ, "RETAIN_DATA_DIR": str(data), **({"RETAIN_DATABASE_URL": db} if db else {}),
           "RETAIN_SLACK__BOT_TOKEN": "xoxb-test",
           "RETAIN_SLACK__BASE_URL": mock.url, "RETAIN_LLM__BACKEND": "none"}
    if llm:
        env |= {"RETAIN_LLM__BACKEND": "llamacpp", "RETAIN_LLM__N_CTX": "4096",
                "RETAIN_LLM__MODEL_PATH": str(model(TINY_CHAT))}
    cmd = [sys.executable, "-m", "retain", "jobs", "run", "brief:csm:4"]
    try:
        crashed = subprocess.run(cmd, env={**env, "RETAIN_FAULT": point}, capture_output=True, text=True,
                                 timeout=1200)
        assert crashed.returncode == -9, crashed.stderr[-2000:]
        before = len(briefings(mock))
        assert before == (1 if point == "after_post" else 0)
        # The restart and a later rerun: the real entry point, in this process (the crash needed its own).
        restart_env = {k: v for k, v in env.items() if k.startswith("RETAIN_") and k != "RETAIN_FAULT"}
        code, out, err = run_cli("jobs", "run", "brief:csm:4", env_extra=restart_env)
        assert code == 0, err[-2000:]
        result = json.loads(out[out.index("{"):])
        posts = briefings(mock)
        if point == "after_post":
            assert len(posts) == 1 and result["sent"] == 0  # the dead sender's claim still holds
            _expire_outbox_claims(data, db)  # ... until its lease runs out
            code, out, err = run_cli("jobs", "run", "brief:csm:4", env_extra=restart_env)
            result = json.loads(out[out.index("{"):])
            assert code == 0 and result.get("reconciled") == 1 and len(briefings(mock)) == 1, out + err
            assert _outbox_ts(data, db) == posts[0]["_reply_ts"]  # the ts Slack gave the one post
        else:
            assert len(posts) == 1 and result["sent"] == 1
        code, _, _ = run_cli("jobs", "run", "brief:csm:4", env_extra=restart_env)  # a later rerun
        assert code == 0 and len(briefings(mock)) == len(posts)
    finally:
        mock.close()
