"""What CSMs thought of answers and briefings: stored once per click, listed, and turned into eval candidates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations.crm.models import Feedback
from integrations.crm.store import CRMStore


def record(store: CRMStore, **fields: Any) -> bool:
    """Keep one click (its `key` is the click); False when this click was already kept."""
    try:
        with store.session() as s:
            s.add(Feedback(created_at=datetime.now(), **fields))
        return True
    except IntegrityError:
        return False


def listing(store: CRMStore, since: date | None = None) -> list[dict[str, Any]]:
    """Every kept click, newest first (from `since` on)."""
    q = select(Feedback).order_by(Feedback.created_at.desc())
    if since is not None:
        q = q.where(Feedback.created_at >= datetime.combine(since, datetime.min.time()))
    with store.session() as s:
        return [{"at": f.created_at.isoformat(timespec="seconds"), "value": f.value, "kind": f.kind,
                 "asker": f.asker or f.slack_user, "question": f.question, "route": f.route, "answer": f.answer,
                 "channel": f.channel, "message_ts": f.message_ts} for f in s.scalars(q)]


def eval_candidates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Thumbs-down answers as unlabelled eval cases: the question, what Retain said, and blanks to fill."""
    return [{"question": r["question"], "asked_by": r["asker"], "at": r["at"],
             "route_given": (r.get("route") or {}).get("intents"), "answer_given": (r["answer"] or "")[:1500],
             "what_was_wrong": "", "expected_route": "", "facts": []}
            for r in rows if r["value"] == "bad" and r["kind"] == "answer" and r.get("question")]
