"""One record asked about in its own words (issue 36): a picked row's text, one activity by its day, fine-tune jobs.

"How are their fine-tunes going?" lists every job of the account (status, date, eval score), not a health card;
"why did the October one fail?" then answers from that job's fields and its settings beside the run before it.
A row picked from a list by a word of its text ("the layoffs one") is that row; an account picked from a list
of accounts with open tickets, asked "what's the issue there?", is answered with those tickets' own words.
"what did X say on the 10-25 meeting" quotes the activity logged that day; none that day says so and gives the
nearest ones.
"""

import json

from sqlalchemy import text

from agents.assistant import Assistant

DIEGO = "diego.alvarez@retain.example"
DANA = "dana.reyes@retain.example"
LENA = "lena.fischer@retain.example"
MARCUS = "marcus.chen@retain.example"


def _sql(rt, q: str, **kw) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q), kw)]


def _run(rt, q: str, **kw) -> None:
    with rt.store.session() as s:
        s.execute(text(q), kw)
        s.commit()


def _asks(bot: Assistant, who: str, thread: str, *asks: str) -> list[dict]:
    return [bot.ask(a, who, thread)["answer"] for a in asks]


def _acct(name: str) -> str:
    return f"(select id from accounts where name = '{name}')"


def test_an_accounts_fine_tunes_are_all_listed_and_a_failed_one_picked_by_month_says_why(rt):
    jobs = _sql(rt, f"select id, created_on from fine_tune_jobs where account_id = {_acct('Westbrook Legal')} "
                    "order by created_on")
    assert len(jobs) == 2
    failed = jobs[-1][0]
    _run(rt, "update fine_tune_jobs set status = 'failed', eval_score = null, loss_final = null, "
             "loss_summary = 'loss 2.3 -> 1.6 at step 90, spiked to 11 by step 240, NaN at step 260', "
             "hyperparameters = :hp where id = :id",
         hp=json.dumps({"learning_rate": 0.0003, "warmup_steps": 0, "epochs": 3, "batch_size": 16}), id=failed)
    ok_day, bad_day = (str(d)[:10] for _, d in jobs)
    ok_score = _sql(rt, "select eval_score from fine_tune_jobs where id = :id", id=jobs[0][0])[0][0]
    bot = Assistant(rt, use_memory=False)
    _, listed, why = _asks(bot, DIEGO, "ft-list", "how's westbrook legal doing?", "how are their fine-tunes going?",
                           "why did the october one fail")
    assert ok_day in listed["text"] and bad_day in listed["text"] and "failed" in listed["text"], listed["text"]
    assert f"{ok_score:.3f}" in listed["text"] and "Health" not in listed["text"], listed["text"]
    assert bad_day in why["text"] and "NaN at step 260" in why["text"], why["text"]
    assert "0.0003" in why["text"] and "30x" in why["text"] and "warmup steps 100 -> 0" in why["text"], why["text"]
    assert ok_day not in why["text"].split("Compared")[0] and "Picked from the last answer" in why["reading"]
    r = bot.ask("any fine-tune jobs at westbrook legal since september", DIEGO, "ft-window")["answer"]
    assert bad_day in r["text"] and ok_day not in r["text"] and "2026-09-01" in r["reading"], (r["reading"], r["text"])


def test_a_row_picked_by_a_word_of_its_own_text_is_that_row_and_its_text_is_the_answer(rt):
    bot = Assistant(rt, use_memory=False)
    (kind, day, author), = _sql(rt, "select x.kind, x.occurred_on, x.author from activities x where x.account_id = "
                                    f"{_acct('Redwood Capital')} and x.body like '%Nikhil%' and "
                                    "x.occurred_on >= '2026-10-01'")
    listed, picked = _asks(bot, DANA, "word-pick", "what did we log with redwood capital since october",
                           "the one about nikhil - when was it logged and by whom?")
    assert str(day)[:10] in listed["text"] and listed["text"].count("Redwood Capital:") >= 2, listed["text"]
    assert "Picked from the last answer" in picked["reading"] and str(day)[:10] in picked["reading"], picked["reading"]
    assert author in picked["text"] and "has left Redwood Capital" in picked["text"], picked["text"]
    assert "email" not in picked["reading"].split("Picked from the last answer")[1].split(".")[0].lower()


