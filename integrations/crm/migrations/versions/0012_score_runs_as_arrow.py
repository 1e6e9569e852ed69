"""Stored scores as Arrow IPC files instead of pickles (old runs deleted, recomputed on use)."""

from alembic import op

from integrations.crm import schema

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    """Apply this revision."""
    schema.v12_score_runs_as_arrow(op.get_bind())
