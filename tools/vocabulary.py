"""The CRM's own vocabulary (models, teams, CSMs, industries, plans, roles, milestone names), cached a minute."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select

from integrations.crm.models import (
    CSM,
    Account,
    Contact,
    Contract,
    FineTuneJob,
    Milestone,
    OnboardingPlan,
    TelemetryDaily,
    Ticket,
)
from integrations.crm.store import CRMStore


@dataclass(frozen=True)
class Vocabulary:
    """Names the CRM itself uses: models, teams, CSMs, industries, plans."""

    models: list[str]
    teams: list[str]
    csms: list[str]
    industries: list[str]
    plans: list[str]
    roles: list[str] = field(default_factory=list)
    milestones: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # contacts' names (who may see each is decided at query time)
    statuses: dict[str, list[str]] = field(default_factory=dict)  # entity -> the status values it stores
    csm_teams: dict[str, str] = field(default_factory=dict)  # CSM or manager -> their team ("Noah's team": West)


_VOCAB: dict[int, tuple[float, Vocabulary]] = {}
VOCAB_TTL_S = 60.0


def vocabulary(store: CRMStore) -> Vocabulary:
    """The CRM's vocabulary (a few DISTINCT queries, kept for a minute per store)."""
    hit = _VOCAB.get(id(store))
    if hit is not None and time.monotonic() - hit[0] < VOCAB_TTL_S:
        return hit[1]
    vocab = _read_vocabulary(store)
    _VOCAB[id(store)] = (time.monotonic(), vocab)
    return vocab


def _read_vocabulary(store: CRMStore) -> Vocabulary:
    with store.session() as s:
        models = [m for m in s.scalars(select(TelemetryDaily.model_name).distinct()) if m]
        teams = [t for t in s.scalars(select(CSM.team).distinct()) if t]
        csms = list(s.scalars(select(CSM.name).where(CSM.role != "admin")))
        csm_teams = {n: t for n, t in s.execute(select(CSM.name, CSM.team).where(CSM.role != "admin")) if n and t}
        inds = [i for i in s.scalars(select(Account.industry).distinct()) if i]
        plans = [p for p in s.scalars(select(Contract.plan).distinct()) if p]
        roles = [r for r in s.scalars(select(Contact.role).distinct()) if r]
        steps = [m for m in s.scalars(select(Milestone.name).distinct().limit(500)) if m]
        people = [p for p in s.scalars(select(Contact.name).distinct().limit(20000)) if p]
        statuses = {entity: [v for v in s.scalars(select(col).distinct().limit(50)) if v]
                    for entity, col in (("tickets", Ticket.status), ("fine_tunes", FineTuneJob.status),
                                        ("milestones", Milestone.status), ("plans", OnboardingPlan.status))}
    return Vocabulary(sorted(models, key=len, reverse=True), teams, csms, inds, plans, roles, steps, people, statuses,
                      csm_teams)

