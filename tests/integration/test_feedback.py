"""Feedback buttons on answers and briefings: each click kept once, listed, exported as eval candidates."""

import json

import yaml
from slack_http import DANA, MARCUS, answers, form, mention


def _click(url, value, action_ts, user=DANA, ts="1700000000.000002", text="Acme Corp's champion: …"):
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C0EAST0001"}, "message": {"ts": ts, "text": text},
               "trigger_id": f"trig{action_ts}", "container": {"type": "message"},
               "actions": [{"type": "feedback_buttons", "action_id": "retain_feedback", "block_id": "fb",
                            "value": value, "action_ts": action_ts}]}
    return form(url, payload)


def _buttons(blocks):
    block = next(b for b in blocks if b["type"] == "context_actions")
    el = block["elements"][0]
    assert el["type"] == "feedback_buttons" and el["action_id"] == "retain_feedback"
    return el["positive_button"]["value"], el["negative_button"]["value"]


def _env(bot):
    env = {"RETAIN_DATA_DIR": str(bot.services.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if bot.services.settings.database_url:
        env["RETAIN_DATABASE_URL"] = bot.services.settings.database_url
    return env


def test_answers_carry_feedback_buttons_and_each_click_is_kept_once(slack, run_cli, tmp_path):
    bot, mock, url = slack
    mention(url, "who is the champion at Acme Corp?", eid="EvFb1", ts="1700000400.000100")
    bot.inbox.drain()
    answer = answers(mock)[-1]
    good, bad = _buttons(answer["blocks"])
    assert good == "good|answer|EvFb1" and bad == "bad|answer|EvFb1"

    ts = answer["ts"]
    for _ in range(2):  # the same click delivered twice (a Slack retry)
        assert _click(url, good, "1700000401.1", ts=ts).status_code == 200
    assert _click(url, bad, "1700000402.1", ts=ts).status_code == 200  # a second, different click: the vote changes
    assert _click(url, bad, "1700000403.1", user="not-a-user", ts=ts).status_code == 200  # no identity
    bot.inbox.drain()
    thanks = [p for p in mock.of("chat.postEphemeral") if p["text"].startswith("Thanks")]
    assert len(thanks) == 2 and all(p["user"] == DANA for p in thanks)

    env = _env(bot)
    code, out, err = run_cli("feedback", "--json", env_extra=env)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["value"] for r in rows] == ["bad"]  # one vote per person per answer, the last one
    bad_row = rows[0]
    assert bad_row["question"] == "who is the champion at Acme Corp?"
    assert bad_row["asker"] == bad_row["voter"] == "dana.reyes@retain.example"
    assert bad_row["route"]["intents"] and bad_row["answer"] == answer["text"]  # what Retain posted
    out_file = tmp_path / "candidates.yaml"
    code, out, err = run_cli("feedback", "--export-eval", str(out_file), env_extra=env)
    assert code == 0 and "1 thumbs-down" in out, err
    cases = yaml.safe_load(out_file.read_text())["candidates"]
    assert cases == [{**cases[0], "question": "who is the champion at Acme Corp?", "what_was_wrong": "",
                      "asked_by": "dana.reyes@retain.example"}]
    code, _, err = run_cli("feedback", "--since", "yesterday", env_extra=env)
    assert code == 2 and "YYYY-MM-DD" in err and "Traceback" not in err


def test_a_vote_is_the_clickers_on_what_retain_posted_whatever_the_button_says(slack, run_cli, tmp_path):
    bot, mock, url = slack
    mention(url, "who is the champion at Acme Corp?", eid="EvFbD", ts="1700000500.000100")
    bot.inbox.drain()
    dana_answer = answers(mock)[-1]
    mention(url, "how is Globex doing?", user=MARCUS, eid="EvFbM", ts="1700000501.000100")
    bot.inbox.drain()
    marcus_answer = answers(mock)[-1]
    assert dana_answer["ts"] != marcus_answer["ts"]

    for n in range(10):  # one person clicking ten times is one vote
        _click(url, "bad|answer|EvFbD", f"17000005{10 + n}.1", ts=dana_answer["ts"])
    _click(url, "good|answer|EvFbD", "1700000530.1", user=MARCUS, ts=dana_answer["ts"])  # another reader's vote
    forged = "Great answer, see https://evil.example/phish <!channel>"
    # Marcus's own answer, with a button value naming Dana's question and a forged message text.
    _click(url, "bad|answer|EvFbD", "1700000531.1", user=MARCUS, ts=marcus_answer["ts"], text=forged)
    _click(url, "bad|answer|EvFbNope", "1700000532.1", user=MARCUS, ts=marcus_answer["ts"], text=forged)
    bot.inbox.drain()

    code, out, err = run_cli("feedback", "--json", env_extra=_env(bot))
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 2  # Dana's ten clicks are one vote, Marcus's click on her answer another; nothing else
    rows = sorted(rows, key=lambda r: r["voter"])
    assert [(r["voter"], r["value"]) for r in rows] == [("dana.reyes@retain.example", "bad"),
                                                         ("marcus.chen@retain.example", "good")]
    assert all(r["asker"] == "dana.reyes@retain.example" for r in rows)  # Dana asked; Marcus only voted
    assert all(r["question"] == "who is the champion at Acme Corp?" and r["answer"] == dana_answer["text"]
               for r in rows)
    out_file = tmp_path / "candidates.yaml"
    code, _, err = run_cli("feedback", "--export-eval", str(out_file), env_extra=_env(bot))
    assert code == 0, err
    assert "evil" not in out_file.read_text() and "Globex" not in out_file.read_text()


def test_briefings_carry_feedback_buttons(slack, run_cli):
    bot, mock, url = slack
    env = {"RETAIN_DATA_DIR": str(bot.services.settings.data_dir), "RETAIN_LLM__BACKEND": "none",
           "RETAIN_SLACK__BOT_TOKEN": "xoxb-test", "RETAIN_SLACK__BASE_URL": mock.url}
    if bot.services.settings.database_url:
        env["RETAIN_DATABASE_URL"] = bot.services.settings.database_url
    code, _, err = run_cli("jobs", "run", "brief:csm:4", env_extra=env)
    assert code == 0, err
    brief = [p for p in mock.of("chat.postMessage") if "Briefing for" in p["text"]][-1]
    good, _ = _buttons(brief["blocks"])
    assert good.startswith("good|briefing|brief:csm:4|")
    # Its chart: a real PNG in the briefing's thread.
    done = mock.of("files.completeUploadExternal")
    assert done and done[-1]["channel_id"] == brief["channel"] and done[-1]["thread_ts"] == brief["_reply_ts"]
    assert mock.uploads and mock.uploads[-1][:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run_cli("jobs", "run", "brief:csm:4", env_extra=env)  # a rerun: nothing posted or uploaded again
    assert code == 0 and len(mock.of("files.completeUploadExternal")) == len(done)
    # Dana rates her briefing: kept with the briefing Retain sent, whatever the click's message text says.
    _click(url, good, "1700000600.1", ts=brief["_reply_ts"], text="forged https://evil.example")
    _click(url, good, "1700000601.1", ts="1700000000.999999")  # not the briefing's message: ignored
    bot.inbox.drain()
    code, out, err = run_cli("feedback", "--json", env_extra=env)
    rows = json.loads(out)
    assert code == 0 and [(r["kind"], r["voter"], r["asker"]) for r in rows] == [
        ("briefing", "dana.reyes@retain.example", "dana.reyes@retain.example")], err
    assert "Briefing for" in rows[0]["answer"] and "evil" not in rows[0]["answer"]
