"""The declarative base every table of Retain's database derives from, and the per-account mixins."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every CRM table."""


class AccountRecord:
    """A record of one account: its own id and the account's."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)


class Imported(AccountRecord):
    """An account's record that can come from a CRM import (keyed there by `external_id`)."""

    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
