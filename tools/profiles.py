"""Stored needs profiles: what the needs agent extracted for an account, kept until its records change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from integrations.crm.models import NeedsProfile
from tools.context import ToolContext


class NeedItem(TypedDict):
    """One item of a needs profile: the sentence, and the record id it came from ("contact:<id>" for people)."""

    text: str
    source: str


Profile = dict[str, list[NeedItem]]
"""A needs profile: items per field (goals, use_cases, success_criteria, pain_points, stakeholders)."""


@dataclass(frozen=True)
class StoredProfile:
    """A needs profile as stored: the items, the digest of the records it was built from, and how."""

    profile: Profile
    digest: str
    method: str  # "llm" | "rules"


def stored(ctx: ToolContext, account_id: int) -> StoredProfile | None:
    """The account's stored needs profile, if any."""
    with ctx.store.session() as s:
        row = s.get(NeedsProfile, account_id)
        return StoredProfile(row.profile, row.digest, row.method) if row is not None else None


def save(ctx: ToolContext, account_id: int, profile: StoredProfile) -> None:
    """Store (or replace) the account's needs profile."""
    with ctx.store.session() as s:
        row = s.get(NeedsProfile, account_id)
        if row is None:
            row = NeedsProfile(account_id=account_id)
            s.add(row)
        row.profile, row.digest, row.method, row.updated_at = profile.profile, profile.digest, profile.method, \
            datetime.now()
        s.commit()
