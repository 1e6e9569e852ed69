"""Inbox claims: the worker, its lease, and the thread order."""

from alembic import op

from integrations.crm import schema

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    """Apply this revision."""
    schema.v7_inbox_claims(op.get_bind())
