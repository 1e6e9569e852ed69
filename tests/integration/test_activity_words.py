"""Notes, calls, meetings and emails are activities, each word its kind; what was logged with an account in a window
is its activities of that window; after the last one, "what was said?" is that one's text (issue 36).

Each checked against the seeded demo's database (today 2026-11-23) through the real Assistant.
"""

from sqlalchemy import text

from agents.assistant import Assistant

OLIVIA = "olivia.grant@retain.example"
PRIYA = "priya.patel@retain.example"
SAM = "sam.okafor@retain.example"
MARCUS = "marcus.chen@retain.example"
LENA = "lena.fischer@retain.example"


def _sql(rt, q: str) -> list[tuple]:
    with rt.store.session() as s:
        return [tuple(r) for r in s.execute(text(q))]


def _day(v) -> str:
    return str(v)[:10]


def _asks(bot: Assistant, who: str, thread: str, *asks: str) -> list[dict]:
    return [bot.ask(a, who, thread)["answer"] for a in asks]


def _logged(rt, where: str) -> list[tuple[str, str]]:
    return [(n, _day(d)) for n, d in _sql(rt, "select a.name, x.occurred_on from activities x join accounts a on "
                                              f"a.id = x.account_id join csms o on o.id = a.owner_id where {where} "
                                              "order by x.occurred_on desc")]


def test_call_notes_meeting_notes_and_emails_are_activities_of_that_kind_never_tickets(rt):
    bot = Assistant(rt, use_memory=False)
    calls = _logged(rt, "o.team = 'East' and x.kind = 'call' and x.occurred_on between '2026-11-16' and '2026-11-22'")
    west = _logged(rt, "o.team = 'West' and x.kind = 'call' and x.occurred_on between '2026-11-16' and '2026-11-22'")
    notes = _logged(rt, "o.team = 'East' and x.kind = 'note' and x.occurred_on between '2026-11-16' and '2026-11-22'")
    assert calls and west and {n for n, _ in notes} - {n for n, _ in calls}
    (a,) = _asks(bot, OLIVIA, "calls", "were any call notes logged for the east team last week?")
    assert a["reading"].startswith("Calls logged 2026-11-16 to 2026-11-22"), a["reading"]
    assert all(n in a["text"] and d in a["text"] for n, d in calls), a["text"]
    assert not any(n in a["text"] for n, _ in west + notes if n not in {c for c, _ in calls}), a["text"]
    assert "ticket" not in a["reading"].lower() and "priority" not in a["text"]
    his = _logged(rt, "o.email = 'marcus.chen@retain.example' and x.kind = 'call' and "
                      "x.occurred_on between '2026-11-16' and '2026-11-22'")
    assert len(his) == 1 and len(calls) > 1  # one of the rows is his: "just his" is still a filter, not a pick
    (just,) = _asks(bot, OLIVIA, "calls", "just marcus's")
    assert "owned by Marcus Chen" in just["reading"] and "Picked" not in just["reading"], just["reading"]
    assert his[0][0] in just["text"] and not any(n in just["text"] for n, _ in calls if n != his[0][0]), just["text"]
    mails = _logged(rt, "o.email = 'priya.patel@retain.example' and x.kind = 'email' and x.occurred_on >= '2026-11-13'")
    assert mails
    (b,) = _asks(bot, PRIYA, "mails", "which emails did we log on my accounts in the past 10 days")
    assert b["reading"].startswith("Emails logged 2026-11-13 to 2026-11-23"), b["reading"]
    assert all(n in b["text"] and d in b["text"] for n, d in mails) and "priority" not in b["text"], b["text"]
    meets = _logged(rt, "o.email = 'sam.okafor@retain.example' and x.kind = 'meeting' and "
                        "x.occurred_on between '2026-11-16' and '2026-11-22'")
    assert meets
    (c,) = _asks(bot, SAM, "minutes", "meeting notes from last week?")
    assert c["reading"].startswith("Meetings logged 2026-11-16 to 2026-11-22"), c["reading"]
    assert all(n in c["text"] and d in c["text"] for n, d in meets), c["text"]


