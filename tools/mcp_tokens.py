"""Per-person bearer tokens for Retain's MCP server over HTTP: shown once, kept only as a hash, revocable.

A token stands for one person: a request bearing it sees what that person sees, no more. The token
itself (`rtn_` and 43 random URL-safe characters) is printed once when it is made; the store keeps
its SHA-256, so a copy of the database gives no one a working token. Revoking keeps the row (when it
was made, last used, revoked) as history.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy import func, select

from core.errors import NotFoundError, RetainError
from integrations.crm.models import CSM, MCPToken
from integrations.crm.store import CRMStore

PREFIX = "rtn_"
TOUCH_S = 60  # `last_used_at` is kept to the minute


@dataclass(frozen=True)
class Bearer:
    """Who a valid token stands for: the token's id (its rate limit) and the person's email."""

    token_id: int
    email: str


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TokenRow(TypedDict):
    """A token as listed (never the token itself): whose, its label, when made, last used and revoked."""

    id: int
    email: str
    name: str
    role: str
    label: str
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    active: bool


def add(store: CRMStore, email: str, label: str = "") -> tuple[str, TokenRow]:
    """Make a token for an active person; (the token, shown once; its row without the token)."""
    key = email.strip().lower()
    with store.session() as s:
        csm = s.scalars(select(CSM).where(func.lower(CSM.email) == key)).first()
        if csm is None:
            raise NotFoundError(f"No person with the email '{email}'. Add them first with `retain csms add`.")
        if not csm.active:
            raise RetainError(f"{csm.name} is deactivated, so they get no token. Add them again with "
                              "`retain csms add` first.")
        token = PREFIX + secrets.token_urlsafe(32)
        row = MCPToken(digest=digest(token), csm_id=csm.id, label=label.strip()[:100], created_at=_now())
        s.add(row)
        s.flush()
        out = _row(row, csm)
    return token, out


def _row(t: MCPToken, csm: CSM) -> TokenRow:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat(timespec="seconds") if v else None

    return {"id": t.id, "email": csm.email, "name": csm.name, "role": csm.role, "label": t.label,
            "created_at": iso(t.created_at), "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at),
            "active": t.revoked_at is None and csm.active}


def listing(store: CRMStore) -> list[TokenRow]:
    """Every token ever made (never the token itself), newest first."""
    with store.session() as s:
        rows = s.execute(select(MCPToken, CSM).join(CSM, CSM.id == MCPToken.csm_id).order_by(MCPToken.id.desc()))
        return [_row(t, c) for t, c in rows]


def revoke(store: CRMStore, which: str) -> int:
    """Revoke one token by its id, or every live token of a person by email; how many were revoked."""
    which = which.strip()
    with store.session() as s:
        q = select(MCPToken).where(MCPToken.revoked_at.is_(None))
        if which.isdigit():
            q = q.where(MCPToken.id == int(which))
        else:
            q = q.join(CSM, CSM.id == MCPToken.csm_id).where(func.lower(CSM.email) == which.lower())
        rows = list(s.scalars(q))
        if not rows:
            raise NotFoundError(f"No live token matches '{which}'. See `retain mcp tokens list` for ids and emails.")
        for t in rows:
            t.revoked_at = _now()
    return len(rows)


def verify(store: CRMStore, token: str) -> Bearer | None:
    """The person a presented token stands for; None when it is unknown, revoked or its person deactivated."""
    if not token.startswith(PREFIX):
        return None
    with store.session() as s:
        row = s.execute(select(MCPToken, CSM).join(CSM, CSM.id == MCPToken.csm_id)
                        .where(MCPToken.digest == digest(token))).first()
        if row is None:
            return None
        t, csm = row
        if t.revoked_at is not None or not csm.active:
            return None
        now = _now()
        if t.last_used_at is None or (now - t.last_used_at).total_seconds() >= TOUCH_S:
            t.last_used_at = now  # at most once a minute: a busy client is not a write per request
        return Bearer(token_id=t.id, email=csm.email)
