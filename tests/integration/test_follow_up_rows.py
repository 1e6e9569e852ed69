"""Follow-ups about a selected row or person (issue 36), each checked against the database.

"When did they last raise a ticket?" is the newest ticket by the date its verb names, of any status; after a
contact, a field of that person ("and her title?", "is she still there?") is that field, and a contact who left
is said to have left; "what's open on their side?", "their renewal?", "who do we still have there?" and "when
did we last touch them?" ask about the contact's account; a word only one record carries ("the NaN one")
picks that record even when the last answer listed its account.
"""

from sqlalchemy import text

from agents.assistant import Assistant

SAM = "sam.okafor@retain.example"
LENA = "lena.fischer@retain.example"
DIEGO = "diego.alvarez@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _one(rt, q: str):
    return _sql(rt, q)[0][0]


def _day(v) -> str:
    return str(v)[:10]


def _asks(bot: Assistant, who: str, thread: str, *asks: str) -> list[dict]:
    return [bot.ask(a, who, thread)["answer"] for a in asks]


def _acct(name: str) -> str:
    return f"(select id from accounts where name = '{name}')"


def test_when_they_last_raised_a_record_is_the_newest_by_that_verbs_date_of_any_status(rt):
    bot = Assistant(rt, use_memory=False)
    opened = _day(_one(rt, f"select max(opened_at) from tickets where account_id = {_acct('Vertex Bank')}"))
    closed = _day(_one(rt, f"select max(closed_at) from tickets where account_id = {_acct('Vertex Bank')}"))
    assert opened != closed and not _one(rt, f"select count(*) from tickets where account_id = {_acct('Vertex Bank')}"
                                             " and status != 'closed'")  # none open: "0 open" would be no answer
    _, raised, shut = _asks(bot, DIEGO, "last-raised", "how's vertex bank doing?", "when did they last raise a ticket?",
                            "and when was their last ticket closed?")
    assert opened in raised["text"] and "any status" in raised["reading"] and "0 open" not in raised["text"], \
        raised["text"]
    assert closed in shut["text"] and "closed" in shut["reading"], shut["text"]
    call = _day(_one(rt, f"select max(occurred_on) from activities where kind = 'call' and "
                         f"account_id = {_acct('Nimbus Airlines')}"))
    later = _day(_one(rt, f"select max(occurred_on) from activities where account_id = {_acct('Nimbus Airlines')}"))
    assert call != later  # the newest activity is not a call: the kind asked is kept
    logged = bot.ask("when was the last time we logged a call with nimbus airlines?", LENA, "last-call")["answer"]
    assert call in logged["text"] and later not in logged["text"], logged["text"]


def test_a_field_of_the_contact_just_shown_is_that_field_not_the_last_answer_again(rt):
    bot = Assistant(rt, use_memory=False)
    role, email = _sql(rt, f"select role, email from contacts where is_champion and left_on is null and "
                           f"account_id = {_acct('Cedar Security')}")[0]
    first, title, mail = _asks(bot, LENA, "title", "who's the champ at cedar security", "and her title?",
                               "what about her email")
    assert "title" in title["reading"] and f"title: {role}" in title["text"] and title["text"] != first["text"], \
        title["text"]
    assert "email" in mail["reading"] and email in mail["text"] and f"title: {role}" not in mail["text"], mail["text"]


def test_two_parts_about_a_contact_are_both_that_persons(rt):
    bot = Assistant(rt, use_memory=False)
    name, email, seen = _sql(rt, f"select name, email, last_engaged from contacts where role = 'IT Admin' and "
                                 f"left_on is null and account_id = {_acct('Highland Cloud')}")[0]
    touch = _day(_one(rt, f"select max(occurred_on) from activities where account_id = {_acct('Highland Cloud')}"))
    assert _day(seen) != touch
    r = _asks(bot, SAM, "two-parts", "who's the IT admin at highland cloud?",
              "her email + when did we last talk to her?")[-1]
    assert email in r["text"] and _day(seen) in r["text"] and touch not in r["text"], r["text"]
    assert name in r["reading"]


def test_the_accounts_records_after_a_contact_are_the_accounts_not_the_contact_row(rt):
    bot = Assistant(rt, use_memory=False)
    opened = [s for (s,) in _sql(rt, f"select subject from tickets where status != 'closed' and "
                                     f"account_id = {_acct('Silverline Works')}")]
    renews = _day(_one(rt, f"select renewal_date from contracts where status = 'active' and "
                           f"account_id = {_acct('Silverline Works')}"))
    assert opened
    _, side, renewal = _asks(bot, SAM, "their-side", "who's the champion at silverline works",
                             "and what's open on their side?", "their renewal?")
    assert all(s in side["text"] for s in opened) and "ickets" in side["reading"], side["text"]
    assert renews in renewal["text"] and "Silverline Works" in renewal["reading"], renewal["text"]


