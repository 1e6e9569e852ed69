"""Thumbs up and down on answers and briefings."""

from alembic import op

from integrations.crm import schema

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    """Apply this revision."""
    schema.v9_feedback(op.get_bind())
