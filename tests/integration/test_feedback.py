"""Feedback buttons on answers and briefings: each click kept once, listed, exported as eval candidates."""

import json

import yaml
from slack_http import DANA, answers, form, mention


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


def test_answers_carry_feedback_buttons_and_each_click_is_kept_once(slack, run_cli, tmp_path):
    bot, mock, url = slack
    mention(url, "who is the champion at Acme Corp?", eid="EvFb1", ts="1700000400.000100")
    bot.inbox.drain()
    good, bad = _buttons(answers(mock)[-1]["blocks"])
    assert good == "good|answer|EvFb1" and bad == "bad|answer|EvFb1"

    for _ in range(2):  # the same click delivered twice (a Slack retry)
        assert _click(url, bad, "1700000401.1").status_code == 200
    assert _click(url, good, "1700000402.1").status_code == 200  # a second, different click
    assert _click(url, "bad|answer|EvFb1", "1700000403.1", user="not-a-user").status_code == 200  # no identity
    bot.inbox.drain()
    thanks = [p for p in mock.of("chat.postEphemeral") if p["text"].startswith("Thanks")]
    assert len(thanks) == 2 and all(p["user"] == DANA for p in thanks)

    env = {"RETAIN_DATA_DIR": str(bot.services.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if bot.services.settings.database_url:
        env["RETAIN_DATABASE_URL"] = bot.services.settings.database_url
    code, out, err = run_cli("feedback", "--json", env_extra=env)
    assert code == 0, err
    rows = json.loads(out)
    assert sorted(r["value"] for r in rows) == ["bad", "good"]
    bad_row = next(r for r in rows if r["value"] == "bad")
    assert bad_row["question"] == "who is the champion at Acme Corp?"
    assert bad_row["asker"] == "dana.reyes@retain.example"
    assert bad_row["route"]["intents"] and bad_row["answer"].startswith("Acme Corp")
    out_file = tmp_path / "candidates.yaml"
    code, out, err = run_cli("feedback", "--export-eval", str(out_file), env_extra=env)
    assert code == 0 and "1 thumbs-down" in out, err
    cases = yaml.safe_load(out_file.read_text())["candidates"]
    assert cases == [{**cases[0], "question": "who is the champion at Acme Corp?", "what_was_wrong": "",
                      "asked_by": "dana.reyes@retain.example"}]
    code, _, err = run_cli("feedback", "--since", "yesterday", env_extra=env)
    assert code == 2 and "YYYY-MM-DD" in err and "Traceback" not in err


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
