"""What the CRM tools return, typed: every key an agent, the CLI, Slack or MCP reads is spelled here.

The values are plain JSON (numbers, strings, None), so a result can go into a checkpoint, an MCP
answer or a model's tool message as it is. Each result carries the `sources` an answer cites.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

Scalar = str | int | float | bool | None
"""One plain JSON value."""


class Source(TypedDict, total=False):
    """A record an answer can cite: its type, id, date and a short label (`tools.context.src` makes one)."""

    type: str
    id: str
    date: str
    label: str
    account: str


class Detection(TypedDict):
    """What a detector found (`tools.detectors`): its kind, how bad, in words, the figures, its records."""

    kind: str  # latency_regression | error_spike | cost_per_request_rising | context_creep | finetune_divergence
    severity: str  # high | medium | low
    text: str
    values: dict[str, Scalar]
    sources: list[Source]


class Driver(TypedDict):
    """A health signal costing (or earning) the account points, in words."""

    component: str
    metric: str
    value: Scalar
    points_lost: float
    text: str


class Drivers(TypedDict):
    """The signals costing an account most points, and its strongest positives."""

    negative: list[Driver]
    positive: list[Driver]


class Component(TypedDict):
    """One scorecard component of an account's health: its value and the points it gives."""

    component: str
    label: str
    weight: float
    value: float | None
    points: float | None


class HealthBreakdown(TypedDict):
    """`crm.health_breakdown`: score, band and trend, components, drivers and strengths."""

    account_id: int
    name: str
    score: float
    band: str
    score_30d_ago: float | None
    trend: float | None
    components: list[Component]
    drivers: list[Driver]
    strengths: list[Driver]
    sources: list[Source]


class ContactBrief(TypedDict):
    """A contact as the overview lists it."""

    name: str
    role: str | None
    champion: bool
    left_on: str | None


class AccountOverview(TypedDict):
    """`crm.account_overview`: who the customer is."""

    account_id: int
    name: str
    segment: str
    industry: str
    arr: float
    owner: str | None
    lifecycle_stage: str
    plan: str | None
    seats: int | None
    renewal_date: str | None
    days_to_renewal: int | None
    health_score: float
    band: str
    contacts: list[ContactBrief]
    sources: list[Source]


class Week(TypedDict):
    """A week of usage: requests, peak active users and seats, spend."""

    week: str
    requests: float
    active_users: float
    seats_used: float
    spend: float


class UsageTrend(TypedDict, total=False):
    """`crm.usage_trend`: weekly usage; the two changes only when there is telemetry."""

    account_id: int
    name: str
    usage_change_30d: float | None
    seat_utilization: float | None
    weeks: list[Week]
    sources: list[Source]


class ModelPerformance(TypedDict):
    """`crm.model_performance`: the last 14 days' latency, errors, tokens and cost, and the detectors' findings."""

    account_id: int
    name: str
    model_now: str | None
    p50_ms: float | None
    p95_ms: float | None
    error_rate: float | None
    input_tokens_per_request: int | None
    cost_per_request: float | None
    eval_score: float | None
    findings: list[Detection]
    sources: list[Source]


class TicketItem(TypedDict):
    """One support ticket."""

    id: int
    priority: str
    status: str
    opened: str
    subject: str
    body: str | None


class Tickets(TypedDict):
    """`crm.list_tickets`: an account's tickets, newest first."""

    account_id: int
    name: str
    tickets: list[TicketItem]
    sources: list[Source]


class NpsItem(TypedDict):
    """One NPS answer."""

    id: int
    score: int
    date: str
    comment: str | None
    category: str  # detractor | passive | promoter


class NpsSummary(TypedDict):
    """`crm.nps_summary`: the last year's NPS answers, newest first."""

    account_id: int
    name: str
    responses: list[NpsItem]
    latest: NpsItem | None
    sources: list[Source]


class MilestoneItem(TypedDict):
    """One onboarding milestone, as of the tool context's date."""

    id: int
    name: str
    owner: str | None
    due: str
    completed: str | None
    status: str
    overdue: bool
    days_overdue: int


class PlanInfo(TypedDict):
    """An onboarding plan."""

    id: int
    name: str
    started: str
    target: str
    status: str


class OnboardingStatus(TypedDict, total=False):
    """`crm.onboarding_status`: the plan (None without one), its milestones, what is overdue and next."""

    account_id: int
    name: str
    plan: PlanInfo | None
    progress: float
    milestones: list[MilestoneItem]
    overdue: list[MilestoneItem]
    next: MilestoneItem | None
    sources: list[Source]


class RenewalDriver(TypedDict):
    """A feature pulling the renewal model's P(renew) down: its effect (coefficient x standardised value)."""

    feature: str
    effect: float


class RenewalOutlook(TypedDict):
    """`crm.renewal_outlook`: date, ARR, health, P(renew) and why, and the planning segment."""

    account_id: int
    name: str
    renewal_date: str | None
    days_to_renewal: int | None
    arr: float
    health_score: float
    band: str
    p_renew: float | None
    p_renew_drivers: list[RenewalDriver]
    risk_drivers: list[Driver]
    segment: str
    segment_reason: str
    sources: list[Source]


Recipient = TypedDict("Recipient", {
    "name": str,
    "email": str,
    "sources": list[Source],
    "contact_id": NotRequired[int],  # a customer contact
    "account_id": NotRequired[int],
    "role": NotRequired[str],  # the CRM title; "you" or "account owner" for a CSM
    "champion": NotRequired[bool],
    "account": NotRequired[str],
    "left_on": NotRequired[str],  # the day a contact left the company ("" while they are there)
    "csm_id": NotRequired[int],  # a CSM (the asker, or an account's owner)
    "slack_user_id": NotRequired[str],
    "timezone": NotRequired[str],
    "as": NotRequired[str],  # the role a draft names them by ("executive sponsor"), when their title says it
})
"""Someone a draft can go to (`tools.contacts`): a customer contact, an account's owner, or the asker."""


class ContractRenewal(TypedDict):
    """An account's active contract's renewal date and plan."""

    renewal_date: str
    plan: str | None
    sources: list[Source]


class AccountHit(TypedDict):
    """`find_account`: the account a name means."""

    account_id: int
    name: str
    sources: list[Source]


class OverdueMilestone(TypedDict):
    """`onboarding.overdue`: an overdue milestone as a plain row."""

    account: str
    account_id: int
    id: int
    name: str
    due: str
    days_overdue: int
    status: str


class KeptFact(TypedDict):
    """`recall.remember`: a fact kept about an account."""

    id: int
    account_id: int
    account: str
    text: str
    said_by: str


class Segment(TypedDict):
    """An account's planning segment and why."""

    segment: str  # at risk | growth potential | high-value | healthy
    reason: str


class PortfolioRow(TypedDict):
    """One account of a portfolio list."""

    account_id: int
    name: str
    owner: str | None
    segment: str
    segment_reason: str
    arr: float
    score: float
    band: str
    trend: float | None
    renewal_date: str | None
    days_to_renewal: int | None
    p_renew: float | None


class Portfolio(TypedDict):
    """`crm.portfolio`: how many accounts matched, the first `limit` of them worst first."""

    count: int
    accounts: list[PortfolioRow]
    ids: list[int]  # every account that matched, worst first
    sources: list[Source]
