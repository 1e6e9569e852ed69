"""Issue 36: stated constraints are applied by kind, not by sentence. Real SQLite demo, no model.

Each test asks phrasings of one kind of constraint (a window in another form, a bound on a number in
another wording, a superlative on a field of the entity, a status from the CRM's vocabulary, two
constraints at once, a deadline no calendar resolves) and checks the answer against SQL: what the
right reading shows is there, what the wrong reading would show is not.
"""

from __future__ import annotations

from sqlalchemy import text

from agents.assistant import Assistant
from agents.understand.edits import _filters
from agents.understand.shapes import portfolio
from agents.understand.vocabulary import vocabulary

DANA, MARCUS, PRIYA, SAM = ("dana.reyes@retain.example", "marcus.chen@retain.example", "priya.patel@retain.example",
                            "sam.okafor@retain.example")
AVERY, OLIVIA = "avery.stone@retain.example", "olivia.grant@retain.example"
LIVE = "a.lifecycle_stage != 'churned'"
RENEWING = f"from contracts k join accounts a on a.id=k.account_id where {LIVE} and k.status='active'"


def sql(rt, q: str) -> list:
    with rt.store.session() as s:
        return [r[0] for r in s.execute(text(q))]


def ask(bot, q: str, who: str) -> str:
    return bot.ask(q, who, f"t:{who}:{q}")["answer"]["text"]


def shows(answer: str, want: list, wrong: list = ()) -> bool:
    """Every right name is in the answer, and no name only the wrong reading would show."""
    extra = set(wrong) - set(want)
    return bool(want) and all(str(n) in answer for n in want) and not any(str(n) in answer for n in extra)


def test_windows_in_other_forms_are_read_against_today(rt):
    bot = Assistant(rt, use_memory=False)
    # Shorthand units, a holiday, a fiscal quarter with its year, the end of the year.
    dana = f"select a.name {RENEWING} and a.owner_id=4 and k.renewal_date"
    want = sql(rt, f"{dana} between '2026-11-23' and '2027-01-04'")
    wrong = sql(rt, f"{dana} between '2027-01-05' and '2027-02-22'")
    assert shows(ask(bot, "which of my accts renew in the next 6 wks", DANA), want, wrong)
    a = ask(bot, "which of my accounts renew before Thanksgiving", DANA)
    assert "2026-11-25" in a.splitlines()[0] and "did not apply" not in a
    want = sql(rt, f"{dana} between '2027-01-01' and '2027-03-31'")
    wrong = sql(rt, f"{dana} > '2027-03-31'")
    assert shows(ask(bot, "my renewals in fiscal Q1 2027 please", DANA), want, wrong)
    # An open-ended year on a verb's own date field: contracts that started before 2024.
    want = sql(rt, f"select a.name {RENEWING} and a.owner_id=5 and k.start_date < '2024-01-01'")
    wrong = sql(rt, f"select a.name {RENEWING} and a.owner_id=5 and k.start_date >= '2024-01-01'")
    assert shows(ask(bot, "which contracts started before 2024?", MARCUS), want, wrong)
    want = sql(rt, f"select a.name {RENEWING} and a.owner_id=5 and k.start_date between '2023-01-01' and '2023-12-31'")
    wrong = sql(rt, f"select a.name {RENEWING} and a.owner_id=5 and k.start_date >= '2024-01-01'")
    assert shows(ask(bot, "which contracts began in 2023?", MARCUS), want, wrong)


def test_bounds_on_numbers_in_any_wording(rt):
    bot = Assistant(rt, use_memory=False)
    want = sql(rt, f"select name from accounts a where owner_id=4 and {LIVE} and arr between 50000 and 150000")
    wrong = sql(rt, f"select name from accounts a where owner_id=4 and {LIVE} and (arr < 50000 or arr > 150000)")
    assert shows(ask(bot, "show me accounts with ARR between 50k and 150k", DANA), want, wrong)
    want = sql(rt, f"select a.name {RENEWING} and a.owner_id=4 and a.arr > 100000 and k.renewal_date "
                   "between '2026-11-23' and '2026-12-31'")
    wrong = sql(rt, f"select a.name {RENEWING} and a.owner_id=4 and a.arr <= 100000 and k.renewal_date "
                    "between '2026-11-23' and '2026-12-31'")
    assert shows(ask(bot, "any renewals by end of next month over 100k?", DANA), want, wrong)
    # A bound on the entity's own number: a fine-tune's eval score, a survey's score (inclusive "or higher").
    want = sql(rt, "select distinct a.name from fine_tune_jobs f join accounts a on a.id=f.account_id "
                   f"where a.owner_id=7 and {LIVE} and f.eval_score > 0.8")
    wrong = sql(rt, "select distinct a.name from fine_tune_jobs f join accounts a on a.id=f.account_id "
                    f"where a.owner_id=7 and {LIVE} and (f.eval_score <= 0.8 or f.eval_score is null)")
    assert shows(ask(bot, "fine-tunes with an eval score above 0.8", SAM), want, wrong)
    n = sql(rt, f"select count(*) from survey_responses r join accounts a on a.id=r.account_id where {LIVE} "
                "and r.score >= 9 and r.responded_on between '2026-10-01' and '2026-10-31'")[0]
    assert f"{n} survey responses" in ask(bot, "which survey responses came in last month with a score of 9 or higher",
                                          AVERY)


