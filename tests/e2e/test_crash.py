"""Crash tests with a real process: `kill -9` at three points of a briefing run, then a restart.

Each briefing must reach the mock Slack Web API exactly once (the crash after posting but before
marking it sent may duplicate at most once, and says so).
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import seeded_copy
from mock_slack import MockSlack
from models_dir import TINY_CHAT, model


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
                                 timeout=300)
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
            assert len(posts) == 2 and result.get("possible_duplicates") == 1  # at most one, and logged
        else:
            assert len(posts) == 1 and result["sent"] == 1
        code, _, _ = run_cli("jobs", "run", "brief:csm:4", env_extra=restart_env)  # a later rerun
        assert code == 0 and len(briefings(mock)) == len(posts)
    finally:
        mock.close()