def test_two_rows_of_the_account_named_are_asked_about_never_answered_with_its_health(rt):
    bot = Assistant(rt, use_memory=False)
    _, which = _asks(bot, LENA, "two-rows", "survey responses since september",
                     "and the harbor foods one, what did it say?")
    assert which["mode"] == "clarify" and "Harbor Foods" in which["text"], which
    assert "Health" not in which["text"]


def test_an_account_picked_from_accounts_with_open_tickets_is_answered_with_those_tickets_words(rt):
    bot = Assistant(rt, use_memory=False)
    (subject, body), = _sql(rt, "select subject, body from tickets where status != 'closed' and priority in "
                                f"('high', 'urgent') and account_id = {_acct('Kestrel Foods')}")
    listed, told = _asks(bot, DANA, "acct-tickets", "which of my accounts have open high priority tickets",
                         "ok the kestrel foods one - whats the issue there")
    assert "Kestrel Foods" in listed["text"]
    assert subject in told["text"] and body[:50] in told["text"] and "Health" not in told["text"], told["text"]
    assert "Picked from the last answer: Kestrel Foods" in told["reading"], told["reading"]
    bot.ask("which of my accounts have open tickets", LENA, "acct-tickets-2")
    (subject2, body2), = _sql(rt, "select subject, body from tickets where status != 'closed' and account_id = "
                                  f"{_acct('Granite Clinics')}")
    more = bot.ask("the granite clinics one: what's it about?", LENA, "acct-tickets-2")["answer"]
    assert subject2 in more["text"] and body2[:50] in more["text"], more["text"]


def _body(rt, account: str, kind: str, day: str) -> str:
    return _sql(rt, f"select body from activities where account_id = {_acct(account)} and kind = :k and "
                    "occurred_on = :d", k=kind, d=day)[0][0]


def test_one_activity_asked_by_its_day_and_kind_is_quoted_from_that_day(rt):
    bot = Assistant(rt, use_memory=False)
    wanted, other = _body(rt, "Sequoia Insurance", "call", "2026-10-23"), _body(rt, "Sequoia Insurance", "call",
                                                                                "2026-10-19")
    assert wanted != other
    _, came = _asks(bot, DANA, "one-day", "how's sequoia insurance looking",
                    "what came out of the oct 23 call with them")
    assert wanted in came["text"] and other not in came["text"], came["text"]
    assert "2026-10-23" in came["reading"] and "call" in came["reading"] and not came["not_applied"], came
    friday = bot.ask("what did we talk about on friday's call with lumen learning?", LENA, "weekday")["answer"]
    assert "2026-11-20" in friday["text"] and "2026-11-19" not in friday["text"], friday["text"]
    assert _body(rt, "Lumen Learning", "call", "2026-11-20") in friday["text"]


def test_a_person_named_picks_the_record_of_the_day_that_carries_their_words(rt):
    bot = Assistant(rt, use_memory=False)
    listed, said = _asks(bot, DANA, "person", "what's been logged with bluebird freight since november 1",
                         "summarise the 11-13 call")
    assert _body(rt, "Bluebird Freight", "call", "2026-11-13") in said["text"] and "2026-11-13" in said["reading"]
    assert "2026-11-06" not in said["text"], said["text"]
    r = bot.ask("what did sofia say in the 11/19 meeting at northstar media", "priya.patel@retain.example",
                "sofia")["answer"]
    assert _body(rt, "Northstar Media", "meeting", "2026-11-19") in r["text"], r["text"]
    assert _body(rt, "Northstar Media", "note", "2026-11-19") not in r["text"], r["text"]


def test_a_day_with_no_such_activity_says_so_and_quotes_the_nearest_ones(rt):
    bot = Assistant(rt, use_memory=False)
    r = bot.ask("recap the 10/21 call with sequoia insurance", DANA, "none-that-day")["answer"]
    assert "No call logged with Sequoia Insurance on 2026-10-21" in r["text"], r["text"]
    for day in ("2026-10-19", "2026-10-23"):
        assert day in r["text"] and _body(rt, "Sequoia Insurance", "call", day) in r["text"], r["text"]
    assert "2026-06-19" not in r["text"] and "Health" not in r["text"]
    who = bot.ask("who wrote the first one?", DANA, "none-that-day")["answer"]
    assert "Dana Reyes" in who["text"] and "Picked from the last answer" in who["reading"], who