def test_superlatives_on_any_field_of_the_entity(rt):
    bot = Assistant(rt, use_memory=False)
    low, high = (sql(rt, "select a.name from fine_tune_jobs f join accounts a on a.id=f.account_id where "
                         f"a.owner_id=7 and {LIVE} and f.eval_score is not null order by f.eval_score {d} limit 1")[0]
                 for d in ("asc", "desc"))
    a = ask(bot, "which fine-tune has the lowest eval score", SAM)
    assert low in a and "top 1" in a.splitlines()[0]
    best = sql(rt, "select a.name from fine_tune_jobs f join accounts a on a.id=f.account_id where "
                   f"{LIVE} and f.eval_score is not null order by f.eval_score desc limit 1")[0]
    assert best in ask(bot, "which fine-tune scored highest on eval?", AVERY)
    oldest, newest = (sql(rt, "select t.subject from tickets t join accounts a on a.id=t.account_id where "
                              f"a.owner_id=4 and {LIVE} and t.status != 'closed' order by t.opened_at {d} limit 1")[0]
                      for d in ("asc", "desc"))
    a = ask(bot, "what's my oldest open ticket?", DANA)
    assert oldest in a and newest not in a
    a = ask(bot, "my top 3 accounts by health", PRIYA)
    assert "highest first" in a.splitlines()[0]
    top = sql(rt, f"select a.name from onboarding_plans p join accounts a on a.id=p.account_id where {LIVE} "
                  "and a.owner_id in (7,8,9) and p.status='active' order by p.started_on limit 2")
    a = ask(bot, "which onboarding plan on my team has been running the longest?", "noah.kim@retain.example")
    assert top[0] in a and top[1] not in a
    most = sql(rt, "select a.name from tickets t join accounts a on a.id=t.account_id where a.owner_id=4 and "
                   "t.opened_at >= '2026-09-01' and t.opened_at < '2026-10-01' group by a.name order by count(*) desc")
    assert most[0] in ask(bot, "who filed the most tickets in September?", DANA)


def test_statuses_come_from_the_crm_and_read_the_same_in_a_question_and_an_edit(rt):
    bot = Assistant(rt, use_memory=False)
    want = sql(rt, "select m.name from milestones m join onboarding_plans p on p.id=m.plan_id join accounts a on "
                   f"a.id=p.account_id where a.owner_id=7 and {LIVE} and m.status='in_progress'")
    a = ask(bot, "milestones in progress right now", SAM)
    assert "in_progress" in a.splitlines()[0] and all(n in a for n in want) and "status pending" not in a
    vocab = vocabulary(rt.store)
    today = rt.settings.as_of()
    for phrase, entity in [("the onboarding plans that are running", "plans"), ("plans past their target", "plans"),
                           ("completed onboarding plans", "plans"), ("blocked milestones", "milestones"),
                           ("milestones in progress", "milestones"), ("stuck fine-tunes", "fine_tunes"),
                           ("closed tickets", "tickets")]:
        new = portfolio(phrase, today, vocab, "Sam Okafor", [])
        assert new is not None and new.query is not None
        statuses = [f for f in new.query.filters if f.field in ("status", "target_date", "due_date")]
        edited = [f for f in _filters(phrase, entity, today, vocab, "Sam Okafor")[0]
                  if f.field in ("status", "target_date", "due_date")]
        assert statuses and statuses == edited, phrase


