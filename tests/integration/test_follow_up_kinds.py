"""More follow-up kinds (issue 36), each read from the last query's fields and rows, checked against the database.

Two windows joined ("Feb + Mar together"), a second switch over the accounts the thread built, the next
upcoming record after an overdue list, a status word on milestones, renewal history from a past window
and its edits, "them" after a person, a role at each account, a record named by its date and kind that
the list did not show, and edits the query cannot express asked about instead of applied backwards.
"""

from sqlalchemy import text

from agents.assistant import Assistant

DANA = "dana.reyes@retain.example"
MARCUS = "marcus.chen@retain.example"
PRIYA = "priya.patel@retain.example"

_RENEWING = ("select a.name from contracts k join accounts a on a.id = k.account_id where a.owner_id = 4 and "
             "a.lifecycle_stage != 'churned' and k.status = 'active' and k.renewal_date between '{}' and '{}'")


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _last(bot: Assistant, who: str, thread: str, *asks: str) -> dict:
    return [bot.ask(a, who, thread) for a in asks][-1]


def test_two_months_joined_are_one_window_over_both(rt):
    bot = Assistant(rt, use_memory=False)
    inside = [n for (n,) in _sql(rt, _RENEWING.format("2027-02-01", "2027-03-31"))]
    before = [n for (n,) in _sql(rt, _RENEWING.format("2026-11-23", "2027-01-31"))]
    assert inside and before
    r = _last(bot, DANA, "plus", "renewals in the next 6 months", "and feb + mar together?")
    assert "2027-02-01 to 2027-03-31" in r["answer"]["reading"], r["answer"]["reading"]
    assert all(n in r["answer"]["text"] for n in inside) and not any(n in r["answer"]["text"] for n in before)


def test_a_second_switch_keeps_the_accounts_the_thread_built(rt):
    bot = Assistant(rt, use_memory=False)
    retail = _sql(rt, "select count(*) from accounts where owner_id = 4 and industry = 'Retail' and "
                      "lifecycle_stage != 'churned'")[0][0]
    champs = [n for (n,) in _sql(rt, "select c.name from contacts c join accounts a on a.id = c.account_id where "
                                     "a.owner_id = 4 and a.industry = 'Retail' and a.lifecycle_stage != 'churned' "
                                     "and c.is_champion")]
    with_tickets = _sql(rt, "select count(distinct t.account_id) from tickets t join accounts a on "
                            "a.id = t.account_id where a.owner_id = 4 and a.industry = 'Retail' and "
                            "a.lifecycle_stage != 'churned' and t.status != 'closed'")[0][0]
    assert with_tickets < retail and len(champs) > with_tickets  # the tickets' accounts are fewer than the list's
    r = _last(bot, DANA, "chain", "my accounts in Retail", "their open tickets",
              f"who's the champion at those {retail} accounts?")
    assert all(n in r["answer"]["text"] for n in champs), r["answer"]["text"]
    assert not r["answer"].get("not_applied")


def test_the_next_one_after_an_overdue_list_is_the_next_upcoming_record(rt):
    bot = Assistant(rt, use_memory=False)
    nxt = _sql(rt, "select m.name, m.due_date from milestones m join onboarding_plans p on p.id = m.plan_id join "
                   "accounts a on a.id = p.account_id where a.owner_id = 5 and a.lifecycle_stage != 'churned' and "
                   "m.status != 'done' and m.due_date >= '2026-11-23' order by m.due_date limit 1")[0]
    r = _last(bot, MARCUS, "next", "overdue milestones on my accounts", "when's the next one due?")
    assert r["answer"]["mode"] == "deterministic", r["answer"]["text"]
    assert nxt[0] in r["answer"]["text"] and str(nxt[1])[:10] in r["answer"]["text"]


