"""Who may see which account, enforced in code: a CSM their own, a manager their team's, an admin all."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select

from core.errors import AccessDenied, NotFoundError
from integrations.crm.models import CSM, Account
from integrations.crm.store import CRMStore


@dataclass(frozen=True)
class Asker:
    """The person asking, resolved once per event (a Slack event, a CLI command, an MCP call, a job).

    Made only by `resolve_asker` from an identity (email, Slack user id, name), then passed down to
    every tool call, which decides scope from it in code. `scope_team` narrows it to one team's
    accounts (a team's Slack channel: `in_team`); it never widens what the person may see.
    """

    csm_id: int | None
    name: str
    role: str  # csm | manager | admin
    email: str = ""
    team: str | None = None
    scope_team: str | None = None  # set in a team's Slack channel: only that team's accounts
    key: str = ""
    """The identity it was resolved from (a Slack user id, an email, a name): what a conversation records."""

    @property
    def is_admin(self) -> bool:
        """Admins see every account."""
        return self.role == "admin"

    def in_team(self, team: str) -> Asker:
        """The same person asking in a team's channel: only that team's accounts they may already see."""
        return replace(self, scope_team=team)


Viewer = Asker  # the name tools used before `Asker`; the same type


class Deactivated(NotFoundError):
    """The person exists in Retain but was deactivated: they get no access, and are told why."""


ADMIN = Asker(csm_id=None, name="admin", role="admin")
OPERATOR = "!operator"
"""The person at the terminal with no `--as` and no `cli_user` setting: the operator's admin view.

No Slack user id, email or name starts with "!", so nothing that arrives from Slack can become it.
"""


def resolve_asker(store: CRMStore, who: str | None) -> Asker:
    """Find a CSM by email, Slack user id or name; OPERATOR is the operator's admin view.

    An empty identity has no access (NotFoundError): a Slack event without a user must never read data.
    The identity is matched whole: nothing in it can change the scope (a team channel's narrowing is
    `Asker.in_team`, decided by the caller from its own configuration).
    """
    if who == OPERATOR:
        return Asker(csm_id=None, name="operator", role="admin", key=OPERATOR)
    if not (who or "").strip():
        raise NotFoundError("No identity was given, so no account data can be shared. Say who you are "
                            "(--as EMAIL, or a Slack user mapped to a CSM).")
    assert who is not None
    key = who.strip().lower()
    with store.session() as s:
        csm = s.scalars(select(CSM).where(or_(
            func.lower(CSM.email) == key, func.lower(CSM.slack_user_id) == key,
            func.lower(CSM.name) == key))).first()
    if csm is None:
        raise NotFoundError(f"No CSM called '{who}'. Use an email, Slack user id or full name "
                            "from `retain csms`.")
    if not csm.active:
        raise Deactivated(f"{csm.name} is deactivated in Retain, so no account data can be shared. "
                            "An admin can add them again with `retain csms add`.")
    return Asker(csm_id=csm.id, name=csm.name, role=csm.role, email=csm.email, team=csm.team, key=who.strip())


def visible_owner_ids(store: CRMStore, viewer: Asker) -> set[int] | None:
    """The CSM ids whose accounts the asker may see; None means every account."""
    if viewer.scope_team is not None:
        with store.session() as s:
            team = set(s.scalars(select(CSM.id).where(CSM.team == viewer.scope_team)))
        own = visible_owner_ids(store, replace(viewer, scope_team=None))
        return team if own is None else team & own
    if viewer.is_admin:
        return None
    if viewer.csm_id is None:
        return set()
    ids = {viewer.csm_id}
    if viewer.role == "manager":
        with store.session() as s:
            ids |= set(s.scalars(select(CSM.id).where(CSM.manager_id == viewer.csm_id)))
    return ids


def outside_scope(store: CRMStore, viewer: Asker, teams: list[str], owners: list[str]) -> str | None:
    """Why a question's team or CSM lies wholly outside what the asker may see, in one line; None when it does not.

    "what about West?" from an East manager or "what about Marcus?" from a CSM is a refusal, never a count of 0
    as if it were a fact about that team or person.
    """
    mine = visible_owner_ids(store, viewer)
    if mine is None:
        return None
    own = "your own accounts" if viewer.role == "csm" else \
        f"the {viewer.scope_team or viewer.team} team's accounts" if viewer.scope_team or viewer.team else \
        "the accounts you own or manage"
    with store.session() as s:
        for team in teams:
            ids = set(s.scalars(select(CSM.id).where(func.lower(CSM.team) == team.lower())))
            if ids and not ids & mine:
                return f"The {team} team is outside your scope: you see {own}."
        for name in owners:
            csm = s.scalars(select(CSM).where(func.lower(CSM.name) == name.lower())).first()
            if csm is not None and csm.id not in mine:
                return f"{csm.name}'s accounts are outside your scope: you see {own}."
    return None


def can_see(store: CRMStore, viewer: Asker, account_id: int) -> bool:
    """Whether the viewer may see this account."""
    owners = visible_owner_ids(store, viewer)
    if owners is None:
        return True
    with store.session() as s:
        owner = s.scalar(select(Account.owner_id).where(Account.id == account_id))
    return owner in owners


DECIDE_REFUSAL = ("This draft is for an account you don't own: only its owner, their manager or an admin can "
                  "approve, edit or skip it. Nothing was changed.")


def may_decide(store: CRMStore, viewer: Asker, account_id: int) -> bool:
    """Whether the viewer may approve, edit or skip a draft for this account.

    Only the account's owner, the owner's manager or an admin may; a team-channel scope changes nothing.
    """
    if viewer.is_admin:
        return True
    if viewer.csm_id is None:
        return False
    with store.session() as s:
        owner = s.scalar(select(Account.owner_id).where(Account.id == account_id))
        if owner is None:
            return False
        if owner == viewer.csm_id:
            return True
        boss = s.scalar(select(CSM.manager_id).where(CSM.id == owner))
    return viewer.role == "manager" and boss == viewer.csm_id


def may_brief(store: CRMStore, viewer: Asker, subject: Asker) -> bool:
    """Whether the viewer may read `subject`'s briefing: themselves, their manager, or an admin."""
    if viewer.is_admin or (viewer.csm_id is not None and viewer.csm_id == subject.csm_id):
        return True
    if viewer.role != "manager" or viewer.csm_id is None or subject.csm_id is None:
        return False
    with store.session() as s:
        return s.scalar(select(CSM.manager_id).where(CSM.id == subject.csm_id)) == viewer.csm_id


def check(store: CRMStore, viewer: Asker, account_id: int, name: str) -> None:
    """Raise AccessDenied, in plain words, when the viewer may not see the account."""
    if not can_see(store, viewer, account_id):
        raise AccessDenied(
            f"{name} is not in your portfolio, so I can't share its details. "
            "Ask its owner, your manager or an admin if you need access."
        )


def delivery_refusal(store: CRMStore, channel: str, account_ids: list[int]) -> str | None:
    """Why a queued message may no longer go to `channel` (None: it may), checked as it is sent.

    A message to a person (their Slack user id) goes only to someone still active who still sees every
    account it names; a channel's audience is the operator's configuration (configs/slack.yaml).
    """
    if channel[:1] not in ("U", "W"):
        return None
    with store.session() as s:
        csm = s.scalars(select(CSM).where(func.lower(CSM.slack_user_id) == channel.lower())).first()
    if csm is None:
        return "its recipient is no longer a person in Retain"
    if not csm.active:
        return f"{csm.name} was deactivated after it was queued"
    owners = visible_owner_ids(store, Asker(csm_id=csm.id, name=csm.name, role=csm.role, email=csm.email,
                                            team=csm.team, key=csm.slack_user_id or ""))
    if owners is None or not account_ids:
        return None
    with store.session() as s:
        unseen = s.scalar(select(func.count()).select_from(Account).where(
            Account.id.in_(account_ids), or_(Account.owner_id.is_(None), Account.owner_id.not_in(owners or {-1}))))
    return f"{csm.name} no longer sees {unseen} of the accounts it names" if unseen else None
