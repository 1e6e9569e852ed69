"""The query layer's catalogue: each entity of the CRM, its fields (SQL or the day's scores) and their kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import aliased

from integrations.crm.models import (
    CSM,
    Account,
    Activity,
    Contact,
    Contract,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    RenewalEvent,
    SurveyResponse,
    TelemetryDaily,
    Ticket,
)


@dataclass(frozen=True)
class Col:
    """One field of an entity: its SQL expression (None when it comes from the day's scores) and kind."""

    expr: Any
    kind: str = "text"  # text | number | money | date | bool | ratio | json
    label: str = ""


Kind = Literal["text", "number", "money", "date", "bool", "ratio", "json"]


def _cols(model: Any, kinds: dict[str, Kind]) -> dict[str, Col]:
    return {k: Col(getattr(model, k), v, k.replace("_", " ")) for k, v in kinds.items()}


OWNER = aliased(CSM)
_ACCOUNT_SQL: dict[str, Col] = {
    "account": Col(Account.name, "text", "account"),
    "owner": Col(OWNER.name, "text", "owner"),
    "team": Col(OWNER.team, "text", "team"),
    "segment": Col(Account.segment, "text", "segment"),
    "industry": Col(Account.industry, "text", "industry"),
}

ACTIVITY_KINDS = ("call", "meeting", "email", "note")
NEVER_DAYS = 100000.0  # days since an activity of a kind the account never had ("no calls since May" holds for it)

# Fields of the day's scores (computed once per request by the tool context), by feature column.
DERIVED: dict[str, tuple[str, str, str]] = {
    "health": ("score", "number", "health"), "band": ("band", "text", "band"),
    "trend": ("trend", "number", "30-day trend"), "p_renew": ("p_renew", "ratio", "P(renew)"),
    "risk": ("risk", "text", "segment"), "renewal_date": ("renewal_date", "date", "renews"),
    "days_to_renewal": ("days_to_renewal", "number", "days to renewal"), "plan": ("plan", "text", "plan"),
    "seats": ("seats", "number", "seats"), "contract_value": ("contract_arr", "money", "contract value"),
    "seats_used": ("seats_used_7d", "number", "seats in use"),
    "seat_utilization": ("seat_utilization", "ratio", "seat use"),
    "usage_change_30d": ("usage_change_30d", "ratio", "usage change 30d"),
    "model": ("model_now", "text", "model"), "nps": ("nps", "number", "latest NPS"),
    "last_touch": ("last_touch", "date", "last touch"),
    "days_since_touch": ("days_since_touch", "number", "days since touch"),
    **{f"last_{k}": (f"last_{k}", "date", f"last {k}") for k in ACTIVITY_KINDS},  # that kind of activity only
    **{f"days_since_{k}": (f"days_since_{k}", "number", f"days since {k}") for k in ACTIVITY_KINDS},
    "open_tickets": ("open_tickets", "number", "open tickets"),
    "open_high_tickets": ("open_high_tickets", "number", "open high tickets"),
    "onboarding_progress": ("onboarding_progress", "ratio", "onboarding progress"),
    "onboarding_overdue": ("onboarding_overdue", "number", "overdue milestones"),
    "champion_present": ("champion_present", "bool", "champion present"),
    "spend_30d": ("spend_30d", "money", "spend 30d"), "p95_ms": ("p95_now", "number", "p95 ms"),
    "requests_30d": ("requests_30d", "number", "requests 30d"), "tokens_30d": ("input_tokens_30d", "number",
                                                                               "input tokens 30d"),
    "error_rate": ("error_rate", "ratio", "error rate"),
}


@dataclass(frozen=True)
class EntitySpec:
    """How an entity maps onto the store: its table, fields, date and label, and its source type."""

    model: Any
    source: str
    date_field: str | None
    label_field: str
    fields: dict[str, Col]
    default_fields: tuple[str, ...]
    live_only: bool = True  # churned accounts' records are history (renewals keep them)


ENTITIES: dict[str, EntitySpec] = {
    "accounts": EntitySpec(Account, "account", None, "account", {
        **_cols(Account, {"segment": "text", "industry": "text", "arr": "money", "lifecycle_stage": "text",
                          "domain": "text", "created_on": "date"}),
        "contract_start": Col(Contract.start_date, "date", "contract start"),
        **{k: Col(None, kind, label) for k, (_, kind, label) in DERIVED.items()}},
        ("account", "health", "band", "arr", "renewal_date")),
    "contacts": EntitySpec(Contact, "contact", "last_engaged", "name", _cols(Contact, {
        "name": "text", "email": "text", "role": "text", "is_champion": "bool", "last_engaged": "date",
        "left_on": "date"}), ("name", "role", "account")),
    "tickets": EntitySpec(Ticket, "ticket", "opened_at", "subject", _cols(Ticket, {
        "subject": "text", "priority": "text", "status": "text", "opened_at": "date", "closed_at": "date",
        "body": "text"}), ("subject", "priority", "status", "opened_at", "account")),
    "activities": EntitySpec(Activity, "activity", "occurred_on", "subject", _cols(Activity, {
        "kind": "text", "occurred_on": "date", "author": "text", "subject": "text", "body": "text"}),
        ("occurred_on", "kind", "subject", "account")),
    "renewals": EntitySpec(RenewalEvent, "renewal", "renewal_date", "outcome", _cols(RenewalEvent, {
        "renewal_date": "date", "outcome": "text", "arr_before": "money", "arr_after": "money"}),
        ("renewal_date", "outcome", "arr_before", "arr_after", "account"), live_only=False),
    "telemetry": EntitySpec(TelemetryDaily, "telemetry", "day", "day", _cols(TelemetryDaily, {
        "day": "date", "api_requests": "number", "input_tokens": "number", "output_tokens": "number",
        "active_users": "number", "seats_used": "number", "p50_latency_ms": "number",
        "p95_latency_ms": "number", "error_rate": "ratio", "spend": "money", "model_name": "text",
        "model_version": "text"}) | {"tokens": Col(TelemetryDaily.input_tokens + TelemetryDaily.output_tokens, "number",
                                                  "tokens")},
        ("day", "api_requests", "p95_latency_ms", "error_rate", "account")),
    "fine_tunes": EntitySpec(FineTuneJob, "fine_tune", "created_on", "base_model", _cols(FineTuneJob, {
        "created_on": "date", "status": "text", "base_model": "text", "hyperparameters": "json",
        "loss_final": "number", "loss_summary": "text", "eval_score": "number"}),
        ("created_on", "status", "base_model", "eval_score", "loss_summary", "account")),
    "milestones": EntitySpec(Milestone, "milestone", "due_date", "name", {**_cols(Milestone, {
        "name": "text", "owner": "text", "due_date": "date", "completed_date": "date", "status": "text"}),
        "plan": Col(OnboardingPlan.name, "text", "plan"),
        "plan_target": Col(OnboardingPlan.target_date, "date", "go-live target")},
        ("name", "status", "due_date", "account")),
    "plans": EntitySpec(OnboardingPlan, "onboarding_plan", "target_date", "name", _cols(OnboardingPlan, {
        "name": "text", "started_on": "date", "target_date": "date", "status": "text"}),
        ("name", "status", "started_on", "target_date", "account")),
    "surveys": EntitySpec(SurveyResponse, "nps", "responded_on", "kind", {**_cols(SurveyResponse, {
        "kind": "text", "score": "number", "comment": "text", "responded_on": "date"}),
        "contact": Col(Contact.name, "text", "contact")}, ("responded_on", "score", "comment", "account")),
}
for _spec in ENTITIES.values():
    for _k, _c in _ACCOUNT_SQL.items():
        _spec.fields.setdefault(_k, _c)
