"""Which offered candidate a bare reply picks, and the paging words of a ranked list (issue 36)."""

from agents.understand.candidates import asked_again, choose
from agents.understand.pages import page

OFFERED = ["Pinnacle Analytics", "Pinnacle Biotech", "Pinnacle Financial"]


def test_a_reply_picks_by_ordinal_or_by_a_word_only_one_candidate_has():
    assert choose("the third", OFFERED) == "Pinnacle Financial"
    assert choose("biotech", OFFERED) == "Pinnacle Biotech"
    assert choose("i meant the analytics one", OFFERED) == "Pinnacle Analytics"
    assert choose("Pinnacle Financial", OFFERED) == "Pinnacle Financial"
    assert choose("pinnacle", OFFERED) is None  # every candidate has it
    assert choose("what renews for me in march across the whole book then", OFFERED) is None
    assert choose("hmm", OFFERED) is None


def test_the_first_question_is_asked_again_about_the_chosen_one():
    p = {"question": "how's pinnacle's nps", "text": "s pinnacle", "candidates": OFFERED}
    assert asked_again(p, "Pinnacle Biotech") == "how's Pinnacle Biotech's nps"


def test_paging_words():
    nxt = page("the next 4")
    assert nxt is not None and nxt.limit == 4 and nxt.page
    more = page("ok five more")
    assert more is not None and more.limit == 5
    after = page("and the next two after it")
    assert after is not None and after.limit == 2 and after.after_first
    rest = page("the ones after that")
    assert rest is not None and rest.limit is None
    assert page("the next 3 months") is None and page("renewals in the next 2 weeks") is None