def test_who_we_still_have_at_an_account_lists_its_current_contacts_not_the_row(rt):
    bot = Assistant(rt, use_memory=False)
    here = [n for (n,) in _sql(rt, f"select name from contacts where left_on is null and "
                                   f"account_id = {_acct('Vertex Bank')}")]
    gone = _one(rt, f"select name from contacts where left_on is not null and is_champion and "
                    f"account_id = {_acct('Vertex Bank')}")
    r = _asks(bot, DIEGO, "still-have", "which of my champions have left?", "who do we still have at vertex bank")[-1]
    assert here and all(n in r["text"] for n in here), r["text"]
    assert all("Left the company" in line for line in r["text"].splitlines()[1:] if gone in line), r["text"]
    assert "Contacts of Vertex Bank" in r["reading"]


def test_touching_them_after_a_contact_is_the_accounts_last_activity_her_is_the_persons(rt):
    bot = Assistant(rt, use_memory=False)
    seen = _day(_one(rt, f"select last_engaged from contacts where is_champion and account_id = "
                         f"{_acct('Ember Telecom')}"))
    touch = _day(_one(rt, f"select max(occurred_on) from activities where account_id = {_acct('Ember Telecom')}"))
    assert seen != touch
    _, them, her = _asks(bot, LENA, "touch", "who's the champ at ember telecom", "when did we last touch them?",
                         "and when did we last hear from her?")
    assert touch in them["text"] and seen not in them["text"], them["text"]
    assert seen in her["text"] and touch not in her["text"], her["text"]
    heard = _asks(bot, LENA, "heard", "who's the champ at ember telecom", "when did we last hear from them?")[-1]
    assert seen in heard["text"] and touch not in heard["text"], heard["text"]  # hearing from someone: the person


def test_a_word_only_one_record_carries_picks_that_record_even_after_a_list_of_accounts(rt):
    bot = Assistant(rt, use_memory=False)
    subject, opened = _sql(rt, "select subject, opened_at from tickets where subject like '%NaN%' and account_id in "
                               "(select id from accounts where owner_id = 7)")[0]
    first, r = _asks(bot, SAM, "word", "which of my accounts have open high priority tickets?",
                     "the NaN one - when was it opened?")
    assert subject not in first["text"]  # the list named accounts, not the ticket
    assert subject in r["text"] and _day(opened) in r["text"] and "nan one" in r["reading"].lower(), r["text"]
    assert not r.get("not_applied"), r["not_applied"]


def test_a_champion_who_left_is_said_to_have_left_in_follow_ups(rt):
    bot = Assistant(rt, use_memory=False)
    name, email, left = _sql(rt, f"select name, email, left_on from contacts where is_champion and "
                                 f"account_id = {_acct('Harbor Cloud')}")[0]
    assert left
    _, mail, still = _asks(bot, DIEGO, "left", "who's the champion at harbor cloud?", "what's her email?",
                           "is she still our champion?")
    for r in (mail, still):
        assert f"left Harbor Cloud on {_day(left)}" in r["text"], r["text"]
        assert "is Harbor Cloud's champion" not in r["text"]
    assert email in mail["text"] and name in mail["reading"]


def test_a_day_two_rows_share_is_asked_about_never_settled_by_a_word_of_the_question(rt):
    bot = Assistant(rt, use_memory=False)
    same_day = [n for (n,) in _sql(rt, "select a.name from tickets t join accounts a on a.id = t.account_id where "
                                       "a.owner_id = 5 and date(t.opened_at) = '2026-10-19'")]
    assert len(same_day) == 2
    r = _asks(bot, "marcus.chen@retain.example", "day-tie", "tickets raised on my accounts in october",
              "the one from the 19th - is it still open?")[-1]
    assert all(n in r["text"] for n in same_day) and "which one" in r["text"] and "Record of" not in r["text"], \
        r["text"]


def test_a_place_in_the_list_is_a_row_not_a_word_to_find_in_records(rt):
    bot = Assistant(rt, use_memory=False)
    second, renews = _sql(rt, "select a.name, k.renewal_date from accounts a join contracts k on k.account_id = a.id "
                              "and k.status = 'active' where a.owner_id = 7 and a.lifecycle_stage != 'churned' "
                              "order by a.arr desc limit 1 offset 1")[0]
    r = _asks(bot, SAM, "place", "my 3 biggest accounts by arr", "when does the 2nd one renew?")[-1]
    assert second in r["reading"] and _day(renews) in r["text"], r["text"]
