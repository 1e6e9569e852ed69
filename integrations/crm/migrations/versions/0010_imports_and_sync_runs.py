"""External ids on fine-tunes, onboarding plans and milestones; sync runs."""

from alembic import op

from integrations.crm import schema

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    """Apply this revision."""
    schema.v10_imports_and_sync_runs(op.get_bind())
