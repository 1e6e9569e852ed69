"""Needs profiles and the approved-action log."""

from alembic import op

from integrations.crm import schema

revision = "0003"
down_revision = '0002'


def upgrade() -> None:
    """Apply this revision."""
    schema.v3_needs_and_actions(op.get_bind())
