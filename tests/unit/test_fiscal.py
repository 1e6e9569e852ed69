"""A fiscal-year start stated in a message, in its many wordings, and the quarters and years it makes fiscal."""

from __future__ import annotations

from datetime import date

import pytest

from agents import fiscal
from agents.when import span

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(("text", "month"), [
    ("our FY starts in Feb, which renewals are due in Q1?", 2),
    ("fiscal year begins April 1 - what's our NRR?", 4),
    ("we run a fiscal year starting July. renewals in FY27 Q1?", 7),
    ("our fiscal year starts october 1st. GRR last fiscal quarter?", 10),
    ("with a fiscal year that begins in March, what renews this fiscal quarter?", 3),
    ("our financial year starts in April", 4),
    ("we're on a february fiscal year - which renewals", 2),
    ("Q1 starts in Feb for us", 2),
    ("fiscal yr starts feb 1st; how many detractors", 2),
    ("our FY runs Apr-Mar. Renewals due next fiscal year?", 4),
    ("FY begins on the 1st of June", 6),
])
def test_a_stated_fiscal_start_in_any_wording(text, month):
    assert fiscal.stated_start(text) == month


@pytest.mark.parametrize("text", ["renewals in fiscal Q1 2027", "what renews in Q2?", "FY27 GRR",
                                  "which accounts started in February?", "the fiscal year so far"])
def test_no_start_is_read_where_none_is_stated(text):
    assert fiscal.stated_start(text) is None


def test_with_a_stated_start_bare_quarters_and_years_are_fiscal_and_say_so():
    q1 = span("our FY starts in Feb, which renewals are due in Q1?", TODAY)
    assert q1 is not None and (q1.start, q1.end) == (date(2027, 2, 1), date(2027, 4, 30)) and "fiscal" in q1.text
    q3 = span("FY starts in Feb; how many tickets were opened in Q3?", TODAY, future=False)
    assert q3 is not None and (q3.start, q3.end) == (date(2026, 8, 1), date(2026, 10, 31))
    last = span("with a fiscal year that begins in March, what did we renew last quarter?", TODAY, future=False)
    assert last is not None and (last.start, last.end) == (date(2026, 6, 1), date(2026, 8, 31))
    fy_q = span("we run a fiscal year starting July. renewals in FY27 Q1?", TODAY, future=False)
    assert fy_q is not None and (fy_q.start, fy_q.end) == (date(2026, 7, 1), date(2026, 9, 30))
    nxt = span("our FY runs Apr-Mar. Renewals due next fiscal year?", TODAY)
    assert nxt is not None and (nxt.start, nxt.end) == (date(2027, 4, 1), date(2028, 3, 31))
    end = span("fy begins in june. any milestones due before the end of the quarter?", TODAY)
    assert end is not None and (end.start, end.end) == (TODAY, date(2026, 11, 30))
    ytd = span("our financial year starts in April. NRR this year so far?", TODAY, future=False)
    assert ytd is not None and (ytd.start, ytd.end) == (date(2026, 4, 1), TODAY)


def test_a_start_stated_earlier_in_the_thread_reads_the_follow_up():
    token = fiscal.STATED.set(7)
    try:
        q2 = span("and Q2?", TODAY, future=False)
    finally:
        fiscal.STATED.reset(token)
    assert q2 is not None and (q2.start, q2.end) == (date(2026, 10, 1), date(2026, 12, 31))
    plain = span("and Q2?", TODAY, future=False)  # no start stated: the calendar (configured) quarter
    assert plain is not None and (plain.start, plain.end) == (date(2026, 4, 1), date(2026, 6, 30))