def test_what_was_logged_with_an_account_lists_its_activities_of_the_window_newest_first(rt):
    bot = Assistant(rt, use_memory=False)
    rows = _logged(rt, "a.name = 'Cyberdyne Systems' and x.occurred_on >= '2026-10-12'")
    older = _logged(rt, "a.name = 'Cyberdyne Systems' and x.occurred_on < '2026-10-12'")
    assert len(rows) >= 2 and older
    (a,) = _asks(bot, MARCUS, "cyber", "anything logged with cyberdyne in the last 6 weeks")
    assert "Cyberdyne Systems 2026-10-12 to 2026-11-23" in a["reading"], a["reading"]
    places = [a["text"].index(d) for _, d in rows]
    assert places == sorted(places), a["text"]  # newest first
    assert not any(d in a["text"] for _, d in older), a["text"]
    since = _logged(rt, "a.name = 'Vandelay Industries' and x.occurred_on >= '2026-10-01'")
    before = _logged(rt, "a.name = 'Vandelay Industries' and x.occurred_on < '2026-10-01'")
    assert since and before
    (b,) = _asks(bot, LENA, "vandelay", "what's been logged with vandelay industries since october?")
    assert "2026-10-01 to 2026-11-23" in b["reading"], b["reading"]
    assert all(d in b["text"] for _, d in since) and not any(d in b["text"] for _, d in before), b["text"]
    month = _logged(rt, "a.name = 'Umbrella Corp' and x.occurred_on >= '2026-10-24'")
    assert month
    (c,) = _asks(bot, SAM, "umbrella", "what did we log on umbrella corp recently")
    assert "2026-10-24 to 2026-11-23" in c["reading"], c["reading"]  # "recently", said as its dates
    assert all(d in c["text"] for _, d in month), c["text"]


def test_after_the_last_activity_what_was_said_is_that_activitys_own_text(rt):
    bot = Assistant(rt, use_memory=False)
    (last, older), = [_sql(rt, "select x.body from activities x join accounts a on a.id = x.account_id where "
                               "a.name = 'Glacier Robotics' order by x.occurred_on desc limit 2")]
    touch, said = _asks(bot, SAM, "glacier", "last touch with glacier robotics?", "what was said?")
    assert last[0][:40] in said["text"] and older[0][:40] not in said["text"], said["text"]
    note = _sql(rt, "select x.occurred_on, x.body from activities x join accounts a on a.id = x.account_id where "
                    "a.name = 'Vandelay Industries' and x.kind = 'note' order by x.occurred_on desc limit 1")[0]
    newest = _sql(rt, "select x.kind, x.occurred_on from activities x join accounts a on a.id = x.account_id where "
                      "a.name = 'Vandelay Industries' order by x.occurred_on desc limit 1")[0]
    assert newest[0] != "note"
    first, about = _asks(bot, LENA, "vnote", "latest note on vandelay industries?", "what was it about?")
    assert "last note" in first["reading"] and _day(note[0]) in first["text"], first["text"]
    assert f"{newest[0]} on {_day(newest[1])}" in first["text"], first["text"]  # the newer one of another kind, said
    assert note[1][:40] in about["text"], about["text"]
    met = _sql(rt, "select x.occurred_on, x.body from activities x join accounts a on a.id = x.account_id where "
                   "a.name = 'Northstar Media' and x.kind = 'meeting' order by x.occurred_on desc limit 1")[0]
    when, came = _asks(bot, PRIYA, "met", "when did we last meet with northstar media", "what came up?")
    assert "last meeting" in when["reading"] and _day(met[0]) in when["text"], when["text"]
    assert met[1][:40] in came["text"], came["text"]


def test_bare_notes_are_the_notes_the_other_kinds_are_counted_and_all_kinds_widens_the_same_window(rt):
    bot = Assistant(rt, use_memory=False)
    where = "o.email = 'priya.patel@retain.example' and x.occurred_on between '2026-11-09' and '2026-11-23'"
    per = dict(_sql(rt, "select x.kind, count(*) from activities x join accounts a on a.id = x.account_id join csms o "
                        f"on o.id = a.owner_id where {where} group by x.kind"))
    assert per.get("note") and sum(per.values()) > per["note"]
    notes, every = _asks(bot, PRIYA, "kinds", "any notes from the past 2 weeks on my accounts?", "all kinds")
    assert notes["reading"].startswith("Notes logged 2026-11-09 to 2026-11-23"), notes["reading"]
    assert f"{per['note']} note" in notes["text"], notes["text"]
    assert "Read \u201cnotes\u201d as CSM notes" in notes["text"], notes["text"]
    assert all(f"{n} {k}" in notes["text"] for k, n in per.items() if k != "note"), notes["text"]  # said, not dropped
    assert "2026-11-09 to 2026-11-23" in every["reading"] and f"{sum(per.values())} activities" in every["text"], \
        every["text"]
