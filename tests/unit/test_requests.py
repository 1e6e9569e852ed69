"""Reading requests (draft / send / ping / set up / remind me) and their dates; building and reading invites."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from agents.requests.dates import moment
from agents.requests.parse import parse, tidy
from agents.requests.prose import new_names, opening
from integrations import ics

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize("text,kind,role,topic", [
    ("draft a note to Acme's champion proposing a call next week about two more teams", "email", "champion",
     "proposing a call next week about two more teams"),
    ("Can you email Hooli's exec sponsor about the renewal?", "email", "executive", "the renewal"),
    ("please write a short thank-you email to their economic buyer for the case study", "email", "executive",
     "the case study"),
    ("Hey Retain, could you put together an intro message for the IT admin at Globex re: SCIM", "email", "admin",
     "SCIM"),
    ("follow up with Globex's champion about the SSO ticket", "email", "champion", "the SSO ticket"),
    ("let Acme's technical contact know the outage is fixed", "email", "technical", "the outage is fixed"),
    ("reach out to the procurement contact at Initech regarding the PO", "email", "procurement", "the PO"),
    ("ping the admin at Cyberdyne about SCIM", "slack", "admin", "SCIM"),
    ("slack Umbrella's champion about the new model", "slack", "champion", "the new model"),
    ("send a slack message to Hooli's champion saying the fix is live", "slack", "champion", "the fix is live"),
    ("message Acme's champion on Slack about the pilot", "slack", "champion", "the pilot"),
])
def test_messages_are_read_with_kind_role_and_topic(text, kind, role, topic):
    r = parse(text, TODAY)
    assert r is not None and (r.kind, r.role) == (kind, role)
    assert tidy(r.topic, ["Acme", "Hooli", "Globex", "Initech", "Cyberdyne", "Umbrella"]) == topic


@pytest.mark.parametrize("text,meeting,role,day,at,minutes", [
    ("set up a QBR with Globex for early January", "QBR", None, date(2027, 1, 4), None, None),
    ("schedule a 45 minute sync with Raj at Initech on Dec 12 at 3pm", "sync", None, date(2026, 12, 12), time(15), 45),
    ("book 30 minutes with Acme's technical contact next Tuesday", "call", "technical", date(2026, 12, 1), None, 30),
    ("invite Initech's champion to an EBR mid January", "EBR", "champion", date(2027, 1, 11), None, None),
    ("could you arrange a call with Hooli's exec sponsor on Thursday afternoon", "call", "executive",
     date(2026, 11, 26), time(14), None),
    ("find time with Acme's admin at the end of the month", "call", "admin", date(2026, 11, 30), None, None),
    ("send an invite to Globex's champion for a check-in tomorrow at 9:30am", "check-in", "champion",
     date(2026, 11, 24), time(9, 30), None),
])
def test_meetings_are_read_with_type_role_and_time(text, meeting, role, day, at, minutes):
    r = parse(text, TODAY)
    assert r is not None and (r.kind, r.meeting, r.role) == ("meeting", meeting, role)
    assert r.when is not None and r.when.day() == day and r.when.at == at and r.when.minutes == minutes


@pytest.mark.parametrize("text,topic,day,at", [
    ("remind me to check Initech's SSO on Friday", "check Initech's SSO", date(2026, 11, 27), None),
    ("Remind me on Dec 12 at 3pm to call Hooli", "call Hooli", date(2026, 12, 12), time(15)),
    ("don't let me forget to send Acme the deck in 3 days", "send Acme the deck", date(2026, 11, 26), None),
    ("set a reminder for next Friday to review Globex's usage", "review Globex's usage", date(2026, 12, 4), None),
    ("pls remind me tomorrow morning about the Initech renewal", "the Initech renewal", date(2026, 11, 24), time(9)),
    ("nudge me end of the week to chase the Acme PO", "chase the Acme PO", date(2026, 11, 27), None),
    ("remind me to call Hooli", "call Hooli", None, None),
])
def test_reminders_are_read_with_topic_and_time(text, topic, day, at):
    r = parse(text, TODAY)
    assert r is not None and r.kind == "reminder" and r.topic == topic
    assert (r.when.day() if r.when else None) == day and (r.when.at if r.when else None) == at


@pytest.mark.parametrize("text", [
    "did we email Acme's champion?", "what's the email of Acme's champion?", "when is the QBR with Globex?",
    "prep me for my QBR with Globex", "put together a QBR deck for Acme", "let me know what Acme's risk is",
    "send me the list of renewals", "how is Acme doing?", "remember that Acme wants SSO", "emails from Acme last week",
    "message history with Acme", "schedule of Acme's milestones", "get the call notes from Acme",
    "who is Acme's champion?", "should I email Acme's champion?", "which meetings did we have with Hooli?",
])
def test_questions_and_statements_are_not_requests(text):
    assert parse(text, TODAY) is None


def test_a_follow_up_without_a_recipient_is_marked_for_the_onboarding_agent():
    r = parse("draft a follow-up for Cyberdyne", TODAY)
    assert r is not None and r.follow_up and r.role is None
    named = parse("draft a follow-up email to Cyberdyne's champion", TODAY)
    assert named is not None and named.role == "champion"  # a named recipient: the draft agent's


@pytest.mark.parametrize("text,start,end", [
    ("next week", date(2026, 11, 30), date(2026, 12, 6)),
    ("early January", date(2027, 1, 1), date(2027, 1, 10)),
    ("late December", date(2026, 12, 21), date(2026, 12, 31)),
    ("on Monday", date(2026, 11, 30), date(2026, 11, 30)),  # said on a Monday: the next one
    ("this Wednesday", date(2026, 11, 25), date(2026, 11, 25)),
    ("in two weeks", date(2026, 12, 7), date(2026, 12, 7)),
    ("2027-02-03", date(2027, 2, 3), date(2027, 2, 3)),
    ("March 3", date(2027, 3, 3), date(2027, 3, 3)),
])
def test_dates_are_read_against_the_configured_today(text, start, end):
    m = moment(text, TODAY)
    assert m is not None and (m.start, m.end) == (start, end)


def test_a_range_proposes_its_first_working_day():
    assert moment("early January", TODAY).day() == date(2027, 1, 4)  # not New Year's Day (a Friday), not the weekend
    assert moment("nothing about time here", TODAY) is None


def test_opening_sentences_follow_the_topic():
    assert opening("proposing a call next week about two more teams") == \
        "I'm writing to propose a call next week about two more teams."
    assert opening("check their SSO setup") == "I wanted to reach out to check your SSO setup."
    assert opening("the renewal") == "I wanted to reach out about the renewal."
    assert opening("") .startswith("I wanted to check in")


def test_new_names_flags_people_and_days_the_facts_do_not_hold():
    assert new_names("Hi Ben, could we meet with Priya on Tuesday? Best, Dana", "Ben Dana") == ["Priya", "Tuesday"]
    assert new_names("Hi Ben, could we meet? Best, Dana", "ben dana") == []


def _unfold(text):
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in raw)
    out = []
    for line in raw:
        if line.startswith(" "):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def test_an_invite_is_rfc5545_text_that_reads_back():
    ny = ZoneInfo("America/New_York")
    e = ics.Event(uid="abc@retain", start=datetime(2027, 1, 4, 10, tzinfo=ny), end=datetime(2027, 1, 4, 11, tzinfo=ny),
                  summary="Globex QBR; agenda, and more", description="Line one\nLine two with a very long tail " * 4,
                  organizer=ics.Person("Dana Reyes", "dana.reyes@retain.example"),
                  attendees=[ics.Person('Ben "B" Ito', "ben.ito@globex.example")],
                  stamp=datetime(2026, 11, 23, 12, tzinfo=UTC))
    text = ics.build(e)
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "METHOD:REQUEST" in lines
    assert "DTSTART:20270104T150000Z" in lines and "DTEND:20270104T160000Z" in lines
    assert "SUMMARY:Globex QBR\\; agenda\\, and more" in lines
    attendee = ('ATTENDEE;CN="Ben B Ito";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:'
                'mailto:ben.ito@globex.example')
    assert attendee in lines
    props = ics.read(text)
    assert ics.unescape(props["DESCRIPTION"][0][1]) == e.description
    assert props["ORGANIZER"][0] == ({"CN": "Dana Reyes"}, "mailto:dana.reyes@retain.example")


@pytest.mark.parametrize("bad", ["BEGIN:VCALENDAR\nEND:VCALENDAR\n",
                                 "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n",
                                 "BEGIN:VCALENDAR\r\nnot a line\r\nEND:VCALENDAR\r\n"])
def test_reading_malformed_invites_fails_clearly(bad):
    with pytest.raises(ics.BadInvite):
        ics.read(bad)


def test_an_invite_refuses_bad_addresses_and_backwards_times():
    ny = ZoneInfo("America/New_York")
    base = dict(uid="u", start=datetime(2027, 1, 4, 10, tzinfo=ny), end=datetime(2027, 1, 4, 11, tzinfo=ny),
                summary="s", description="d", organizer=ics.Person("Dana", "dana@retain.example"))
    with pytest.raises(ics.BadInvite, match="valid e-mail"):
        ics.build(ics.Event(**base, attendees=[ics.Person("X", "x@y\r\nBCC:evil@z.example")]))
    with pytest.raises(ics.BadInvite, match="end after"):
        ics.build(ics.Event(**{**base, "end": base["start"]}))


def test_a_meeting_topic_leaves_out_the_meeting_and_its_time():
    r = parse("schedule a sync with Initech's champion on Friday about the SSO rollout", TODAY)
    assert r is not None and r.meeting == "sync" and tidy(r.topic, ["Initech"]) == "the SSO rollout"


@pytest.mark.parametrize("text,role", [("slack whoever owns Kestrel that the PO is late", "owner"),
                                       ("email Acme's account owner about the handover", "owner"),
                                       ("write to their engineers about the p95 spike", "technical")])
def test_owner_and_technical_roles(text, role):
    r = parse(text, TODAY)
    assert r is not None and r.role == role