def test_still_open_milestones_are_the_ones_not_done(rt):
    bot = Assistant(rt, use_memory=False)
    rows = _sql(rt, "select a.name || ': name ' || m.name, m.status from milestones m join onboarding_plans p on "
                    "p.id = m.plan_id join accounts a on a.id = p.account_id where a.owner_id = 5 and "
                    "a.lifecycle_stage != 'churned' and m.due_date between '2026-10-01' and '2026-10-31'")
    done = [n for n, st in rows if st == "done"]
    still = [n for n, st in rows if st != "done"]
    assert done and still
    r = _last(bot, MARCUS, "open-ms", "milestones due last month on my accounts", "which are still open?")
    assert all(n in r["answer"]["text"] for n in still) and not any(n in r["answer"]["text"] for n in done), \
        r["answer"]["text"]
    assert not r["answer"].get("not_applied")


def test_renewals_from_a_past_window_are_the_history_and_its_follow_ups_edit_it(rt):
    bot = Assistant(rt, use_memory=False)
    lost = _sql(rt, "select sum(r.arr_before - r.arr_after) from renewal_events r join accounts a on "
                    "a.id = r.account_id where a.owner_id = 4 and r.outcome = 'contracted' and "
                    "r.renewal_date between '2026-05-23' and '2026-11-23'")[0][0]
    assert lost
    r = _last(bot, DANA, "hist", "my renewals from the past 6 months", "which ones contracted?",
              "how much ARR did we lose?")
    assert f"${lost:,.0f}" in r["answer"]["text"], r["answer"]["text"]


def test_them_after_a_person_is_that_persons_own_last_engagement(rt):
    bot = Assistant(rt, use_memory=False)
    day = _sql(rt, "select c.last_engaged from contacts c join accounts a on a.id = c.account_id where "
                   "c.name = 'Taylor Johnson' and a.name = 'Cedar Legal'")[0][0]
    r = _last(bot, PRIYA, "person", "what's Taylor Johnson's title?", "when did we last hear from them?")
    assert str(day)[:10] in r["answer"]["text"] and "Cedar Legal" in r["answer"]["text"]


def test_a_role_at_each_account_is_asked_of_those_accounts(rt):
    bot = Assistant(rt, use_memory=False)
    admins = [n for (n,) in _sql(rt, "select c.name from contacts c join accounts a on a.id = c.account_id where "
                                     "a.owner_id = 4 and a.segment = 'enterprise' and a.lifecycle_stage != "
                                     "'churned' and c.role like '%Admin%'")]
    others = [n for (n,) in _sql(rt, "select c.name from contacts c join accounts a on a.id = c.account_id where "
                                     "a.owner_id = 4 and a.segment = 'enterprise' and a.lifecycle_stage != "
                                     "'churned' and c.role not like '%Admin%'")]
    r = _last(bot, DANA, "role", "my enterprise accounts", "who's the IT admin at each of them?")
    assert admins and all(n in r["answer"]["text"] for n in admins)
    assert not any(n in r["answer"]["text"] for n in others if n not in admins)


def test_a_record_named_by_date_and_kind_is_found_beyond_the_rows_shown(rt):
    bot = Assistant(rt, use_memory=False)
    body = _sql(rt, "select x.body from activities x join accounts a on a.id = x.account_id where "
                    "a.name = 'Kestrel Foods' and x.kind = 'meeting' and x.occurred_on = '2026-11-09'")[0][0]
    r = _last(bot, DANA, "day", "recent notes for Kestrel Foods", "what did the nov 9 meeting say?")
    assert body[:40] in r["answer"]["text"], r["answer"]["text"]


def test_an_edit_the_query_cannot_express_is_asked_about_never_applied_backwards(rt):
    bot = Assistant(rt, use_memory=False)
    r = _last(bot, DANA, "neg", "my red accounts", "exclude the ones renewing next year")
    assert r["answer"]["mode"] == "clarify" and "did not apply" in r["answer"]["text"], r["answer"]
    r = _last(bot, MARCUS, "first", "tickets raised in november", "show the high ones first")
    assert r["answer"]["mode"] == "clarify" and "high ones first" in r["answer"]["text"], r["answer"]
