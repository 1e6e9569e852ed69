"""Who to write to: an account's contact by role or by name, the account's owner, and the people behind a draft.

Every function checks access first and returns plain JSON with the record it came from (`sources`),
so a draft can show where each name, role and address was read.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, utils
from sqlalchemy import select

from core.errors import NotFoundError
from integrations.crm.models import CSM, Account, Contact, Contract
from tools import access
from tools.crm import ToolContext, src
from tools.results import ContractRenewal, Recipient

ROLES: dict[str, str] = {
    "champion": "champion",
    "executive": "executive sponsor",
    "admin": "admin",
    "technical": "technical contact",
    "procurement": "procurement contact",
    "owner": "account owner",
}
"""The roles a request can name, and how a draft says them."""

# How a contact's CRM title ranks for a role (lower is a better fit); a title matching none does not fit.
_TITLE_RANK: dict[str, list[str]] = {
    "executive": [r"\bsponsor\b|economic buyer", r"\bchief\b|\bc[eotfi]o\b|\bpresident\b|\bfounder\b",
                  r"\bsvp\b|\bevp\b|\bvp\b|vice president", r"\bhead of\b", r"\bdirector\b"],
    "admin": [r"\badmin(istrator)?\b", r"\bit\b"],
    "technical": [r"technical (contact|lead)|\btech lead\b", r"\bengineer\b|developer|architect",
                  r"\bplatform\b|\bml\b|\bai\b|engineering|\bit\b"],
    "procurement": [r"procurement|purchasing|sourcing|vendor management", r"finance|billing|\bcfo\b"],
}


def _person(c: Contact, account: str) -> Recipient:
    label = f"{c.name}, {c.role}" if c.role else c.name
    return {"contact_id": c.id, "account_id": c.account_id, "name": c.name, "role": c.role or "",
            "email": c.email or "", "champion": bool(c.is_champion), "account": account,
            "left_on": c.left_on.isoformat() if c.left_on else "",
            "sources": [src("contact", c.id, c.last_engaged, label)]}


def _current(ctx: ToolContext, account_id: int, left: bool = False) -> tuple[str, list[Contact]]:
    """The account's name and its contacts who have not left (who have, with `left`), after the access check."""
    gone = Contact.left_on.is_not(None) if left else Contact.left_on.is_(None)
    with ctx.store.session() as s:
        name = s.scalar(select(Account.name).where(Account.id == account_id))
        if name is None:
            raise NotFoundError(f"Account {account_id} does not exist.")
        access.check(ctx.store, ctx.viewer, account_id, "That account")
        people = list(s.scalars(select(Contact).where(Contact.account_id == account_id, gone)
                                .order_by(Contact.left_on.desc() if left else Contact.id, Contact.id)))
    return name, people


def contacts(ctx: ToolContext, account_id: int) -> list[Recipient]:
    """The account's current contacts (those who have not left), each with its source."""
    name, people = _current(ctx, account_id)
    return [_person(c, name) for c in people]


def former(ctx: ToolContext, account_id: int, role: str | None = None) -> list[Recipient]:
    """The account's contacts who have left the company (`left_on` says when), latest departure first.

    With `role` "champion", only the former champions; so a draft or an answer can say who left, never
    present them as current.
    """
    name, people = _current(ctx, account_id, left=True)
    return [_person(c, name) for c in people if role != "champion" or c.is_champion]


def contact_by_role(ctx: ToolContext, account_id: int, role: str) -> Recipient | None:
    """The current contact who best fills a role (champion, executive, admin, technical, procurement).

    The champion is the contact flagged as champion; the other roles are read from the CRM title,
    the most senior or most specific title first. None when nobody at the account fits.
    """
    name, people = _current(ctx, account_id)
    if role == "champion":
        hit = next((c for c in people if c.is_champion), None)
        return _person(hit, name) if hit else None
    ranks = _TITLE_RANK.get(role)
    if ranks is None:
        raise ValueError(f"Unknown contact role {role!r}; use one of {', '.join(ROLES)}.")
    best: tuple[int, int, Contact] | None = None
    for c in people:
        title = (c.role or "").lower()
        rank = next((i for i, pat in enumerate(ranks) if re.search(pat, title)), None)
        if rank is not None and (best is None or (rank, c.id) < best[:2]):
            best = (rank, c.id, c)
    return _person(best[2], name) if best else None


def titles_for(role: str, titles: list[str]) -> list[str]:
    """The CRM titles (of `titles`) that fill a role ("technical": "ML Engineer", "Head of AI Platform"...).

    The titles of the role's best-fitting rank that any title reaches: "IT Admin" for "admin" even where some
    other title mentions IT. [] when no title fits the role.
    """
    for pat in _TITLE_RANK.get(role, []):
        hit = [t for t in titles if re.search(pat, t.lower())]
        if hit:
            return hit
    return []


def fills(person: Recipient, role: str) -> bool:
    """Whether a contact's CRM title itself says the role (a "Head of" found for "executive" is not a sponsor)."""
    if role in ("champion", "owner"):
        return True
    ranks = _TITLE_RANK.get(role, [])[:3 if role == "executive" else None]
    return any(re.search(pat, str(person.get("role") or "").lower()) for pat in ranks)


_ABBREVIATIONS = {"ops": "operations", "eng": "engineering", "engr": "engineer", "mgr": "manager", "dir": "director",
                  "svp": "senior vice president", "proc": "procurement", "infra": "infrastructure"}
