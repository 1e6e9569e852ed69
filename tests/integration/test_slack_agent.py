"""Slack's AI-app conventions: status while working, the answer in the thread, prompts from the asker's book."""

import json
from datetime import datetime, timedelta

from slack_http import DANA, event

from agents.progress import Planned, tasks

TEAM_DM = "D0DANA0001"


def _dm(url, text, ts, thread_ts, eid):
    return event(url, {"type": "message", "channel_type": "im", "user": DANA, "channel": TEAM_DM, "text": text,
                       "ts": ts, "thread_ts": thread_ts}, eid)


def test_assistant_thread_shows_what_it_is_doing_then_answers_in_the_thread(slack):
    bot, mock, url = slack
    r = _dm(url, "why did Globex's latency go up?", "1700000500.000200", "1700000500.000100", "EvAg1")
    assert r.status_code == 200
    bot.inbox.drain()
    statuses = mock.of("assistant.threads.setStatus")
    assert statuses and all(s["channel_id"] == TEAM_DM and s["thread_ts"] == "1700000500.000100" for s in statuses)
    said = [m for s in statuses for m in (s.get("loading_messages") or [])]
    assert any("Globex" in m and "telemetry" in m for m in said)  # what it is doing, about the account asked
    # A streamed plan: one task per step, each completed with its verified fact and sources, then the answer.
    start = mock.of("chat.startStream")
    assert len(start) == 1 and start[0]["thread_ts"] == "1700000500.000100" and start[0]["recipient_user_id"] == DANA
    tasks = [c for c in start[0]["chunks"] if c["type"] == "task_update"]
    assert tasks and all(t["status"] == "in_progress" for t in tasks)
    done = [c for a in mock.of("chat.appendStream") for c in a["chunks"]]
    assert {c["id"] for c in done} == {t["id"] for t in tasks} and all(c["status"] == "complete" for c in done)
    assert any("p95" in (c.get("output") or "") and "telemetry" in (c.get("details") or "") for c in done)
    stop = mock.of("chat.stopStream")
    assert len(stop) == 1 and stop[0]["ts"] == start[0]["_reply_ts"] and "2.1x" in json.dumps(stop[0]["blocks"])
    calls = [m for m, _ in mock.calls]
    assert calls.index("chat.startStream") < calls.index("chat.appendStream") < calls.index("chat.stopStream")
    posts = [p for p in mock.of("chat.postMessage") if p.get("thread_ts") == "1700000500.000100"]
    assert not posts and not mock.of("chat.update")  # no placeholder, no second copy of the answer
    assert [t["title"] for t in mock.of("assistant.threads.setTitle")] == ["why did Globex's latency go up?"]
    # The status was set while working and cleared once the answer was in the thread.
    assert statuses[0]["status"] and statuses[-1]["status"] == ""
    assert mock.calls.index(("chat.stopStream", stop[0])) < mock.calls.index(("assistant.threads.setStatus",
                                                                             statuses[-1]))
    # The next message in the same thread: no new title.
    _dm(url, "and their renewal?", "1700000501.000200", "1700000500.000100", "EvAg2")
    bot.inbox.drain()
    assert len(mock.of("assistant.threads.setTitle")) == 1


def test_without_streaming_the_verified_answer_is_posted_in_the_thread(slack):
    bot, mock, url = slack
    mock.fail["chat.startStream"] = [(200, {})]
    _dm(url, "why did Globex's latency go up?", "1700000550.000200", "1700000550.000100", "EvAgNoStream")
    bot.inbox.drain()
    assert mock.of("assistant.threads.setStatus") and not mock.of("chat.appendStream")
    posts = [p for p in mock.of("chat.postMessage") if p.get("thread_ts") == "1700000550.000100"]
    assert len(posts) == 1 and "2.1x" in json.dumps(posts[0]["blocks"])


