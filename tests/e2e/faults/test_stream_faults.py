"""A worker killed (kill -9) while it streams an answer into an assistant thread: the worker that takes
the question over finishes that same message; the person never sees a half answer beside a full one."""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import SLACK_SECRET
from fault_rig import SlackEvents, Worker, env_for, json_only, kill_9
from mock_slack import MockSlack


class AssistantThreadEvents(SlackEvents):
    """Questions asked in an assistant thread (a DM thread: the app streams its answer there)."""

    @staticmethod
    def root(k: int) -> str:
        return f"1700004000.{k:06d}"

    def body(self, k: int) -> str:
        eid, channel, ts = self.where(k)
        ev = {"type": "message", "channel_type": "im", "user": "UCSM00004", "channel": channel,
              "text": "how is Acme Corp doing?", "ts": ts, "thread_ts": self.root(k)}
        return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": ev,
                           "event_id": eid, "event_time": int(time.time())})


@pytest.fixture
def mock():
    m = MockSlack()
    yield m
    m.close()


def test_kill_9_mid_stream_the_next_worker_finishes_the_same_message(rt, mock):
    env = env_for(str(rt.settings.data_dir), rt.settings.database_url, mock.url, SLACK_SECRET)
    w = Worker(env)
    try:
        child = w.answering_pid()
        killed: list[int] = []
        lock = threading.Lock()

        def mid_stream(params):  # the first appended task reaches Slack: the answering process dies there
            with lock:
                if not killed:
                    killed.append(child)
                    kill_9(child)
        mock.on["chat.appendStream"] = mid_stream
        slack = AssistantThreadEvents([w.url], SLACK_SECRET)
        slack.send(0)
        slack.all_acked()
        _, channel, _ = slack.where(0)

        def done() -> bool:
            msgs = mock.thread(channel, slack.root(0))
            return bool(msgs) and all(not m.get("streaming") and m.get("blocks") for m in msgs)
        deadline = time.time() + 300
        while time.time() < deadline and not done():
            time.sleep(0.5)
        time.sleep(3)  # anything late would be a second answer
        msgs = mock.thread(channel, slack.root(0))
        assert killed, "the worker was never killed mid-stream"
        assert len(mock.of("chat.startStream")) >= 1
        assert len(msgs) == 1, [(m["ts"], m.get("streaming"), m["text"][:60]) for m in msgs]
        assert not msgs[0].get("streaming") and "Acme" in json.dumps(msgs[0]["blocks"])  # the answer, closed
        assert w.answering_pid() != child
        assert json_only(w) == [], json_only(w)[:5]
    finally:
        w.stop()
