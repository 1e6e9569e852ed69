"""What CSMs thought of answers and briefings: one vote per person per answer, listed, turned into eval candidates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from integrations.crm.models import CSM, Feedback
from integrations.crm.store import CRMStore
from tools.access import Viewer, visible_owner_ids


def _when(clicked: Any) -> datetime:
    """The click's time (Slack's action_ts), else now: later clicks win whatever order they are handled in."""
    try:
        return datetime.fromtimestamp(float(clicked))
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now()


def record(store: CRMStore, *, voter: str, value: str, kind: str, target: str, clicked: Any = None,
           **fields: Any) -> bool:
    """Keep a person's vote on one answer or briefing: one row per person and target, the latest click wins.

    `voter` is the Slack user who clicked; `fields` are what was rated (question, route, answer, asker,
    channel, message_ts). True when the vote is new or changed, False when it repeats the kept one or
    an earlier click arrives after a later one.
    """
    key = f"{kind}|{target}|{voter}"[:200]
    at = _when(clicked)
    for _ in range(2):  # a concurrent first vote by the same person: insert loses, update wins
        try:
            with store.session() as s:
                row = s.get(Feedback, key)
                if row is None:
                    s.add(Feedback(key=key, created_at=at, slack_user=voter, value=value, kind=kind, **fields))
                    s.commit()
                    return True
                if at < row.created_at or row.value == value:
                    return False
                row.value, row.created_at = value, at
                for k, v in fields.items():
                    setattr(row, k, v)
                s.commit()
                return True
        except IntegrityError:
            continue
    return False


class VotedRoute(TypedDict, total=False):
    """The route of a rated answer, as the Slack inbox keeps it."""

    intents: list[str]
    method: str | None
    accounts: list[str]


class Vote(TypedDict):
    """A kept vote: when, good or bad, on what (answer, briefing), who voted and asked, what was rated."""

    at: str
    value: str  # good | bad
    kind: str  # answer | briefing
    voter: str | None
    asker: str | None
    question: str | None
    route: VotedRoute | None
    answer: str | None
    channel: str | None
    message_ts: str | None


class EvalCandidate(TypedDict):
    """A thumbs-down answer as an unlabelled eval case: what was asked and said, and blanks to fill."""

    question: str | None
    asked_by: str | None
    voted_by: str | None
    at: str
    route_given: list[str] | None
    answer_given: str
    what_was_wrong: str
    expected_route: str
    facts: list[str]


def listing(store: CRMStore, since: date | None = None, viewer: Viewer | None = None) -> list[Vote]:
    """Every kept vote, newest first (from `since` on): who voted, who asked, what was rated.

    With a viewer, only votes on what the people of their scope asked or were briefed on, or cast
    (a CSM: their own; a manager: their team's; an admin: all).
    """
    q = (select(Feedback, CSM.email).outerjoin(CSM, CSM.slack_user_id == Feedback.slack_user)
         .order_by(Feedback.created_at.desc()))
    if since is not None:
        q = q.where(Feedback.created_at >= datetime.combine(since, datetime.min.time()))
    people = visible_owner_ids(store, viewer) if viewer is not None else None
    if people is not None:
        scope = select(CSM.email).where(CSM.id.in_(people))
        ids = select(CSM.slack_user_id).where(CSM.id.in_(people), CSM.slack_user_id.is_not(None))
        q = q.where(or_(Feedback.asker.in_(scope), Feedback.slack_user.in_(ids)))
    with store.session() as s:
        return [{"at": f.created_at.isoformat(timespec="seconds"), "value": f.value, "kind": f.kind,
                 "voter": email or f.slack_user, "asker": f.asker, "question": f.question,
                 "route": cast(VotedRoute | None, f.route),
                 "answer": f.answer, "channel": f.channel, "message_ts": f.message_ts} for f, email in s.execute(q)]


def eval_candidates(rows: list[Vote]) -> list[EvalCandidate]:
    """Thumbs-down answers as unlabelled eval cases: the question, what Retain said, and blanks to fill."""
    return [{"question": r["question"], "asked_by": r["asker"], "voted_by": r["voter"], "at": r["at"],
             "route_given": (r.get("route") or {}).get("intents"), "answer_given": (r["answer"] or "")[:1500],
             "what_was_wrong": "", "expected_route": "", "facts": []}
            for r in rows if r["value"] == "bad" and r["kind"] == "answer" and r.get("question")]
