"""Outbox, scheduler lease, follow-up state."""

from alembic import op

from integrations.crm import schema

revision = "0005"
down_revision = '0004'


def upgrade() -> None:
    """Apply this revision."""
    schema.v5_outbox_and_scheduler(op.get_bind())
