"""Two workers and one question: a worker that stalled past its lease (a database outage, a starved
machine) and lost the item to another worker posts nothing when it wakes up."""

import threading
from datetime import datetime, timedelta

from slack_http import mention

from integrations.crm.models import SlackInbox
from retain.slack.app import RetainSlack


def test_a_worker_that_lost_its_claim_while_stalled_posts_no_second_answer(slack, monkeypatch):
    """Worker A claims the question and stalls before its placeholder (its database calls hang through an
    outage, so its lease is not renewed); worker B takes the expired claim and answers. When A wakes up,
    the person still sees one message in the thread: B's answer."""
    bot, mock, url = slack
    other = RetainSlack(bot.services, bot.assistant, me="worker-b")  # a second worker on the same database
    stalled, wake = threading.Event(), threading.Event()
    person = bot.person

    def stalls(user):  # A's first database read hangs until the test lets it go
        stalled.set()
        assert wake.wait(60)
        return person(user)

    monkeypatch.setattr(bot, "person", stalls)
    try:
        assert mention(url, "how is Acme doing?", eid="EvStall").status_code == 200
        assert stalled.wait(60)
        lease_out = datetime.now() + timedelta(seconds=bot.inbox.lease_s + 60)
        assert other.inbox.tick(lease_out) == 1  # A's lease ran out: B takes the question over
        assert other.inbox.drain(60)
        assert len(mock.thread("C0EAST0001", "1700000100.000100")) == 1
        wake.set()
        assert bot.inbox.drain(60)
        thread = mock.thread("C0EAST0001", "1700000100.000100")
        assert len(thread) == 1 and "Looking into" not in thread[0]["text"]  # one message: the answer
        assert len(mock.of("chat.postMessage")) == 1
        with bot.services.store.session() as s:
            row = s.get(SlackInbox, "EvStall")
            assert row.status == "done" and row.claimed_by == "worker-b" and row.result["ts"] == thread[0]["ts"]
    finally:
        wake.set()
        other.close()
