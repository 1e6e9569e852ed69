"""Memory as a tool: searches scoped, in code, to the accounts the asker may see; remembering facts.

The Chroma layer (`integrations.memory`) searches whatever it is told to. This module decides what
that is for one person: the account ids a hit may come from and the owner partitions to read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.errors import AccessDenied, NotFoundError
from integrations.crm.models import Account, RememberedFact
from integrations.crm.store import CRMStore
from tools import access
from tools.access import Viewer
from tools.results import KeptFact

if TYPE_CHECKING:  # chromadb is slow to import: only when memory is used
    from integrations.memory import Hit, Memory

MAX_FACT_CHARS = 2000


def allowed_accounts(store: CRMStore, viewer: Viewer) -> list[int] | None:
    """Account ids the viewer may see (None: all)."""
    owners = access.visible_owner_ids(store, viewer)
    if owners is None:
        return None
    with store.session() as s:
        return list(s.scalars(select(Account.id).where(Account.owner_id.in_(owners))))


def search(memory: Memory, query: str, viewer: Viewer, *, account_ids: list[int] | None = None,
           kinds: list[str] | None = None, k: int = 5, as_of: date | None = None,
           collections: tuple[str, ...] = ("accounts", "facts")) -> list[Hit]:
    """Chunks about the query from accounts the viewer may see (or the named ones, if all are visible)."""
    if not query.strip():
        raise NotFoundError("Empty search: say what to look for.")
    store = memory.store
    allowed = allowed_accounts(store, viewer)
    if account_ids is not None and allowed is not None and set(account_ids) - set(allowed):
        raise AccessDenied("Some of those accounts are not in your portfolio, so I can't search "
                           "their notes. Ask their owner, your manager or an admin.")
    scope = account_ids if account_ids is not None else allowed
    owners: set[int] | None
    if account_ids is not None:
        with store.session() as s:
            owners = {o or 0 for o in s.scalars(select(Account.owner_id).where(Account.id.in_(account_ids)))}
    else:
        visible = access.visible_owner_ids(store, viewer)
        owners = set(visible) if visible is not None else None
    return memory.search(query, scope=set(scope) if scope is not None else None, owners=owners,
                         named=account_ids is not None, kinds=kinds, k=k, as_of=as_of, collections=collections)


def remember(memory: Memory | None, store: CRMStore, viewer: Viewer, account_id: int, text: str, said_by: str,
             origin: str = "", when: datetime | None = None) -> KeptFact:
    """Keep a fact about an account in the CRM (and in memory when there is one); the viewer must see it."""
    text = text.strip()
    if not text:
        raise NotFoundError("Nothing to remember: say the fact after 'remember'.")
    if len(text) > MAX_FACT_CHARS:
        raise NotFoundError(f"That fact is longer than {MAX_FACT_CHARS:,} characters; keep it to a few sentences.")
    with store.session() as s:
        name = s.scalar(select(Account.name).where(Account.id == account_id))
    if name is None:
        raise NotFoundError(f"No account with id {account_id}.")
    access.check(store, viewer, account_id, "That account")
    with store.session() as s:
        fact = RememberedFact(account_id=account_id, text=text, said_by=said_by,
                              said_at=when or datetime.now().replace(microsecond=0), origin=origin)
        s.add(fact)
        s.commit()
        fid = fact.id
    if memory is not None:
        memory.sync_facts()
    return {"id": fid, "account_id": account_id, "account": name, "text": text, "said_by": said_by}
