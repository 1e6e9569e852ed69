"""QBR decks in Slack: asked for in words or by the button under a QBR prep answer, uploaded into the thread."""

import io
import json
from datetime import datetime, timedelta

from pptx import Presentation
from slack_http import DANA, MARCUS, form, mention

from integrations.slack.job import Job
from retain.slack import decks

CHANNEL = "C0EAST0001"


def _click(url, user, value, trigger, ts, thread_ts):
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": CHANNEL}, "message": {"ts": ts, "thread_ts": thread_ts},
               "trigger_id": trigger, "container": {"type": "message"},
               "actions": [{"action_id": "retain_qbr_deck", "value": value, "action_ts": f"17.{trigger}",
                            "block_id": "retain_qbr", "type": "button"}]}
    assert form(url, payload).status_code == 200


def _retry_everything(bot):
    for n in range(1, 4):
        bot.inbox.tick(now=datetime.now() + timedelta(minutes=10 * n))
        bot.inbox.drain()


def _notes(mock, thread_ts):
    return [m["text"] for m in mock.thread(CHANNEL, thread_ts)]


def test_a_deck_asked_for_in_words_is_uploaded_into_the_thread(slack):
    bot, mock, url = slack
    assert mention(url, "make me a QBR deck for Initech", user=DANA, ts="1700000200.000100", eid="EvDeck").status_code \
        == 200
    bot.inbox.drain()
    _retry_everything(bot)  # a retried item never uploads twice
    assert len(mock.files) == 1
    f = mock.files[0]
    assert (f["channel"], f["thread_ts"], f["filename"]) == (CHANNEL, "1700000200.000100", "Initech-QBR-2026Q4.pptx")
    assert "every number's source is in the speaker notes" in f["initial_comment"]
    deck = Presentation(io.BytesIO(f["content"]))
    assert deck.slides[0].shapes.title.text_frame.text.startswith("Initech")
    assert any(sh.has_chart for s in deck.slides for sh in s.shapes)
    assert not mock.of("chat.update")  # no answer placeholder: the file is the reply


def test_another_csms_account_gets_one_refusal_and_nothing_is_uploaded(slack):
    bot, mock, url = slack
    mention(url, "make me a QBR deck for Initech", user=MARCUS, ts="1700000300.000100", eid="EvDeckNo")
    bot.inbox.drain()
    _retry_everything(bot)
    assert not mock.files and not mock.of("files.getUploadURLExternal")
    said = _notes(mock, "1700000300.000100")
    assert len(said) == 1 and "not in your portfolio" in said[0]


def test_a_wrong_name_or_quarter_gets_one_clear_message(slack):
    bot, mock, url = slack
    mention(url, "make me a QBR deck for Nosuchco", user=DANA, ts="1700000400.000100", eid="EvDeckBad")
    mention(url, "make me a QBR deck for Initech for 2027Q3", user=DANA, ts="1700000500.000100", eid="EvDeckQ")
    mention(url, "make me a QBR deck", user=DANA, ts="1700000600.000100", eid="EvDeckNone")
    bot.inbox.drain()
    assert not mock.files
    assert [len(_notes(mock, t)) for t in ("1700000400.000100", "1700000500.000100", "1700000600.000100")] == [1, 1, 1]
    assert "No account matches 'Nosuchco'" in _notes(mock, "1700000400.000100")[0]
    assert "2027Q3 has not started yet" in _notes(mock, "1700000500.000100")[0]
    assert "Which account?" in _notes(mock, "1700000600.000100")[0]


def test_the_button_under_a_qbr_prep_answer_makes_the_deck_for_whoever_may_see_it(slack):
    bot, mock, url = slack
    mention(url, "prep me for Initech's QBR", user=DANA, ts="1700000700.000100", eid="EvPrep")
    bot.inbox.drain()
    answer = mock.of("chat.update")[-1]
    button = next(e for b in answer["blocks"] if b.get("block_id") == "retain_qbr" for e in b["elements"])
    assert button["action_id"] == "retain_qbr_deck" and json.loads(button["value"])["account_id"]
    _click(url, MARCUS, button["value"], "t-marcus", answer["ts"], "1700000700.000100")  # not his account
    bot.inbox.drain()
    assert not mock.files
    refusal = [p for p in mock.of("chat.postEphemeral") if p["user"] == MARCUS]
    assert len(refusal) == 1 and "not in your portfolio" in refusal[0]["text"]
    _click(url, DANA, button["value"], "t-dana", answer["ts"], "1700000700.000100")
    bot.inbox.drain()
    _retry_everything(bot)
    assert [(f["filename"], f["thread_ts"]) for f in mock.files] == [("Initech-QBR-2026Q4.pptx", "1700000700.000100")]


def test_other_answers_get_no_deck_button(slack):
    bot, mock, url = slack
    mention(url, "how is Initech doing?", user=DANA, ts="1700000800.000100", eid="EvHow")
    bot.inbox.drain()
    assert not any(b.get("block_id") == "retain_qbr" for b in mock.of("chat.update")[-1]["blocks"])


def test_an_attempt_that_died_after_uploading_is_not_uploaded_again(slack):
    bot, mock, url = slack
    mention(url, "make me a QBR deck for Initech", user=DANA, ts="1700000900.000100", eid="EvDeckDie")
    bot.inbox.drain()
    assert len(mock.files) == 1
    # The same item again, as a worker taking over would run it had the first died before keeping its state.
    lost = Job(key="EvDeckDie", kind="question", attempt=2, payload={
        "user": DANA, "channel": CHANNEL, "text": "<@UBOT> make me a QBR deck for Initech", "ts": "1700000900.000100"})
    assert decks.from_message(bot, lost, "UCSM00004", decks.asked(lost.payload["text"]), "1700000900.000100")["deck"] \
        == "Initech-QBR-2026Q4.pptx"
    assert len(mock.files) == 1 and mock.of("conversations.replies")  # read back from Slack, not uploaded again
