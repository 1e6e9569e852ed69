"""A fact an eval answer must not show counts only as a word or phrase of its own."""

from agents.evaluate import shows


def test_an_absent_fact_is_matched_as_a_whole_word_or_phrase():
    assert not shows("red", "2 signals stand unanswered; health 65 (yellow)")  # "red" inside "unanswered"
    assert not shows("East", "eastgate markets renews in may")
    assert shows("red", "health 51 (red), renews 2026-12-14")
    assert shows("Initech", "initech's renewal is on 2026-12-14")
    assert shows("$25,000", "arr $25,000 at renewal")