def test_without_the_feature_the_placeholder_is_kept(slack):
    bot, mock, url = slack
    mock.fail["assistant.threads.setStatus"] = [(200, {})] * 5  # always {"ok": false}: not an assistant thread
    _dm(url, "how is Acme doing?", "1700000600.000200", "1700000600.000100", "EvAg3")
    bot.inbox.drain()
    posts = [p for p in mock.of("chat.postMessage") if p.get("thread_ts") == "1700000600.000100"]
    assert len(posts) == 1 and "Looking into" in posts[0]["text"]
    assert mock.of("chat.update")  # the placeholder was replaced by the answer


def test_suggested_prompts_come_from_the_askers_own_book(slack):
    bot, mock, url = slack
    ev = {"type": "assistant_thread_started", "assistant_thread": {"user_id": DANA, "channel_id": TEAM_DM,
                                                                   "thread_ts": "1700000700.000100", "context": {}}}
    assert event(url, ev, "EvAgStart").status_code == 200
    bot.inbox.drain()
    call = mock.of("assistant.threads.setSuggestedPrompts")[-1]
    prompts = call["prompts"] if isinstance(call["prompts"], list) else json.loads(call["prompts"])
    assert call["channel_id"] == TEAM_DM and 2 <= len(prompts) <= 4
    ctx = bot.services.tool_context(DANA)
    from tools import crm

    mine = {r["name"] for r in crm.portfolio(ctx, limit=500)["accounts"]}
    named = [p["message"] for p in prompts if p["message"].startswith("how is ")]
    assert named and all(n.removeprefix("how is ").removesuffix(" doing?") in mine for n in named)
    assert all(p["title"] and p["message"] for p in prompts)


def test_a_plan_of_several_agents_completes_each_task_it_opened(slack):
    bot, mock, url = slack
    _dm(url, "prep me for Globex's QBR", "1700000800.000200", "1700000800.000100", "EvAgQbr")
    bot.inbox.drain()
    start = mock.of("chat.startStream")[-1]
    opened = [c["id"] for c in start["chunks"] if c["type"] == "task_update"]
    closed = [c["id"] for a in mock.of("chat.appendStream") for c in a["chunks"]]
    assert len(set(opened)) >= 3  # several agents, one task each
    assert sorted(closed) == sorted(opened)  # every task completed once, by the id it was opened with
    agents = {i.split(":")[0] for i in opened}
    assert {"tuning", "renewal"} <= agents


def test_a_failed_answer_closes_the_plan_and_clears_the_status(slack, monkeypatch):
    bot, mock, url = slack
    real_ask = bot.assistant.ask
    calls = []

    def ask(question, who, thread, progress=None):
        calls.append(question)
        if len(calls) == 1:  # the first attempt fails after the plan was shown
            progress(Planned(tasks({"intents": ["renewal"], "accounts": [{"name": "Globex"}]})))
            raise RuntimeError("the model server went away")
        return real_ask(question, who, thread, progress=progress)

    monkeypatch.setattr(bot.assistant, "ask", ask)
    _dm(url, "what's Globex's renewal risk?", "1700000900.000200", "1700000900.000100", "EvAgFail")
    bot.inbox.drain()
    stops = mock.of("chat.stopStream")
    assert len(stops) == 1 and "went wrong" in stops[0]["markdown_text"]
    assert [c["status"] for c in stops[0]["chunks"]] == ["error"]
    assert mock.of("assistant.threads.setStatus")[-1]["status"] == ""
    assert "model server" not in json.dumps([p for _, p in mock.calls])  # no internals shown to the user
    # The inbox retries the item: the answer replaces the note in that same message, not a second one.
    bot.inbox.tick(now=datetime.now() + timedelta(seconds=60))
    bot.inbox.drain()
    assert len(calls) == 2
    assert len(mock.of("chat.startStream")) == 1
    msgs = mock.thread("D0DANA0001", "1700000900.000100")
    assert len(msgs) == 1 and msgs[0]["ts"] == stops[0]["ts"] and "Globex" in json.dumps(msgs[0]["blocks"])


