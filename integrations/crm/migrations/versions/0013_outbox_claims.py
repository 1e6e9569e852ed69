"""Outbox claims (who is posting a row, until when) and the accounts a message names."""

from alembic import op

from integrations.crm import schema

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    """Apply this revision."""
    schema.v13_outbox_claims(op.get_bind())
