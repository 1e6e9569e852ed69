"""Meeting requests with a day and a time, and requests that leave the account or the recipient open, on the seeded
demo (today Monday 2026-11-23), no model.

A scheduling verb with a time is a meeting draft with an .ics invite whatever the meeting is called ("a renewal
chat", "an hour", "the expansion piece"): never the renewal card its topic words would route to. A request that
names no account asks one question saying what is missing; in a thread about one account it is that account's,
addressed to its champion, and the draft says it chose them.
"""

from sqlalchemy import select

from agents.assistant import Assistant
from integrations.crm.models import Account, Contact

SAM, DANA = "sam.okafor@retain.example", "dana.reyes@retain.example"


def _champion(rt, account):
    with rt.store.session() as s:
        aid = s.scalar(select(Account.id).where(Account.name == account))
        return s.scalars(select(Contact).where(Contact.account_id == aid, Contact.is_champion.is_(True),
                                               Contact.left_on.is_(None))).one()


def _meeting(ans):
    assert ans["mode"] == "draft", ans["text"]
    [d] = ans["drafts"]
    assert (d["kind"], d["draft_kind"], d["status"]) == ("meeting", "meeting", "pending")
    assert "BEGIN:VCALENDAR" in d["invite"] and "waiting for approval" in ans["text"]
    return d


def test_a_meeting_asked_for_with_a_day_and_a_time_is_a_pending_invite_whatever_its_topic(rt):
    champ = _champion(rt, "Westbrook Studios")
    cases = [  # (request, start, end): Sam's zone is Europe/London
        ("set up a renewal chat with Westbrook Studios next wed at 3", "2026-12-02T15:00", "2026-12-02T15:30"),
        ("can we get an hour with westbrook studios' champion on friday at 11?", "2026-11-27T11:00",
         "2026-11-27T12:00"),
        ("schedule the expansion piece w/ Westbrook Studios on dec 10 at 4:30pm", "2026-12-10T16:30",
         "2026-12-10T17:00"),
    ]
    for i, (ask, start, end) in enumerate(cases):
        r = Assistant(rt, use_memory=False).ask(ask, SAM, f"m{i}")
        d = _meeting(r["answer"])
        assert (d["account"], d["to"]) == ("Westbrook Studios", champ.name)
        assert d["when"].startswith(start) and d["ends"].startswith(end), (ask, d["when"], d["ends"])
        assert "renewal outlook" not in r["answer"]["text"].lower() and r["pending"]
    said = Assistant(rt, use_memory=False).ask(cases[0][0], SAM, "m9")["answer"]
    assert "30 minutes (no length was given: the default)" in said["text"]
    assert "Renewal date:" in said["text"] and "about the renewal" in said["drafts"][0]["body"]


def test_a_request_naming_no_account_asks_which_one_and_who(rt):
    for i, ask in enumerate(("draft something to the client saying the patch is in QA",
                             "shoot them a quick update", "write the customer a heads-up about the maintenance")):
        ans = Assistant(rt, use_memory=False).ask(ask, DANA, f"v{i}")["answer"]
        assert ans["mode"] == "clarify" and not ans["drafts"], (ask, ans["text"])
        assert ans["text"].count("?") == 1 and "Which account" in ans["text"] and "who there" in ans["text"]


def test_in_a_thread_about_one_account_a_vague_request_goes_to_its_champion_and_says_so(rt):
    champ = _champion(rt, "Larkspur Markets")
    for i, ask in enumerate(("send them a quick update", "draft something to the customer saying we're on the fix")):
        a = Assistant(rt, use_memory=False)
        a.ask("how is Larkspur Markets doing?", DANA, f"c{i}")
        ans = a.ask(ask, DANA, f"c{i}")["answer"]
        assert ans["mode"] == "draft", ans["text"]
        [d] = ans["drafts"]
        assert (d["account"], d["to"], d["status"]) == ("Larkspur Markets", champ.name, "pending")
        assert f"No recipient was named: addressed to the champion at Larkspur Markets, {champ.name}" in ans["text"]
