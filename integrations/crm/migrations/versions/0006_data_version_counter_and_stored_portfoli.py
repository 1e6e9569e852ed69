"""Data version counter and stored portfolio scores."""

from alembic import op

from integrations.crm import schema

revision = "0006"
down_revision = '0005'


def upgrade() -> None:
    """Apply this revision."""
    schema.v6_data_version_and_score_runs(op.get_bind())