def test_records_asked_by_what_they_did_in_a_window(rt):
    bot = Assistant(rt, use_memory=False)
    want = sql(rt, "select a.name from renewal_events r join accounts a on a.id=r.account_id where a.owner_id=6 "
                   "and r.outcome='contracted' and r.renewal_date between '2026-01-01' and '2026-11-23'")
    wrong = sql(rt, "select a.name from renewal_events r join accounts a on a.id=r.account_id where a.owner_id=6 "
                    "and r.outcome='contracted' and r.renewal_date < '2026-01-01'")
    assert shows(ask(bot, "which renewals were downsized in 2026?", PRIYA), want, wrong)
    want = sql(rt, "select distinct a.name from survey_responses r join accounts a on a.id=r.account_id where "
                   f"{LIVE} and r.kind='nps' and r.score <= 6 and r.responded_on between '2026-10-01' and '2026-10-31'")
    wrong = sql(rt, "select distinct a.name from survey_responses r join accounts a on a.id=r.account_id where "
                    f"{LIVE} and r.kind='nps' and r.score <= 6 and r.responded_on between '2026-09-01' and "
                    "'2026-09-30'")
    assert shows(ask(bot, "which accounts left NPS detractor scores in October?", AVERY), want[:25], wrong)
    want = sql(rt, "select a.name from renewal_events r join accounts a on a.id=r.account_id where "
                   "r.outcome='churned' and r.renewal_date between '2025-01-01' and '2025-06-30'")
    assert len(want) > 1 and shows(ask(bot, "who churned in the first half of 2025?", AVERY), want)


def test_two_constraints_at_once_and_a_deadline_no_calendar_resolves(rt):
    bot = Assistant(rt, use_memory=False)
    a = ask(bot, "accounts that haven't been touched in 3 weeks and renew this quarter", MARCUS)
    assert "2026-11-23 to 2026-12-31" in a.splitlines()[0] and "21" in a.splitlines()[0]
    a = ask(bot, "which of my accounts are worth more than 150k and are red?", DANA)
    assert "over $150,000" in a.splitlines()[0] and "red" in a.splitlines()[0]
    small = sql(rt, f"select name from accounts a where owner_id=4 and {LIVE} and arr <= 150000")
    assert small and not any(n in a for n in small)
    a = ask(bot, "accounts renewing before the board meeting", DANA)
    assert "I did not apply \u2018before the board meeting\u2019" in a and "renews" in a.splitlines()[0]


def test_typos_stated_fiscal_years_and_records_named_by_what_happened_to_them(rt):
    bot = Assistant(rt, use_memory=False)
    # Typos in the words CSMs ask with are mended; a month with "next year" is that month.
    a = ask(bot, "whcih acounts have a renewal in Septmber next year", DANA)
    assert "2027-09-01 to 2027-09-30" in a.splitlines()[0]
    assert shows(a, sql(rt, f"select a.name {RENEWING} and a.owner_id=4 and k.renewal_date between '2027-09-01' "
                            "and '2027-09-30'"),
                 sql(rt, f"select a.name {RENEWING} and a.owner_id=4 and k.renewal_date between '2027-01-01' "
                         "and '2027-08-31'"))
    # A fiscal-year start stated in the message outranks the setting (calendar quarters by default).
    a = ask(bot, "our fiscal year starts in February; what renews next fiscal quarter?", DANA)
    assert "2027-02-01 to 2027-04-30" in a.splitlines()[0]
    # "renew last" is the latest renewal dates, and "which 3" is three of them.
    last = sql(rt, f"select a.name {RENEWING} and a.owner_id=4 order by k.renewal_date desc limit 4")
    a = ask(bot, "which 3 accounts renew last?", DANA)
    assert all(n in a for n in last[:3]) and last[3] not in a
    # A verb names its record and its date: resolved tickets, accounts signed, plans kicked off.
    want = sql(rt, "select t.subject from tickets t join accounts a on a.id=t.account_id where a.owner_id=4 and "
                   "t.closed_at >= '2026-11-16' and t.closed_at < '2026-11-23'")
    assert shows(ask(bot, "what got resolved last week?", DANA), want)
    a = ask(bot, "which accounts did we sign most recently?", DANA)
    assert "contract start" in a.splitlines()[0] and "newest first" in a.splitlines()[0]
    want = sql(rt, "select a.name from onboarding_plans p join accounts a on a.id=p.account_id where a.owner_id=7 and "
                   "p.started_on between '2026-10-01' and '2026-10-31'")
    assert shows(ask(bot, "anything kicked off in October?", SAM), want)
    # A wholly past renewal window is the renewal history, not contracts renewing then.
    want = sql(rt, "select a.name from renewal_events r join accounts a on a.id=r.account_id where a.owner_id=4 and "
                   "r.renewal_date between '2026-05-23' and '2026-11-23'")
    a = ask(bot, "my renewals from the past 6 months", DANA)
    assert a.startswith("Renewals") and all(n in a for n in want)


