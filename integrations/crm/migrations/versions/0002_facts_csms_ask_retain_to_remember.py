"""Facts CSMs ask Retain to remember."""

from alembic import op

from integrations.crm import schema

revision = "0002"
down_revision = '0001'


def upgrade() -> None:
    """Apply this revision."""
    schema.v2_remembered_facts(op.get_bind())