def test_steps_the_answer_did_not_need_are_closed_with_it(slack):
    bot, mock, url = slack
    from tools import crm

    mine = {r["name"] for r in crm.portfolio(bot.services.tool_context(DANA), limit=500)["accounts"]}
    with bot.services.store.engine.connect() as c:
        from sqlalchemy import text

        other = next(n for (n,) in c.execute(text("SELECT name FROM accounts ORDER BY id")) if n not in mine)
    _dm(url, f"what's the renewal risk at {other}?", "1700000950.000200", "1700000950.000100", "EvAgOther")
    bot.inbox.drain()
    start = mock.of("chat.startStream")[-1]
    opened = {c["id"] for c in start["chunks"] if c["type"] == "task_update"}
    stop = mock.of("chat.stopStream")[-1]
    closed = [c for a in mock.of("chat.appendStream") if a["ts"] == stop["ts"] for c in a["chunks"]]
    closed += stop.get("chunks") or []
    assert opened and {c["id"] for c in closed} == opened and all(c["status"] == "complete" for c in closed)
    assert other not in json.dumps([c for c in closed])  # nothing about the other CSM's account
    assert "not in your portfolio" in json.dumps(stop["blocks"])


_AI_APP = ("assistant.threads.setStatus", "assistant.threads.setTitle", "assistant.threads.setSuggestedPrompts",
           "chat.startStream", "chat.appendStream", "chat.stopStream")
_EVIL = "<!channel> <https://evil.example/login|Okta fix>"


def test_ai_app_calls_carry_no_broadcast_or_masked_link_from_crm_or_question(slack):
    """Account names, note subjects and the question reach status, plan, title and prompts only made safe."""
    bot, mock, url = slack
    from sqlalchemy import select

    from integrations.crm.models import Account, Activity
    from tools import crm

    mine = crm.portfolio(bot.services.tool_context(DANA), limit=500)["accounts"]
    with bot.services.store.session() as s:
        globex = s.scalars(select(Account).where(Account.name == "Globex")).one()
        globex.name = f"Globex {_EVIL}"
        for a in s.scalars(select(Activity).where(Activity.account_id == globex.id)):
            a.subject = f"{a.subject} <!here> <https://evil.example/notes|notes>"
        for r in mine:  # every account in Dana's book, so the suggested prompts name one of them
            if r["account_id"] != globex.id:
                s.get(Account, r["account_id"]).name = f"{r['name']} <!everyone> <https://evil.example/p|prompt>"
        s.commit()
    ev = {"type": "assistant_thread_started", "assistant_thread": {"user_id": DANA, "channel_id": TEAM_DM,
                                                                   "thread_ts": "1700000990.000100", "context": {}}}
    assert event(url, ev, "EvAgEvilStart").status_code == 200
    _dm(url, "why did Globex's latency go up? <!here> <https://evil.example/q|see this>", "1700000990.000200",
        "1700000990.000100", "EvAgEvil")
    bot.inbox.drain()
    sent = {m: mock.of(m) for m in _AI_APP}
    assert all(sent[m] for m in _AI_APP if m != "chat.stopStream" or sent["chat.startStream"])
    said = json.dumps(sent, ensure_ascii=False)
    for bad in ("<!", "<https://", "|Okta fix>", "|see this>", "|notes>", "|prompt>", "https://evil.example"):
        assert bad not in said, bad
    # The text is still there, shown plainly: the account, and the link defanged.
    loading = [m for s in sent["assistant.threads.setStatus"] for m in (s.get("loading_messages") or [])]
    assert any("Globex" in m and "telemetry" in m for m in loading)
    assert "evil[.]example" in said and "Okta fix" in said
    prompts = sent["assistant.threads.setSuggestedPrompts"][-1]["prompts"]
    assert any("prompt" in p["title"] for p in prompts)