def test_text_bands_teams_open_states_and_a_reference_period_no_calendar_holds(rt):
    bot = Assistant(rt, use_memory=False)
    want = sql(rt, "select t.subject from tickets t join accounts a on a.id=t.account_id where a.owner_id=4 and "
                   "t.status != 'closed' and lower(t.subject) like '%timeout%'")
    wrong = sql(rt, "select t.subject from tickets t join accounts a on a.id=t.account_id where a.owner_id=4 and "
                    "t.status != 'closed' and lower(t.subject) not like '%timeout%'")
    assert shows(ask(bot, "any tickets mentioning timeout?", DANA), want, wrong)
    a = ask(bot, "yellow or red accounts renewing next quarter", DANA)
    assert "yellow or red" in a.splitlines()[0]
    a = ask(bot, "which East accounts are red?", AVERY)
    assert "East team" in a.splitlines()[0]
    assert not any(n in a for n in sql(rt, f"select a.name from accounts a join csms s on s.id=a.owner_id where "
                                           f"s.team='West' and {LIVE}"))
    a = ask(bot, "milestones still open on my accounts", SAM)
    assert "not done" in a.splitlines()[0] and "status done" not in a
    a = ask(bot, "GRR since the pricing change", AVERY)
    assert "I did not apply \u2018since the pricing change\u2019" in a
    a = ask(bot, "how do I reach Taylor Mueller?", DANA)
    assert sql(rt, "select c.email from contacts c join accounts a on a.id=c.account_id where a.owner_id=4 and "
                   "c.name like 'Taylor M%ller'")[0] in a


def test_the_configured_fiscal_year_start_reads_a_first_question_and_its_reading_line_says_so(rt):
    from agents.when import span

    rt.settings = rt.settings.model_copy(update={"fiscal_year_start_month": 2})  # the company's FY starts in Feb
    bot = Assistant(rt, use_memory=False)
    today = rt.settings.as_of()
    fq = span("fiscal q1 2027", today, fiscal_start=2)
    assert fq is not None and (fq.start.month, fq.end.month) == (2, 4)  # Feb to Apr, not Jan to Mar
    dana = f"select a.name {RENEWING} and a.owner_id=4 and k.renewal_date"
    a = ask(bot, "my renewals in fiscal Q1 2027 please", DANA)
    assert f"{fq.start} to {fq.end}" in a.splitlines()[0]
    # FY2027 ends in January 2027, so its Q1 is past: the renewals that happened then, not the calendar Q1.
    done = sql(rt, "select a.name from renewal_events r join accounts a on a.id=r.account_id where a.owner_id=4 "
                   f"and r.renewal_date between '{fq.start}' and '{fq.end}'")
    assert shows(a, done, sql(rt, f"{dana} between '2027-01-01' and '2027-03-31'"))
    # Stated in the message, the start still outranks the setting; calendar words stay calendar.
    a = ask(bot, "our fiscal year starts in March; what renews next fiscal quarter?", DANA)
    nq = span("our fiscal year starts in march: next fiscal quarter", today)
    assert nq is not None and f"{nq.start} to {nq.end}" in a.splitlines()[0]


def test_a_bare_duration_or_a_year_bound_month_edits_the_window_and_a_filing_verb_names_tickets(rt):
    bot = Assistant(rt, use_memory=False)
    dana = f"select a.name {RENEWING} and a.owner_id=4 and k.renewal_date"

    def said(q: str, thread: str, who: str = DANA) -> str:
        return bot.ask(q, who, thread)["answer"]["text"]

    said("which of my accounts renew in the next 30 days?", "d1")
    a = said("ok and if we stretch it to 90 days?", "d1")  # a duration alone re-sizes the window
    assert "2026-11-23 to 2027-02-21" in a.splitlines()[0]
    assert shows(a, sql(rt, f"{dana} between '2026-11-23' and '2027-02-21'"),
                 sql(rt, f"{dana} between '2027-02-22' and '2027-06-30'"))
    said("any enterprise accounts in the yellow?", "a1", AVERY)
    a = said("which of those renew before july next year?", "a1", AVERY)  # before, not in, July 2027
    assert "2026-11-23 to 2027-06-30" in a.splitlines()[0]
    # "filed" names tickets, and "on Friday" said of the past is the Friday just gone.
    a = said("anything filed on friday?", "s1", SAM)
    assert "Tickets" in a.splitlines()[0] and "2026-11-20" in a.splitlines()[0]
    want = sql(rt, "select t.subject from tickets t join accounts a on a.id=t.account_id where a.owner_id = 7 "
                   "and t.opened_at >= '2026-11-20' and t.opened_at < '2026-11-21'")
    assert shows(a, want)
