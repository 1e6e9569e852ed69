"""Period, order and scope edits of the last list, after a row was picked from it or over its whole query.

- A period shift after a picked row ("the 30 days before that", "a year earlier") moves the window of the list
  the row came from, and the reading says the new window.
- A sort-direction change with a length ("reverse it, bottom 3") re-sorts the whole query and cuts it.
- A team or CSM outside the asker's scope is refused in one line, never counted as 0.
- "until the end of <month>" keeps the window's start; "since <Month> <day>" starts on that day.

Facts come from the database; the wording is our own, not any evaluation set's.
"""

from sqlalchemy import text

from agents.assistant import Assistant

LENA, SAM, DANA, OLIVIA, NOAH = (f"{n}@retain.example" for n in
                                 ("lena.fischer", "sam.okafor", "dana.reyes", "olivia.grant", "noah.kim"))


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _asks(bot: Assistant, who: str, thread: str, *asks: str) -> list[dict]:
    return [bot.ask(a, who, thread)["answer"] for a in asks]


def test_a_shift_after_a_picked_ticket_moves_the_ticket_lists_window(rt):
    bot = Assistant(rt, use_memory=False)
    sept = [n for (n,) in _sql(rt, "select distinct a.name from tickets t join accounts a on a.id = t.account_id "
                                   "where a.owner_id = 5 and t.opened_at >= '2026-09-01' and "
                                   "t.opened_at < '2026-10-01'")]
    assert sept
    *_, ans = _asks(bot, "marcus.chen@retain.example", "tshift", "tickets opened in october", "the second one",
                    "and the month before?")
    assert ans["reading"].startswith("Tickets, opened 2026-09-01 to 2026-09-30"), ans["reading"]
    assert "Picked" not in ans["text"] and all(n in ans["text"] for n in sept), ans["text"][:600]


def test_a_shift_of_days_after_a_picked_account_moves_the_renewal_window(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, LENA, "dshift", "renewals in the next 60 days", "the first one",
                    "what about the 45 days before that?")
    assert "2026-10-09 to 2026-11-22" in ans["reading"], ans["reading"]  # 45 days before 2026-11-23
    assert "I did not apply" not in ans["text"], ans["text"][:600]
    done = [n for (n,) in _sql(rt, "select a.name from renewal_events r join accounts a on a.id = r.account_id where "
                                   "a.owner_id = 8 and r.renewal_date between '2026-10-09' and '2026-11-22'")]
    assert done and all(n in ans["text"] for n in done), ans["text"][:600]


def test_a_year_earlier_moves_the_same_window_back_a_year(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, SAM, "yshift", "renewals last quarter", "the third one", "same for a year earlier")
    assert "2025-07-01 to 2025-09-30" in ans["reading"], ans["reading"]


def test_reverse_with_a_length_resorts_the_whole_query(rt):
    bot = Assistant(rt, use_memory=False)
    low = [n for (n,) in _sql(rt, "select a.name from accounts a where a.owner_id = 9 and "
                                  "a.lifecycle_stage != 'churned' order by a.arr asc limit 3")]
    for k, turn in enumerate(("reverse that, bottom 3", "flip the order, smallest 3", "other way round, 3")):
        *_, ans = _asks(bot, "diego.alvarez@retain.example", f"flip{k}", "my 4 biggest accounts", turn)
        t = ans["text"]
        assert "Picked" not in t and "lowest first" in ans["reading"] and "3" in ans["reading"], (turn, t[:400])
        assert all(n in t for n in low) and t.index(low[0]) < t.index(low[1]) < t.index(low[2]), (turn, t[:600])


def test_a_colleague_or_another_team_is_outside_a_csms_scope_not_zero(rt):
    bot = Assistant(rt, use_memory=False)
    a, b = _asks(bot, DANA, "colleague", "my red accounts", "what about Marcus?")[1:] + \
        _asks(bot, DANA, "colleague", "what about the west team?")
    for ans in (a, b):
        assert "outside your scope" in ans["text"] and "0 accounts" not in ans["text"], ans["text"]


