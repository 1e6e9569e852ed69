"""Calendar invites as RFC 5545 text (one VEVENT, METHOD:REQUEST), built with the standard library.

Times are written in UTC (`...Z`), so no VTIMEZONE is needed; lines end in CRLF and are folded at
75 octets; TEXT values are escaped, parameter values quoted. `read` parses such text back (unfolded
properties of the VEVENT) for tests and for showing a stored invite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.errors import RetainError

PRODID = "-//Retain//Retain draft invite//EN"


class BadInvite(RetainError):
    """Text that is not a single-event iCalendar invite."""


@dataclass(frozen=True)
class Person:
    """An organizer or attendee: a display name and an e-mail address."""

    name: str
    email: str


@dataclass(frozen=True)
class Event:
    """One meeting: when (timezone-aware), what, who."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer: Person
    attendees: list[Person] = field(default_factory=list)
    stamp: datetime | None = None


def _text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    v = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", value.replace("\r\n", "\n").replace("\r", "\n"))
    return v.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value: quoted, without the characters a quoted value may not hold."""
    return '"' + re.sub(r'["\x00-\x1f\x7f]', "", value)[:100] + '"'


def _utc(d: datetime) -> str:
    if d.tzinfo is None:
        raise BadInvite("An invite's times must carry a timezone.")
    return d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (continuation lines start with one space), never inside a character."""
    out: list[str] = []
    cur, size = "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > (75 if not out else 74):
            out.append(cur)
            cur, size = "", 0
        cur += ch
        size += n
    out.append(cur)
    return "\r\n ".join(out)


def _address(p: Person) -> str:
    addr = p.email.strip()
    if not re.fullmatch(r"[^@\s:;,\"<>]+@[^@\s:;,\"<>]+\.[^@\s:;,\"<>]+", addr):
        raise BadInvite(f"{p.name or 'A participant'} has no valid e-mail address ({addr[:80]!r}) for the invite.")
    return f"mailto:{addr}"


def build(e: Event) -> str:
    """The invite as iCalendar text (VCALENDAR with one VEVENT)."""
    if e.end <= e.start:
        raise BadInvite("A meeting must end after it starts.")
    lines = ["BEGIN:VCALENDAR", f"PRODID:{PRODID}", "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:REQUEST",
             "BEGIN:VEVENT", f"UID:{_text(e.uid)}", f"DTSTAMP:{_utc(e.stamp or datetime.now(UTC))}",
             f"DTSTART:{_utc(e.start)}", f"DTEND:{_utc(e.end)}", f"SUMMARY:{_text(e.summary)}",
             f"DESCRIPTION:{_text(e.description)}", "SEQUENCE:0", "STATUS:CONFIRMED", "TRANSP:OPAQUE",
             f"ORGANIZER;CN={_param(e.organizer.name)}:{_address(e.organizer)}"]
    for a in e.attendees:
        lines.append(f"ATTENDEE;CN={_param(a.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
                     f"{_address(a)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(x) + "\r\n" for x in lines)


def read(text: str) -> dict[str, list[tuple[dict[str, str], str]]]:
    """The VEVENT's properties: name -> [(parameters, raw value)], from unfolded lines; BadInvite if malformed."""
    if "\r\n" not in text or re.search(r"(?<!\r)\n", text):
        raise BadInvite("iCalendar lines must end in CRLF.")
    lines = re.sub(r"\r\n[ \t]", "", text).split("\r\n")
    if lines[-1] == "":
        lines.pop()
    if lines[:1] != ["BEGIN:VCALENDAR"] or lines[-1:] != ["END:VCALENDAR"]:
        raise BadInvite("Not an iCalendar object.")
    props: dict[str, list[tuple[dict[str, str], str]]] = {}
    depth = []
    for line in lines:
        m = re.match(r'^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*))*):(.*)$', line)
        if not m:
            raise BadInvite(f"Malformed content line {line[:40]!r}.")
        name, params, value = m.group(1).upper(), m.group(2), m.group(3)
        if name == "BEGIN":
            depth.append(value)
            continue
        if name == "END":
            if not depth or depth.pop() != value:
                raise BadInvite(f"END:{value} does not close what was opened.")
            continue
        if depth[-1:] == ["VEVENT"]:
            ps = {k.upper(): v.strip('"') for k, v in re.findall(r';([A-Za-z0-9-]+)=("[^"]*"|[^;]*)', params)}
            props.setdefault(name, []).append((ps, value))
    if depth:
        raise BadInvite("Unclosed component.")
    return props


def unescape(value: str) -> str:
    """A TEXT value as written (the inverse of the escaping `build` applies)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
