"""Open onboarding milestones: one query for the sweep, the briefing, App Home and the portfolio."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from integrations.crm.models import CSM, Account, Milestone, OnboardingPlan
from integrations.crm.store import CRMStore
from tools.results import OverdueMilestone


@dataclass
class OpenMilestone:
    """A milestone not yet completed, with its account and the account's owner."""

    milestone: Milestone
    account_id: int
    account: str
    owner: CSM | None

    def days_overdue(self, today: date) -> int:
        """Days past due (0 when not yet due)."""
        return max(0, (today - self.milestone.due_date).days)

    def stalled(self, since: date) -> bool:
        """In progress or blocked, and not updated since `since`."""
        m = self.milestone
        return m.status in ("in_progress", "blocked") and (m.updated_on or m.due_date) < since


def open_milestones(store: CRMStore, account_ids: Iterable[int] | None = None) -> list[OpenMilestone]:
    """Every open milestone of live accounts (or of `account_ids`), earliest due first."""
    q = (select(Milestone, OnboardingPlan.account_id, Account.name, CSM)
         .join(OnboardingPlan, Milestone.plan_id == OnboardingPlan.id)
         .join(Account, Account.id == OnboardingPlan.account_id)
         .outerjoin(CSM, CSM.id == Account.owner_id)
         .where(Milestone.completed_date.is_(None), Account.lifecycle_stage != "churned")
         .order_by(Milestone.due_date))
    if account_ids is not None:
        q = q.where(OnboardingPlan.account_id.in_(list(account_ids)))
    with store.session() as s:
        return [OpenMilestone(m, aid, name, csm) for m, aid, name, csm in s.execute(q).all()]


def overdue(store: CRMStore, today: date, account_ids: Iterable[int] | None = None) -> list[OverdueMilestone]:
    """Overdue milestones as plain rows, most overdue first."""
    rows: list[OverdueMilestone] = [
        {"account": o.account, "account_id": o.account_id, "id": o.milestone.id, "name": o.milestone.name,
         "due": o.milestone.due_date.isoformat(), "days_overdue": o.days_overdue(today),
         "status": o.milestone.status}
        for o in open_milestones(store, account_ids) if o.milestone.due_date < today]
    return sorted(rows, key=lambda r: -r["days_overdue"])
