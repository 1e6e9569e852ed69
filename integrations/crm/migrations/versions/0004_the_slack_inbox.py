"""The Slack inbox."""

from alembic import op

from integrations.crm import schema

revision = "0004"
down_revision = '0003'


def upgrade() -> None:
    """Apply this revision."""
    schema.v4_slack_inbox(op.get_bind())
