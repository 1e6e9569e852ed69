"""People can be deactivated."""

from alembic import op

from integrations.crm import schema

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    """Apply this revision."""
    schema.v8_csm_active(op.get_bind())
