"""Customer e-mail built with the standard library: validated addresses, no header injection, safe body."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from core.errors import RetainError
from integrations.slack.safe import neutralize

_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class BadAddress(RetainError):
    """A CRM e-mail address that cannot be mailed."""


def one_line(text: str, limit: int = 200) -> str:
    """Header text: control characters (CR, LF, tabs) become spaces, trimmed to a limit."""
    return _CONTROL.sub(" ", str(text or "")).strip()[:limit]


def address(name: str, email: str) -> Address:
    """A validated recipient; BadAddress (one clear line, no raw CRM text with newlines) otherwise."""
    addr = str(email or "").strip()
    if not _ADDR.match(addr):
        raise BadAddress(f"The contact's e-mail address ({one_line(addr, 80)!r}) is not a valid address; fix it "
                         "in the CRM, then approve the follow-up again or send it by hand.")
    local, _, domain = addr.partition("@")
    return Address(display_name=one_line(name, 100), username=local, domain=domain)


def build(to_name: str, to_email: str, subject: str, body: str, sender: str = "",
          link_hosts: list[str] | tuple[str, ...] = (), invite: str = "") -> bytes:
    """An RFC 5322 message: one To, a one-line Subject, a plain-text body with no live foreign links.

    `invite`, when given, is iCalendar text attached as `invite.ics` (text/calendar; method=REQUEST).
    """
    msg = EmailMessage(policy=SMTP)
    msg["To"] = address(to_name, to_email)
    if sender:
        msg["From"] = one_line(sender)
    msg["Subject"] = one_line(subject, 250)
    msg.set_content(neutralize(body, link_hosts))
    if invite:
        msg.add_attachment(invite.encode(), maintype="text", subtype="calendar", filename="invite.ics",
                           params={"method": "REQUEST"})
    return msg.as_bytes()
