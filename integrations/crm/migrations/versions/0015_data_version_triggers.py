"""PostgreSQL: triggers move the data version on every write to a CRM table, whoever writes."""

from alembic import op

from integrations.crm import schema

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    """Apply this revision."""
    schema.v15_data_version_triggers(op.get_bind())
