"""Each text's tone, kept by sentiment version and text digest (a rescore computes only new texts)."""

from alembic import op

from integrations.crm import schema

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    """Apply this revision."""
    schema.v16_text_sentiments(op.get_bind())