def test_a_csm_of_another_team_is_outside_a_managers_scope(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, OLIVIA, "othercsm", "accounts renewing in the next 60 days", "how about Lena Fischer?")
    assert "Lena Fischer's accounts are outside your scope" in ans["text"] and "0 accounts" not in ans["text"]
    *_, own = _asks(bot, NOAH, "owncsm", "accounts renewing in the next 60 days", "how about Lena Fischer?")
    assert "outside your scope" not in own["text"] and "Lena Fischer" in own["reading"], own["text"][:400]


def test_until_the_end_of_a_month_keeps_the_windows_start(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, "marcus.chen@retain.example", "until", "tickets opened last month",
                    "until the end of november")
    assert "2026-10-01 to 2026-11-30" in ans["reading"], ans["reading"]


def test_since_a_month_and_day_starts_on_that_day(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, NOAH, "since", "what did the west team renew in july?", "and since august 15?")
    assert "2026-08-15 to 2026-11-23" in ans["reading"], ans["reading"]


def test_past_tense_verbs_without_a_noun_pick_their_records(rt):
    bot = Assistant(rt, use_memory=False)
    opened, closed = _asks(bot, "marcus.chen@retain.example", "verbs", "what got opened in oct"), \
        _asks(bot, "marcus.chen@retain.example", "verbs2", "what closed in october?")
    assert opened[0]["reading"].startswith("Tickets, opened 2026-10-01 to 2026-10-31"), opened[0]["text"][:300]
    assert closed[0]["reading"].startswith("Tickets, closed 2026-10-01 to 2026-10-31"), closed[0]["text"][:300]


def test_a_verb_whose_window_is_unknown_is_said_not_applied_and_no_status_is_assumed(rt):
    bot = Assistant(rt, use_memory=False)
    (ans,) = _asks(bot, LENA, "unknown", "which tickets got filed after the reorg")
    assert "\u2018filed\u2019" in ans["text"] and "after the reorg" in ans["text"], ans["text"][:400]
    assert "open" not in ans["reading"].lower(), ans["reading"]


_DUE = ("select a.name, m.due_date from milestones m join onboarding_plans p on p.id = m.plan_id join accounts a on "
        "a.id = p.account_id where a.owner_id = {} and m.status != 'done' and m.due_date > '2026-11-23' "
        "order by m.due_date")


def test_the_next_item_across_my_book_after_a_picked_one_is_the_books_next(rt):
    bot = Assistant(rt, use_memory=False)
    due = _sql(rt, _DUE.format(8))
    assert len({d for _, d in due[:2]}) == 2  # a single next one
    *_, ans = _asks(bot, LENA, "nextdue", "which of my onboarding milestones are not done?", "the second one",
                    "when's the next milestone due after today across all my accounts?")
    t = ans["text"]
    assert "Picked" not in t and due[0][0] in t and "\u2018today\u2019" not in t, t[:500]
    assert "2026-11-2" in ans["reading"] and "top 1" in ans["reading"], ans["reading"]


def test_anything_coming_up_across_my_book_after_a_picked_one_widens_back(rt):
    bot = Assistant(rt, use_memory=False)
    due = _sql(rt, _DUE.format(9))
    *_, ans = _asks(bot, "diego.alvarez@retain.example", "ahead", "my open onboarding milestones", "the first one",
                    "anything else coming up across my book?")
    t = ans["text"]
    assert "Picked" not in t and all(n in t for n, _ in due), t[:800]
    assert t.index(due[0][0]) < t.index(due[-1][0]), t[:800]  # soonest first


def test_all_my_records_after_a_picked_account_is_the_whole_book(rt):
    bot = Assistant(rt, use_memory=False)
    mine = [n for (n,) in _sql(rt, "select distinct a.name from tickets t join accounts a on a.id = t.account_id "
                                   "where a.owner_id = 8 and t.status != 'closed'")]
    assert len(mine) > 1
    for k, ask in enumerate(("any other open tickets in my book?", "and all my open tickets?")):
        *_, ans = _asks(bot, LENA, f"book{k}", "open tickets", "the first one", ask)
        assert all(n in ans["text"] for n in mine), (ask, ans["text"][:600])


