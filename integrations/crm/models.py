"""The CRM schema: who owns which customer, and everything a CSM knows about that customer.

Retain's own operational tables (`ops_models`) are re-exported here, so this module names every table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from integrations.crm.base import AccountRecord, Base, Imported
from integrations.crm.ops_models import (
    EmbeddingVector,
    Feedback,
    FollowUpState,
    MCPToken,
    Meta,
    Outbox,
    SchedulerLease,
    ScoreRun,
    SlackInbox,
    SyncRun,
    TextSentiment,
)

__all__ = ["CSM", "Account", "AccountRecord", "ActionLog", "Activity", "Base", "Contact", "Contract",
           "EmbeddingVector", "Feedback", "FineTuneJob", "FollowUpState", "HealthSnapshot", "Imported", "MCPToken",
           "Meta", "Milestone", "NeedsProfile", "OPERATIONAL", "OnboardingPlan", "Outbox", "RememberedFact",
           "RenewalEvent", "SchedulerLease", "ScoreRun", "SlackInbox", "SurveyResponse", "SyncRun", "TelemetryDaily",
           "TextSentiment", "Ticket"]

# Tables whose writes do not change what scores and answers are made from; a write to any other
# table of `Base` moves the data version (`integrations.crm.store`, `schema.track_writes`).
OPERATIONAL = frozenset({"alembic_version", "apscheduler_jobs", "retain_meta", "score_runs", "slack_inbox", "sync_runs",
                         "outbox", "scheduler_lease", "followup_state", "action_log", "health_snapshots",
                         "needs_profiles", "feedback", "embedding_vectors", "mcp_tokens",
                         "text_sentiments"})


class CSM(Base):
    """A customer-success manager, manager or admin using Retain."""

    __tablename__ = "csms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="csm")  # csm | manager | admin
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("csms.id"))
    team: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Account(Base):
    """A customer company."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    domain: Mapped[str | None] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(20), default="mid-market")
    industry: Mapped[str | None] = mapped_column(String(100))
    arr: Mapped[float] = mapped_column(Float, default=0.0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("csms.id"), index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(30), default="adopted")
    created_on: Mapped[date | None] = mapped_column(Date)


class Contact(Imported, Base):
    """A person at a customer."""

    __tablename__ = "contacts"
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(200))
    is_champion: Mapped[bool] = mapped_column(default=False)
    last_engaged: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class Contract(Imported, Base):
    """A subscription: plan, term and seats."""

    __tablename__ = "contracts"
    plan: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    renewal_date: Mapped[date] = mapped_column(Date, index=True)
    arr: Mapped[float] = mapped_column(Float)
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")


class TelemetryDaily(Base):
    """One day of a customer's use of the AI/LLM product."""

    __tablename__ = "telemetry_daily"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    api_requests: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    active_users: Mapped[int] = mapped_column(Integer)
    seats_used: Mapped[int] = mapped_column(Integer)
    p50_latency_ms: Mapped[float] = mapped_column(Float)
    p95_latency_ms: Mapped[float] = mapped_column(Float)
    error_rate: Mapped[float] = mapped_column(Float)
    spend: Mapped[float] = mapped_column(Float)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(50))


class FineTuneJob(AccountRecord, Base):
    """A customer's fine-tuning run with its hyperparameters and outcome."""

    __tablename__ = "fine_tune_jobs"
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # the vendor's job id
    created_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # succeeded | failed | running
    base_model: Mapped[str] = mapped_column(String(100))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    loss_start: Mapped[float | None] = mapped_column(Float)
    loss_min: Mapped[float | None] = mapped_column(Float)
    loss_final: Mapped[float | None] = mapped_column(Float)  # NaN when the run diverged
    loss_summary: Mapped[str | None] = mapped_column(Text)
    eval_score: Mapped[float | None] = mapped_column(Float)


class Ticket(Imported, Base):
    """A support ticket."""

    __tablename__ = "tickets"
    priority: Mapped[str] = mapped_column(String(10))  # low | normal | high | urgent
    status: Mapped[str] = mapped_column(String(20))  # open | pending | closed
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)


class SurveyResponse(Imported, Base):
    """An NPS or CSAT answer with its comment."""

    __tablename__ = "survey_responses"
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(10))  # nps | csat
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    responded_on: Mapped[date] = mapped_column(Date)


class OnboardingPlan(AccountRecord, Base):
    """An onboarding plan for an account."""

    __tablename__ = "onboarding_plans"
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date] = mapped_column(Date)
    target_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # active | completed


class Milestone(Base):
    """A step of an onboarding plan."""

    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("onboarding_plans.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    completed_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # pending | in_progress | blocked | done
    updated_on: Mapped[date | None] = mapped_column(Date)


class Activity(Imported, Base):
    """A meeting note, email, call or CSM note: free text, as people write it."""

    __tablename__ = "activities"
    kind: Mapped[str] = mapped_column(String(20))  # meeting | email | call | note
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    author: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)


class RenewalEvent(AccountRecord, Base):
    """A past renewal and how it went, with the account's features 90 days before it."""

    __tablename__ = "renewal_events"
    __table_args__ = (UniqueConstraint("account_id", "renewal_date"),)
    renewal_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))  # renewed | churned | contracted | expanded
    arr_before: Mapped[float] = mapped_column(Float)
    arr_after: Mapped[float] = mapped_column(Float)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)


class HealthSnapshot(Base):
    """An account's health score on one day, kept so trends can be shown."""

    __tablename__ = "health_snapshots"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    components: Mapped[dict[str, Any]] = mapped_column(JSON)


class RememberedFact(AccountRecord, Base):
    """Something a CSM asked Retain to remember about an account, with who said it and when."""

    __tablename__ = "remembered_facts"
    text: Mapped[str] = mapped_column(Text)
    said_by: Mapped[str] = mapped_column(String(200))
    said_at: Mapped[datetime] = mapped_column(DateTime)
    origin: Mapped[str] = mapped_column(String(200), default="")  # e.g. slack:C123/1700000000.1


class NeedsProfile(Base):
    """An account's needs profile (goals, use cases, criteria, pain points, stakeholders), each item sourced."""

    __tablename__ = "needs_profiles"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))  # of the records it was built from
    method: Mapped[str] = mapped_column(String(20))  # llm | rules
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ActionLog(Base):
    """An approved action (remembered fact, logged follow-up), keyed by its draft id: it runs once."""

    __tablename__ = "action_log"
    draft_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    decision: Mapped[str] = mapped_column(String(10))  # approve | skip
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


Index("ix_tickets_account_opened", Ticket.account_id, Ticket.opened_at)
