"""A request's topic read as a message's content: the instruction's frame, shorthand and pronouns never reach
the recipient, and what the CSM asks them becomes a question to them (`agents.requests.intent`)."""

import pytest

from agents.requests.intent import read

FRAME = ("msg", " w ", "ask if", "ask whether", "ask them", "tell them", "let them know", "pls", "thx", "draft",
         "their ")


@pytest.mark.parametrize("topic,about,asks", [
    ("the sso cert renewal, ask whether their legal review is finished", "the SSO certificate renewal",
     ["Could you let me know whether your legal review is finished?"]),
    ("re the data export pls, and ask them to confirm their retention window", "the data export",
     ["Could you confirm your retention window?"]),
    ("the qbr deck; check if he has the usage numbers", "the QBR deck",
     ["Could you let me know whether you have the usage numbers?"]),
    ("asking whether their pilot is live", "", ["Could you let me know whether your pilot is live?"]),
])
def test_the_topic_and_the_questions_are_split_and_said_to_the_reader(topic, about, asks):
    i = read(topic)
    assert (i.topic, list(i.asks)) == (about, asks)
    assert not any(w in f" {i.topic} {' '.join(i.asks)} ".lower() for w in FRAME), i


def test_news_and_subjects_are_clean():
    i = read("the migration plan and let them know the cutover moved to january")
    assert i.tells == ("the cutover moved to january",) and i.topic == "the migration plan"
    assert read("the okta cert rotation, ask if their review is done").subject("x") == "Okta certificate rotation"
    assert read("ask if the procurement review is done").subject("x") == "Procurement review"


def test_it_is_the_thread_record_or_kept():
    job = "the October fine-tune job (nimbus-base v1)"
    assert read("retrying it with a smaller batch size", job).topic == f"retrying {job} with a smaller batch size"
    within = "the fix is rolling out, can we walk through it"
    assert read(within).topic == within  # "it" points back inside the request: kept
    assert read("whether it is ready").asks == ("Could you let me know whether it is ready?",)  # "it is": kept
