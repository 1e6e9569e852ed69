"""Constraint words without a database: windows in many forms, bounds in many wordings, typos mended.

Each row stands for a kind of phrasing (issue 36); none is an eval question.
"""

from __future__ import annotations

from datetime import date

import pytest

from agents.understand import normalize
from agents.understand.constraint_words import constraints
from agents.understand.measures import record_thresholds, superlative
from agents.understand.shapes import past_tense
from agents.understand.slots import thresholds
from agents.when import OPEN_START, span

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize("phrase,future,start,end", [
    ("renewing in the next 6 wks", True, "2026-11-23", "2027-01-04"),
    ("due in 2 mos", True, "2026-11-23", "2027-01-23"),
    ("renewing before thanksgiving", True, "2026-11-23", "2026-11-25"),
    ("by labor day 2027", True, "2026-11-23", "2027-09-06"),
    ("in fiscal q1 2027", True, "2027-01-01", "2027-03-31"),
    ("in the 2nd quarter of 2027", True, "2027-04-01", "2027-06-30"),
    ("before the end of q1", True, "2026-11-23", "2027-03-31"),
    ("before the end of h1 2027", True, "2026-11-23", "2027-06-30"),
    ("by the end of the year", True, "2026-11-23", "2026-12-31"),
    ("in september next year", True, "2027-09-01", "2027-09-30"),
    ("opened on 11/10 or later", False, "2026-11-10", "2026-11-23"),
    ("signed after june 2025", False, "2025-07-01", "2026-11-23"),
    ("since 2025", False, "2025-01-01", "2026-11-23"),
    ("our fiscal year starts in february: next fiscal quarter", True, "2027-02-01", "2027-04-30"),
    ("pending for december", True, "2026-12-01", "2026-12-31"),
    ("renewing in the back half of next year", True, "2027-07-01", "2027-12-31"),
    ("tickets opened since the start of the month", False, "2026-11-01", "2026-11-23"),
    ("renewals the week of dec 14", True, "2026-12-14", "2026-12-20"),
    ("tickets raised yesterday", False, "2026-11-22", "2026-11-22"),
    ("what changed since yesterday", False, "2026-11-22", "2026-11-23"),
    ("renewals we downsized in the spring", False, "2026-03-01", "2026-05-31"),
    ("renewing in the spring", True, "2027-03-01", "2027-05-31"),
    ("tickets filed last summer", False, "2026-06-01", "2026-08-31"),
    ("anything renewing this winter", True, "2026-12-01", "2027-02-28"),
    ("notes since the summer", False, "2026-06-01", "2026-11-23"),
    ("renewals thru end of january", True, "2026-11-23", "2027-01-31"),
    ("due through the end of feb", True, "2026-11-23", "2027-02-28"),
    ("tickets filed on the 20th", False, "2026-11-20", "2026-11-20"),
    ("anything closed on the 30th", False, "2026-10-30", "2026-10-30"),
    ("renewing on the 1st", True, "2026-12-01", "2026-12-01"),
])
def test_windows_in_many_forms(phrase, future, start, end):
    s = span(normalize(phrase).lower(), TODAY, future=future)
    assert s is not None and (s.start.isoformat(), s.end.isoformat()) == (start, end), s


def test_an_open_year_reaches_back_without_a_start():
    s = span("contracts started before 2024", TODAY, future=False)
    assert s is not None and s.start == OPEN_START and s.end == date(2023, 12, 31)
    assert "up to 2023-12-31" in s.describe()


@pytest.mark.parametrize("phrase,want", [
    ("accounts with arr between 50k and 150k", [("arr", "ge", 50000.0), ("arr", "le", 150000.0)]),
    ("anything renewing over 100k", [("arr", "gt", 100000.0)]),
    ("at or above $200k", [("arr", "ge", 200000.0)]),
    ("accounts with 3 or more open tickets", [("open_tickets", "ge", 3.0)]),
    ("at least 3 open tickets", [("open_tickets", "ge", 3.0)]),
    ("fewer than 20 seats", [("seats", "lt", 20.0)]),
    ("p(renew) below .5", [("p_renew", "lt", 0.5)]),
    ("fewer than 50% of seats in use", [("seat_utilization", "lt", 0.5)]),
    ("worth more than 150k", [("arr", "gt", 150000.0)]),
    ("expanded by more than 50k", []),  # a change, not a bound: named as not applied instead
])
def test_bounds_in_many_wordings(phrase, want):
    assert [(f.field, f.op, f.value) for f in thresholds(phrase)] == want


def test_bounds_and_superlatives_on_the_entitys_own_fields():
    assert [(f.field, f.op, f.value) for f in record_thresholds("fine_tunes", "eval score above 0.8")] == \
        [("eval_score", "gt", 0.8)]
    assert [(f.field, f.op) for f in record_thresholds("surveys", "a score of 9 or higher")] == [("score", "ge")]
    assert [(f.field, f.op) for f in record_thresholds("renewals", "renewals over 100k")] == [("arr_before", "gt")]
    low = superlative("fine_tunes", "which fine-tune scored highest on eval?", "created_on")
    assert low is not None and (low.field, low.desc) == ("eval_score", True)
    old = superlative("tickets", "what's my oldest open ticket?", "opened_at")
    assert old is not None and (old.field, old.desc) == ("opened_at", False)
    plan = superlative("plans", "which plan has been running the longest", "target_date")
    assert plan is not None and (plan.field, plan.desc) == ("started_on", False)


@pytest.mark.parametrize("typed,read", [
    ("whcih acounts renew in Septmber?", "which accounts renew in september?"),
    ("list the overdue milestoens", "list the overdue milestones"),
    ("tickts opened this month", "tickets opened this month"),
    ("accounts we contacted last week", "accounts we contacted last week"),  # a real word, not "contracted"
    ("which accounts did we sign most recently?", "which accounts did we sign most recently?"),
    ("Is Redwood Capital at risk?", "Is Redwood Capital at risk?"),  # names are left alone
])
def test_typos_in_the_words_csms_ask_with_are_mended(typed, read):
    assert normalize(typed) == read


@pytest.mark.parametrize("asked,read", [
    ("what did we renew in march", "what we renewed in march"),
    ("which accounts did we lose in august", "which accounts we lost in august"),
    ("what did the west team renew this year", "what the west team renewed this year"),
    ("which tickets did customers resolve", "which tickets customers resolved"),
    ("what milestones did we complete", "what milestones we completed"),
    ("which accounts have more than 3 open tickets", "which accounts have more than 3 open tickets"),
])
def test_a_question_about_what_happened_reads_its_verb_in_the_past(asked, read):
    assert past_tense(asked) == read


def test_a_season_is_not_read_in_a_verb():
    assert span("renewals that fall in the next 30 days", TODAY) == span("renewals in the next 30 days", TODAY)


@pytest.mark.parametrize(("text", "status"), [
    ("when was the sso piece supposed to be done", False),  # its due date is asked
    ("what's meant to be completed this week?", False),
    ("which milestones are done", True),  # a status to filter on
    ("show me the completed ones", True),
])
def test_supposed_to_be_done_asks_a_due_date_not_a_status(text, status):
    assert any(c.kind == "status" for c in constraints(text, date(2026, 11, 23))) is status