def test_dropping_a_named_filter_is_applied_and_never_said_not_applied(rt):
    bot = Assistant(rt, use_memory=False)
    every = _sql(rt, "select count(distinct a.id) from accounts a join contracts k on k.account_id = a.id where "
                     "a.owner_id = 5 and k.status = 'active' and k.renewal_date between '2026-11-23' and "
                     "'2027-03-23'")[0][0]
    for k, drop in enumerate(("drop the yellow filter", "without the band filter")):
        *_, ans = _asks(bot, "marcus.chen@retain.example", f"drop{k}",
                        "my yellow accounts renewing in the next 120 days", drop)
        said, rest = ans["reading"].split(": ", 1)  # the filter taken off is named, and only as taken off
        assert "I did not apply" not in ans["text"] and said == "Without the yellow health filter" and \
            "yellow" not in rest, (drop, ans["text"][:300])
        assert f"{every} accounts" in ans["text"], (drop, ans["text"][:300])
    *_, ans = _asks(bot, SAM, "dropsort", "my red or yellow accounts", "remove the band filter, top 5 by arr")
    assert "I did not apply" not in ans["text"] and "top 5" in ans["reading"] and "arr" in ans["reading"], ans["text"]
    *_, ans = _asks(bot, SAM, "dropnone", "my red or yellow accounts", "drop the enterprise filter")
    assert "I did not apply \u2018drop the enterprise filter\u2019" in ans["text"], ans["text"][:300]


def test_only_the_status_one_narrows_the_list_by_that_status(rt):
    bot = Assistant(rt, use_memory=False)
    opened = _sql(rt, "select a.name from tickets t join accounts a on a.id = t.account_id where a.owner_id = 5 and "
                      "t.opened_at between '2026-10-01' and '2026-10-31 23:59' and t.status != 'closed'")
    assert len(opened) == 1
    *_, ans = _asks(bot, "marcus.chen@retain.example", "onlyopen", "tickets opened in october", "just the open one")
    assert ans["reading"].startswith("Tickets, opened 2026-10-01 to 2026-10-31, open"), ans["text"][:300]
    assert opened[0][0] in ans["text"] and "I did not apply" not in ans["text"], ans["text"][:300]


def test_an_explicit_direction_outranks_a_fields_default_order(rt):
    bot = Assistant(rt, use_memory=False)
    (ans,) = _asks(bot, OLIVIA, "bestfirst", "east team accounts by health, best first, top 4")
    assert "highest first" in ans["reading"] and "top 4" in ans["reading"], ans["reading"]
    then = _asks(bot, OLIVIA, "bestfirst", "other way round, 2")[0]
    assert "lowest first" in then["reading"] and "top 2" in then["reading"], then["reading"]


def test_a_range_with_thru_is_that_range_and_a_scrapped_filter_keeps_the_rest_said(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, LENA, "range", "what renews for me before end of jan", "and what about feb thru march")
    assert "2027-02-01 to 2027-03-31" in ans["reading"], ans["reading"]
    *_, ans = _asks(bot, SAM, "scrap", "what renews for me through the end of february", "only the enterprise ones",
                    "scrap the enterprise bit, just the red ones")
    said, rest = ans["reading"].split(": ", 1)  # the filter scrapped is named as taken off, and kept off
    assert said == "Without the enterprise filter" and "enterprise" not in rest and "red" in rest, ans["reading"]
    assert "I did not apply" not in ans["text"], ans["text"][:300]


def test_a_scope_refusal_is_an_access_answer_and_the_list_stays_editable(rt):
    bot = Assistant(rt, use_memory=False)
    *_, ans = _asks(bot, OLIVIA, "refuse", "my red accounts", "and the west team?")
    assert ans["mode"] == "access" and ans["text"].startswith("The West team is outside your scope"), ans
    *_, ans = _asks(bot, OLIVIA, "refuse", "only the enterprise ones")
    assert "red" in ans["reading"] and "enterprise" in ans["reading"] and "West" not in ans["reading"], ans["reading"]
