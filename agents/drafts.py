"""Drafts awaiting a CSM's approval and what deciding one did: the shapes `agents.context.Actions` works on."""

from __future__ import annotations

from typing import Literal, TypedDict


class Attendee(TypedDict):
    """One more person invited to a meeting."""

    name: str
    email: str
    role: str


class Draft(TypedDict, total=False):
    """An action waiting for a CSM's approval: a follow-up email, a fact to remember, or a requested draft.

    A requested draft (`agents.requests`) is a "message" (e-mail or Slack) to a contact, a "meeting"
    (an e-mail with an .ics invite) or a "reminder" to the CSM at a date; `draft_kind` says which of
    email | slack | meeting | reminder was asked for.
    """

    id: str
    kind: Literal["follow_up", "fact", "message", "meeting", "reminder"]
    draft_kind: Literal["email", "slack", "meeting", "reminder"]
    status: Literal["pending"]
    account_id: int
    account: str
    subject: str
    body: str
    to: str
    to_email: str
    to_role: str
    to_slack: str  # a reminder's recipient: the CSM's Slack user id
    cc: list[Attendee]  # more meeting attendees
    milestone_id: int
    milestone: str
    when: str  # ISO datetime (with offset) of the meeting's start or the reminder
    ends: str  # ISO datetime of the meeting's end
    timezone: str
    invite: str  # the meeting's iCalendar text (RFC 5545), attached to the e-mail on approval
    facts: list[str]  # the CRM facts the draft uses, each with its source


class ActionResult(TypedDict, total=False):
    """What deciding a draft did."""

    draft_id: str
    kind: str
    decision: str  # "approve" | "skip" | "refused"
    already_done: bool
    click: str  # what asked for the decision on record (a Slack click's inbox key), "" when not said
    fact_id: int
    activity_id: int
    text: str
    to: str
    sent_via: str  # "slack_connect" | "email_outbox" | "none"
    outbox: str
    file: str
    error: str
    snoozed_days: float
    memory: str
    due: str  # when a reminder is delivered (ISO datetime)