_TITLE_STOP = {"of", "the", "and", "for", "&", "at"}


def contact_by_title(ctx: ToolContext, account_id: int, text: str, left: bool = False) -> Recipient | None:
    """The current contact whose CRM title the text spells out ("their director of ops", "the ML engineer").

    Every word of the title must be in the text (or a word of the text must be its start or its usual
    abbreviation); the longest such title wins. None when no title is spelled out. With `left`, the
    same among the contacts who have left (to say that the person asked for is gone).
    """
    name, people = _current(ctx, account_id, left)
    words = [w for w in re.findall(r"[a-z0-9&]+", text.lower()) if w not in _TITLE_STOP]
    expanded = set(words) | {e for w in words for e in _ABBREVIATIONS.get(w, "").split()}

    def said(tok: str) -> bool:
        return tok in expanded or any(len(w) >= 3 and (tok.startswith(w) or w.startswith(tok)) and
                                      abs(len(w) - len(tok)) <= 3 for w in expanded)
    best: tuple[int, int, Contact] | None = None
    for c in people:
        toks = [t for t in re.findall(r"[a-z0-9&]+", (c.role or "").lower()) if t not in _TITLE_STOP]
        if toks and all(said(t) for t in toks) and (best is None or (-len(toks), c.id) < best[:2]):
            best = (-len(toks), c.id, c)
    return _person(best[2], name) if best else None


def contact_by_name(ctx: ToolContext, name: str, account_ids: list[int] | None = None,
                    left: bool = False) -> list[Recipient]:
    """Current contacts of these accounts (default: every live account) the viewer may see, named close to `name`.

    A full name is matched leniently; a single word must be (nearly) a first or last name. The best
    matches come first; several equally close people are all returned, for the caller to ask which.
    With `left`, the contacts who have left instead (to say so rather than "not found").
    """
    query = name.strip()
    if len(query) < 2:
        return []
    q = (select(Contact, Account.name).join(Account, Account.id == Contact.account_id)
         .where(Contact.left_on.is_not(None) if left else Contact.left_on.is_(None),
                Account.lifecycle_stage != "churned"))
    if account_ids is not None:
        q = q.where(Contact.account_id.in_(account_ids))
    owners = access.visible_owner_ids(ctx.store, ctx.viewer)
    if owners is not None:
        q = q.where(Account.owner_id.in_(owners))
    with ctx.store.session() as s:
        rows = s.execute(q).all()
    def score(full: str) -> float:
        if " " in query:  # a full name: word order and small typos allowed, but every word must be there
            return fuzz.token_sort_ratio(query, full, processor=utils.default_process)
        return max(fuzz.ratio(query.lower(), part.lower()) for part in full.split())  # a first or last name
    scored = sorted(((score(c.name), c.id) for c, _ in rows), reverse=True)
    if not scored or scored[0][0] < 85:
        return []
    keep = {cid for sc, cid in scored if sc >= scored[0][0] - 2}
    return [_person(c, acct) for c, acct in rows if c.id in keep]


def owner(ctx: ToolContext, account_id: int) -> Recipient:
    """The account's owner (the CSM): name, e-mail, Slack user id and timezone, with the account as source."""
    with ctx.store.session() as s:
        row = s.execute(select(Account.name, CSM).outerjoin(CSM, CSM.id == Account.owner_id)
                        .where(Account.id == account_id)).first()
    if row is None:
        raise NotFoundError(f"Account {account_id} does not exist.")
    access.check(ctx.store, ctx.viewer, account_id, "That account")
    acct, csm = row
    if csm is None:
        return {"name": "", "email": "", "slack_user_id": "", "timezone": "UTC", "account": acct,
                "sources": [src("account", account_id, None, f"{acct}: no owner")]}
    return {"csm_id": csm.id, "name": csm.name, "email": csm.email, "slack_user_id": csm.slack_user_id or "",
            "timezone": csm.timezone or "UTC", "account": acct,
            "sources": [src("account", account_id, None, f"{acct}, owned by {csm.name}")]}


def person(ctx: ToolContext) -> Recipient:
    """The person asking, as a recipient (for a reminder to themselves): name, e-mail, Slack id, timezone."""
    with ctx.store.session() as s:
        csm = s.get(CSM, ctx.viewer.csm_id) if ctx.viewer.csm_id is not None else None
    if csm is None:
        return {"name": ctx.viewer.name, "email": ctx.viewer.email, "slack_user_id": "", "timezone": "UTC",
                "sources": []}
    return {"csm_id": csm.id, "name": csm.name, "email": csm.email, "slack_user_id": csm.slack_user_id or "",
            "timezone": csm.timezone or "UTC", "sources": [src("csm", csm.id, None, f"{csm.name} ({csm.email})")]}


def renewal(ctx: ToolContext, account_id: int) -> ContractRenewal | None:
    """The account's active contract's renewal date, with the contract as source (None without one)."""
    access.check(ctx.store, ctx.viewer, account_id, "That account")
    with ctx.store.session() as s:
        c = s.scalars(select(Contract).where(Contract.account_id == account_id, Contract.status == "active")
                      .order_by(Contract.renewal_date)).first()
    if c is None:
        return None
    return {"renewal_date": c.renewal_date.isoformat(), "plan": c.plan,
            "sources": [src("contract", c.id, c.renewal_date, f"Contract renewing {c.renewal_date.isoformat()}")]}
