"""The draft agent: a request becomes one pending draft built from CRM facts, each shown with its source.

A "message" (e-mail or Slack) goes to the contact the request names by role or name; a "meeting" is
an e-mail with an .ics invite to that contact (by default the champion, and the executive sponsor for
a QBR/EBR); a "reminder" goes to the CSM who asked, at the day and time they said. Nothing runs until
the account's owner, their manager or an admin approves (`agents.approve`). When the request leaves
the recipient, the account or a reminder's day open, the answer is one clarifying question instead.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.composer import render
from agents.context import Deps
from agents.requests import thread
from agents.requests.dates import Moment, describe
from agents.requests.intent import thread_thing
from agents.requests.parse import Request, parse, tidy
from agents.requests.prose import DraftValues, template, to_self, written
from agents.state import AccountRef, Answer, Draft, Finding, Payload, RequestJSON
from integrations import ics
from tools import contacts, crm
from tools.results import Recipient

_LONG = ("QBR", "EBR", "business review", "workshop", "working session")
_TO_ACCOUNT = re.compile(r"\b(?:them|the customer|the client)\b", re.I)  # the account as a whole, no one in it
_BARE_PRONOUN = re.compile(r"\b(?:about|re|regarding|on)\s+(?:it|this|that)\W*$", re.I)  # "email her about it"
_KIND_WORD = {"email": "e-mail", "slack": "Slack message", "meeting": "meeting invite", "reminder": "reminder"}


def ask(text: str) -> Answer:
    """One clarifying question instead of a draft."""
    return {"text": text, "mode": "clarify", "sources": [], "drafts": [], "unsupported": [], "note": ""}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _who(p: Recipient) -> str:
    role = p.get("role") or ""
    extra = " (champion)" if p.get("champion") else ""
    return f"{p['name']}{', ' + role if role else ''}{extra}"


def _listing(people: list[Recipient]) -> str:
    return "; ".join(_who(p) for p in people) or "no current contacts in the CRM"


def _gone(p: Recipient) -> str:
    """A contact who has left, said as such (never as someone to write to)."""
    role = f" ({p['role']}{', champion' if p.get('champion') else ''})" if p.get("role") else ""
    return f"{p['name']}{role} left {p['account']} on {p['left_on']}"


def recipients(ctx: crm.ToolContext, req: Request, person: str | None, acct: AccountRef,
               f: Finding, to_champion: bool = False) -> tuple[list[Recipient], str | None]:
    """Who the draft goes to (first is the main recipient), or a clarifying question.

    A contact asked for who has left is stated in `f` with their record, and the question says so. With
    `to_champion` (the account is the conversation's, or the message writes to "them"/"the customer"), a message
    that names no one goes to the champion, and the draft says it chose them.
    """
    aid, name = acct["account_id"], acct["name"]
    if req.kind == "reminder":
        return [contacts.person(ctx) | {"role": "you"}], None
    if req.role == "owner":
        return [contacts.owner(ctx, aid) | {"role": "account owner"}], None
    # A title the CRM holds, spelled out ("their Head of AI Platform", "director of ops"), names one person;
    # its capitalised words are no one's name, and it is more precise than a role word ("VP" for sponsor).
    titled = contacts.contact_by_title(ctx, aid, req.text) if req.role != "champion" else None
    if person:
        hits = contacts.contact_by_name(ctx, person, [aid])
        if len(hits) == 1:
            return hits, None
        if hits:
            return [], (f"\u201c{person}\u201d matches several contacts at {name}: {_listing(hits)}. "
                        "Which one do you mean?")
        if titled:
            return [titled], None
        gone = contacts.contact_by_name(ctx, person, [aid], left=True)
        if gone:
            f.fact(_gone(gone[0]), *gone[0]["sources"], kind="left")
            return [], (f"{_gone(gone[0])}, according to the CRM. Its current contacts: "
                        f"{_listing(contacts.contacts(ctx, aid))}. Who should it go to?")
        elsewhere = contacts.contact_by_name(ctx, person, None) if " " in person.strip() else []
        at = f" ({'; '.join(sorted({h['name'] + ' is at ' + h['account'] for h in elsewhere}))})" if elsewhere else ""
        return [], (f"I found no current contact called \u201c{person}\u201d at {name}{at}. Its contacts: "
                    f"{_listing(contacts.contacts(ctx, aid))}. Who should it go to?")
    if titled:
        return [titled], None
    left = contacts.contact_by_title(ctx, aid, req.text, left=True) if req.role != "champion" else None
    if left:  # the title asked for belongs to someone who left: say so, and let the CSM pick who now
        f.fact(_gone(left), *left["sources"], kind="left")
        return [], (f"{_gone(left)}, according to the CRM. Its current contacts: "
                    f"{_listing(contacts.contacts(ctx, aid))}. Who should it go to?")
    if req.role:
        hit = contacts.contact_by_role(ctx, aid, req.role)
        if hit:
            said = contacts.ROLES[req.role] if contacts.fills(hit, req.role) else ""
            return [hit | {"as": said}], None
        was = contacts.former(ctx, aid, "champion") if req.role == "champion" else []
        for p in was[:1]:
            f.fact(_gone(p), *p["sources"], kind="left")
        return [], (f"{name} has no current {contacts.ROLES[req.role]} in the CRM"
                    + (f": {_gone(was[0])}" if was else "") + ". Its current contacts: "
                    f"{_listing(contacts.contacts(ctx, aid))}. Who should it go to?")
    if req.kind == "meeting":
        people = [p | {"as": contacts.ROLES[r] if contacts.fills(p, r) else ""} for r in ("champion", "executive")
                  for p in [contacts.contact_by_role(ctx, aid, r)] if p]
        if req.meeting not in _LONG:
            people = people[:1]
        people = [p for k, p in enumerate(people) if p["contact_id"] not in {q["contact_id"] for q in people[:k]}]
        if people:
            return people, None
    champ = contacts.contact_by_role(ctx, aid, "champion") if to_champion else None
    if champ is not None and champ.get("champion"):
        f.fact(f"No recipient was named: addressed to the champion at {name}, {champ['name']}; name someone else to "
               "change it", kind="assumption")
        return [champ | {"as": "champion"}], None
    return [], (f"Who at {name} should the {_KIND_WORD[req.kind]} go to? Its contacts: "
                f"{_listing(contacts.contacts(ctx, aid))}. Say a name or a role (champion, executive sponsor, admin, "
                "technical contact).")


def _start(req: Request, tz: ZoneInfo, today: Any) -> tuple[Moment, datetime, bool]:
    """The meeting's or reminder's moment and start; True when the request gave no day (a proposal)."""
    m, guessed = req.when, req.when is None
    if m is None:  # a meeting with no day: the first working day of next week, said plainly
        monday = today + timedelta(days=7 - today.weekday())
        m = Moment(monday, monday + timedelta(days=4), None, "next week (no day was given)")
    default = time(9) if req.kind == "reminder" else time(10)
    return m, datetime.combine(m.day(), m.at or default, tzinfo=tz), guessed


def run(deps: Deps, ctx: crm.ToolContext, payload: Payload) -> tuple[Finding, Answer]:
    """The finding and the answer for a request: a pending draft, or one clarifying question."""
    r = payload["route"]
    raw = r["request"]
    req = Request.from_json(raw)
    f = Finding("draft")
    if not r["accounts"] and raw.get("candidates"):
        return f, ask(f"\u201c{raw['person']}\u201d could be {' or '.join(raw['candidates'])}. Which one do you mean?")
    if not r["accounts"] and raw.get("unknown_people"):
        return f, ask(f"I found no current contact called \u201c{raw['unknown_people'][0]}\u201d at your accounts. "
                      f"Which account and contact should the {_KIND_WORD[req.kind]} go to?")
    if not r["accounts"]:
        return f, ask(_which_account(req, raw))
    acct = r["accounts"][0]
    f = Finding("draft", acct)
    asked = parse(payload["question"], ctx.as_of)  # the topic in the CSM's own words, not typo-mended ones
    if asked is not None and asked.kind == req.kind and asked.topic:
        req = replace(req, topic=asked.topic)
    named = raw.get("person") or (None if req.role else next(iter(raw.get("unknown_people") or []), None))
    to_champion = (r.get("accounts_via") == "conversation" or bool(_TO_ACCOUNT.search(req.text))) and \
        not thread.PRONOUN.search(req.text)  # "draft her a note" with no one person in the thread: asked, not guessed
    people, question = recipients(ctx, req, named, acct, f, to_champion)
    if question:
        return f, ask(question)
    if req.kind == "reminder" and req.when is None:
        topic = tidy(req.topic) or "this"
        return f, ask(f"When should I remind you to {topic}? Say a day and, if you like, a time "
                      "(\u201con Friday\u201d, \u201cDec 12 at 3pm\u201d, \u201cin 3 days\u201d).")
    mine = req.kind != "reminder" and not raw.get("about")  # the thread's one record is named by `thread` then
    bare = _BARE_PRONOUN.search(req.text) if mine and not req.topic else None
    thing = thread_thing(payload.get("dialogue"), bare.group(0) if bare else req.topic) if mine else None
    if bare:  # "email her about it": it is what?
        if thing is None:
            word = bare.group(0).split()[-1].strip(".!?")
            return f, ask(f"What should the {_KIND_WORD[req.kind]} to {people[0]['name']} be about? I cannot tell what "
                          f"\u201c{word}\u201d stands for in this conversation; say the topic and I'll draft it.")
        req = replace(req, topic=thing)
    return f, _draft(deps, ctx, req, raw, acct, people, f, payload["question"], thing)


def _which_account(req: Request, raw: RequestJSON) -> str:
    """One question for a request that names no account: which one, and who there when no one is named either.

    The conversation's accounts are offered when it has several.
    """
    among = raw.get("among") or []
    who = "" if req.role or req.kind == "reminder" or raw.get("person") else \
        ", and who there should get it (a name, or a role such as the champion or the executive sponsor)"
    if among:
        listed = ", ".join(among[:-1]) + f" or {among[-1]}" if len(among) <= 6 else \
            ", ".join(among[:5]) + f" or another of the {len(among)}"
        return f"Which account is this {_KIND_WORD[req.kind]} for: {listed}{who}?"
    return (f"Which account is this {_KIND_WORD[req.kind]} for{who}? Name it (\u201c{_example(req)}\u201d); "
            "nothing is drafted until then.")


def _example(req: Request) -> str:
    return {"reminder": "remind me to check Acme's SSO on Friday", "meeting": "set up a QBR with Acme in January"
            }.get(req.kind, "email Acme's champion about the renewal")


def _draft(deps: Deps, ctx: crm.ToolContext, req: Request, raw: RequestJSON, acct: AccountRef,
           people: list[Recipient], f: Finding, question: str, thing: str | None = None) -> Answer:
    aid = acct["account_id"]
    owner = contacts.owner(ctx, aid)
    to = people[0]
    names = [acct["name"], acct["name"].split()[0], *(p["name"] for p in people)]
    if raw.get("person"):
        names.append(str(raw["person"]))
    titles = [p["role"] for p in people if p.get("role") and req.kind != "reminder"]  # "Acme's Head of AI Platform"
    topic, record = thread.topic_with(tidy(req.topic, names, titles), raw, aid)  # "about that ticket": which one
    if req.kind == "reminder":  # said back to the CSM who asked: "my proposal" is "your proposal"
        topic = to_self(topic)
    dated = ""
    if req.kind in ("email", "slack") and req.when is not None:  # the day it names, read, not copied
        m = req.when
        day = describe(datetime.combine(m.start, m.at or time(0))).rsplit(" at ", 1)[0] if m.start == m.end \
            else f"{m.text} ({m.start.isoformat()} to {m.end.isoformat()})"
        if m.start == m.end and m.at:
            day += f" at {m.at.strftime('%H:%M')}"
        if m.start == m.end:  # the topic lost the phrase ("Friday next week"); it says the day instead
            topic = f"{topic} on {day}" if topic else f"the plan for {day}"
        dated = f"Date in the request: {day} (from \u201c{m.text}\u201d)"
    for p in people:
        email = p.get("email") or "no e-mail on record"
        f.fact(f"{'To' if p is to else 'Also invited'}: {_who(p)}, {email}"
               + (f" (the {p['as']})" if p.get("as") and p["as"] != "champion" else ""), *p["sources"],
               kind="recipient")
    was = contacts.former(ctx, aid, "champion") if req.kind != "reminder" else []
    if was and not any(p.get("champion") for p in people) and contacts.contact_by_role(ctx, aid, "champion") is None:
        f.fact(f"No current champion: {_gone(was[0])}", *was[0]["sources"], kind="champion_left")
    f.fact(f"Account owner: {owner['name'] or 'none'}", *owner["sources"], kind="owner")
    if record is not None:  # the record the conversation was about, that the draft's topic names
        f.fact(f"About: {thread.said(raw['about'])} (from the conversation)", record, kind="about")  # type: ignore
    if dated:
        f.fact(dated, kind="when")
    if re.search(r"renew|contract|\bqbr\b|\bebr\b|business review|expan|upsell", req.text, re.I):
        ren = contacts.renewal(ctx, aid)
        if ren:
            f.fact(f"Renewal date: {ren['renewal_date']}", *ren["sources"], kind="renewal")
    zone_name = (to if req.kind == "reminder" else owner).get("timezone") or "UTC"
    tz = _zone(zone_name)
    draft: Draft = {"id": uuid.uuid4().hex, "kind": "reminder" if req.kind == "reminder" else
                    "meeting" if req.kind == "meeting" else "message", "draft_kind": req.kind, "status": "pending",
                    "account_id": aid, "account": acct["name"], "to": to["name"], "to_email": to.get("email") or "",
                    "to_role": to.get("as") or to.get("role") or ""}
    values: DraftValues = {"kind": req.kind, "account": acct["name"], "hello": to["name"].split()[0],
                              "to": to["name"], "sender": owner["name"] or ctx.viewer.name, "topic": topic,
                              "asked_on": ctx.as_of.isoformat(), "fallback_subject": "Checking in",
                           **({"thing": thing} if thing else {})}
    if req.kind in ("meeting", "reminder"):
        m, start, guessed = _start(req, tz, ctx.as_of)
        minutes = m.minutes or (60 if req.meeting in _LONG else 30)
        end = start + timedelta(minutes=minutes)
        said = f"{describe(start)} {zone_name}"
        length = "" if req.kind != "meeting" else f", {minutes} minutes" if m.minutes else \
            f", {minutes} minutes (no length was given: the default)"
        f.fact(("Proposed time" if req.kind == "meeting" else "Reminder time") + f": {said}"
               + f" (from \u201c{m.text}\u201d){length}", kind="when")
        if guessed:
            f.fact("No day was given: I proposed the first working day of next week; ask again with a day to change "
                   "it", kind="assumption")
        draft |= {"when": start.isoformat(), "timezone": zone_name}
        values |= {"when": said, "minutes": minutes, "meeting": req.meeting or "call",
                   "fallback_subject": req.meeting or "Reminder"}
        if req.kind == "reminder":
            how = "a Slack DM" if to.get("slack_user_id") else "nothing: you have no Slack user in Retain"
            f.fact(f"Delivered to you by {how}", *to["sources"], kind="delivery")
        else:
            draft |= {"ends": end.isoformat()}
    if to.get("csm_id"):  # a CSM (the asker, or the account's owner): their Slack DM, not a customer channel
        draft["to_slack"] = to.get("slack_user_id") or ""
    kind = "meeting" if req.kind == "meeting" else req.kind
    subject, body = template(kind, values)
    note = "template"
    if req.kind != "reminder":
        prose, note = written(deps, kind, values, f.as_dict(), question, names + [owner["name"]])
        body = prose or body
    draft |= {"subject": subject, "body": body}
    if req.kind == "meeting":
        try:
            draft["invite"] = ics.build(ics.Event(
                uid=f"{draft['id']}@retain", start=start, end=end, summary=subject, description=body,
                organizer=ics.Person(owner["name"], owner["email"]),
                attendees=[ics.Person(p["name"], p["email"]) for p in people if p.get("email")],
                stamp=datetime.now(UTC)))
        except ics.BadInvite as exc:
            f.fact(f"No invite can be built: {exc}", kind="error")
    sources = f.as_dict()["sources"]
    draft["facts"] = [i["text"] + "".join(f" [{sources[k].get('type')} {sources[k].get('id')}]" for k in i["src"])
                      for i in f.facts]
    f.drafts.append(draft)
    f.data = {"request": raw, "note": note}
    text, numbered = render([f.as_dict()])
    head = (f"Draft {_KIND_WORD[req.kind]} to {_who(to) if req.kind != 'reminder' else 'you'} for {acct['name']}, "
            "waiting for approval: nothing is sent until the account's owner, their manager or an admin approves it.")
    return {"text": f"{head}\n{text}", "mode": "draft", "sources": numbered, "drafts": [draft], "unsupported": [],
            "note": note, "deterministic": text}
