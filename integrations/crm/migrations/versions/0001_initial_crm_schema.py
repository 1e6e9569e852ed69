"""Initial CRM schema."""

from alembic import op

from integrations.crm import schema

revision = "0001"
down_revision = None


def upgrade() -> None:
    """Apply this revision."""
    schema.v1_initial(op.get_bind())
