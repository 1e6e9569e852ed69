"""Retain's own tables: Slack inbox, outbox, scheduler lease, embeddings, tones, score runs, syncs, tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from core.errors import mask_secrets
from integrations.crm.base import Base


class SlackInbox(Base):
    """Every Slack event, command and action Retain accepted, written before the ack: nothing is lost."""

    __tablename__ = "slack_inbox"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # event id, trigger id, action ts
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # the worker running (or last to run) it
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)  # running: the claim's end; failed: retry after
    thread_key: Mapped[str | None] = mapped_column(String(120), index=True)  # messages of one thread run in order
    order_ts: Mapped[float | None] = mapped_column(Float)  # Slack's ts of the message (order within the thread)


class Outbox(Base):
    """A scheduled message, keyed by (job, scheduled slot, recipient): written before it is sent."""

    __tablename__ = "outbox"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    slot: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | sending | sent | dead | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime)
    ts: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(String(300))  # or, when skipped, why
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # the `deliver` call posting it (while sending)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)  # that claim ends then unless it finishes
    accounts: Mapped[list[int] | None] = mapped_column(JSON)  # accounts it names: re-checked before it is sent


class SchedulerLease(Base):
    """Which process runs the scheduler; a second one refuses while the lease is live."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class FollowUpState(Base):
    """When a milestone was last nagged (and in which state), or until when it is snoozed."""

    __tablename__ = "followup_state"
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(100))
    nagged_at: Mapped[datetime] = mapped_column(DateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    thread: Mapped[str] = mapped_column(String(200))


class EmbeddingVector(Base):
    """A text's embedding by (model, sha1 of the text): the memory's vector cache shared by every worker."""

    __tablename__ = "embedding_vectors"
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    vec: Mapped[bytes] = mapped_column(LargeBinary)


class TextSentiment(Base):
    """A text's tone by (sentiment version, sha1 of the text): scoring recomputes only texts it has not seen."""

    __tablename__ = "text_sentiments"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    tone: Mapped[float] = mapped_column(Float)


class ScoreRun(Base):
    """The portfolio's features as of a day, computed once per data version and kept for every process.

    `payload` (the features) and `previous` (the scores 30 days earlier) are Arrow IPC files, data
    only: a row that anyone can write must never be able to run code in the process reading it.
    """

    __tablename__ = "score_runs"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    data_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    card: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    accounts: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    previous: Mapped[bytes | None] = mapped_column(LargeBinary)


class Feedback(Base):
    """A person's thumbs up or down on an answer or a briefing, with what was asked and answered.

    One row per person and message (the latest click wins); what was asked and answered is what
    Retain stored for that message, never what the click carried.
    """

    __tablename__ = "feedback"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # kind | what was rated | voter
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # the latest click
    slack_user: Mapped[str] = mapped_column(String(40))  # the voter: who clicked
    asker: Mapped[str | None] = mapped_column(String(320))  # the email of who asked (or was briefed), when known
    value: Mapped[str] = mapped_column(String(10))  # good | bad
    kind: Mapped[str] = mapped_column(String(20))  # answer | briefing
    question: Mapped[str | None] = mapped_column(Text)
    route: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answer: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))


class SyncRun(Base):
    """One run of a data source (a file import, the warehouse sync, a CRM connector): what it did."""

    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)  # e.g. warehouse:telemetry, import:tickets
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))  # ok | failed | dry-run
    rows_in: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    watermark: Mapped[str | None] = mapped_column(String(100))  # where the next incremental run starts
    error: Mapped[str | None] = mapped_column(Text)

    @validates("error")
    def _masked(self, _key: str, value: str | None) -> str | None:
        """Errors quote what a server answered (a 401 may echo the token): never stored with a secret."""
        return mask_secrets(value)[:2000] if value else value


class MCPToken(Base):
    """A person's bearer token for `retain mcp --http`: only its SHA-256 is kept; revoked tokens stay as history."""

    __tablename__ = "mcp_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    csm_id: Mapped[int] = mapped_column(ForeignKey("csms.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Meta(Base):
    """Key/value facts about the store itself (schema version, demo anchor date)."""

    __tablename__ = "retain_meta"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

