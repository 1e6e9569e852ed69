"""A message posted to a person's id (an approval card, a note) lands in their DM with the app; when
Slack took the post but its answer was lost, the look-up must search that DM, not the person's id
(which conversations.history refuses), or the card is posted twice."""

from mock_slack import MockSlack

from integrations.slack.client import make_client, post_once


def test_a_lost_answer_to_a_post_to_a_person_is_found_in_their_dm():
    mock = MockSlack()
    try:
        client = make_client("xoxb-test", mock.url, retry_posts=False)
        for after in (500, "reset"):
            mock.fail_after["chat.postMessage"] = [after]
            key = f"cmd:Ev1:approval:{after}"
            got = post_once(client, key, channel="UCSM00004", text="Draft for approval")
            assert mock.posts()[key] == 1, after  # Slack took it once; it was found, not posted again
            assert got["ts"] == mock.of("chat.postMessage")[-1]["_reply_ts"]
        assert {p["channel"] for p in mock.of("chat.postMessage")} == {"DCSM00004"}  # posted where it is looked up
    finally:
        mock.close()

