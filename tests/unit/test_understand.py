"""Understanding, without a database: the plan a phrasing becomes (shape, entity, the fields it filters,
sorts and groups by). Phrasings here are not in the eval; they stand for kinds of question."""

from __future__ import annotations

from datetime import date

import pytest

from agents.understand import Vocabulary, pick, plan

TODAY = date(2026, 11, 23)
VOCAB = Vocabulary(models=["nimbus-large", "nimbus-small", "cirrus-code"], teams=["East", "West"],
                   csms=["Dana Reyes", "Marcus Chen", "Olivia Grant"], industries=["Healthcare", "Retail"],
                   plans=["Enterprise", "Growth", "Starter"], roles=["VP Engineering", "IT Admin", "ML Engineer"])
ONE = [{"account_id": 7, "name": "Zephyr Labs"}]
TWO = ONE + [{"account_id": 8, "name": "Quartz Inc"}]


def shape(question, accounts=(), previous=()):
    plans = plan(question, TODAY, VOCAB, "Dana Reyes", list(accounts), list(previous))
    assert plans, question
    p = plans[0]
    q = p.query
    return (p.shape, q.entity if q else None, sorted({f.field for f in q.filters}) if q else [],
            [s.field for s in q.sort] if q else [], q.group_by if q else None, p.what, p.metric)


@pytest.mark.parametrize("question,what", [
    ("Zephyr Labs - who's their champion these days?", "champion"),
    ("who should I escalate to at Zephyr Labs for budget sign-off?", "economic buyer"),
    ("which CSM covers Zephyr Labs?", "owner"),
    ("any tickets still open at Zephyr Labs?", "tickets"),
    ("how many licences is Zephyr Labs using?", "seats"),
    ("what tier did Zephyr Labs buy?", "plan"),
    ("when is Zephyr Labs' contract up?", "renewal date"),
    ("what's Zephyr Labs worth to us per year?", "contract value"),
    ("when did we last speak with Zephyr Labs?", "last touch"),
    ("what came out of the latest meeting with Zephyr Labs?", "last meeting"),
    ("who's the IT admin at Zephyr Labs?", "IT admin"),
])
def test_a_field_of_one_account(question, what):
    got = shape(question, ONE)
    assert got[0] == "lookup" and got[5] == what, got


@pytest.mark.parametrize("question,entity,filters,sort,group", [
    ("customers on cirrus-code with health under 55", "accounts", ["health", "model"], ["health"], None),
    ("biggest 4 accounts in healthcare", "accounts", ["industry"], ["arr"], None),
    ("accounts nobody has touched for 3 weeks", "accounts", ["days_since_touch"], ["last_touch"], None),
    ("which renewals land before the end of February?", "accounts", ["renewal_date"], ["renewal_date"], None),
    ("total ARR up for renewal in Q1, by CSM", "accounts", ["renewal_date"], ["arr"], "owner"),
    ("urgent tickets still open on the West team", "tickets", ["priority", "status", "team"], [], None),
    ("which fine-tuning jobs failed this month?", "fine_tunes", ["created_on", "status"], [], None),
    ("overdue milestones for Marcus's accounts", "milestones", ["due_date", "owner", "status"], [], None),
    ("least likely to renew, top 3", "accounts", [], ["p_renew"], None),
    ("which Growth plan customers have seat use above 90%?", "accounts", ["plan", "seat_utilization"], ["health"],
     None),
])
def test_portfolio_filters_sorts_and_groups(question, entity, filters, sort, group):
    got = shape(question)
    assert got[1:5] == (entity, filters, sort, group), got


@pytest.mark.parametrize("question,metric,start,end", [
    ("net dollar retention for 2025", "nrr", "2025-01-01", "2025-12-31"),
    ("gross retention over the past 6 months", "grr", "2026-05-23", "2026-11-23"),
    ("what was logo retention last quarter?", "logo_retention", "2026-07-01", "2026-09-30"),
    ("our NPS since June", "nps", "2026-06-01", "2026-11-23"),
])
def test_metrics_and_their_periods(question, metric, start, end):
    p = plan(question, TODAY, VOCAB, "Dana Reyes", [], [])[0]
    assert (p.shape, p.metric, p.period.start.isoformat(), p.period.end.isoformat()) == ("metric", metric, start, end)


def test_conversation_comparisons_and_vague_asks():
    assert shape("Zephyr Labs vs Quartz Inc on latency", TWO)[0] == "compare"
    assert shape("Zephyr Labs and Quartz Inc together: how much ARR?", TWO)[0] == "aggregate"
    got = shape("of those, which renews soonest?", previous=[3, 4, 5])
    assert got[3] == ["renewal_date"] and plan("of those, which renews soonest?", TODAY, VOCAB, "Dana Reyes", [],
                                                [3, 4, 5])[0].query.account_ids == [3, 4, 5]
    assert pick("tell me about the second one", [3, 4, 5]) == 4 and pick("and the last one?", [3, 4, 5]) == 5
    assert pick("what happened over the last 3 weeks?", [3, 4, 5]) is None
    assert shape("what needs my attention this morning?")[0] == "today"


def test_milestones_and_period_tickets_of_one_account():
    vocab = Vocabulary(**{**VOCAB.__dict__, "milestones": ["SSO / SCIM setup", "Team training"]})
    p = plan("who owns the SSO milestone at Zephyr Labs?", TODAY, vocab, "Dana Reyes", ONE, [])[0]
    assert p.what == "milestones" and [(f.field, f.value) for f in p.query.filters] == [("name", "sso")]
    p = plan("Zephyr Labs tickets from the last 90 days", TODAY, vocab, "Dana Reyes", ONE, [])[0]
    assert [(f.field, f.value) for f in p.query.filters] == [("opened_at", ["2026-08-25", "2026-11-23"])]
