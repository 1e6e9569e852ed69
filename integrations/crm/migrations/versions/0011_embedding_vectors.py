"""The memory's vector cache in the database, shared by every worker and host."""

from alembic import op

from integrations.crm import schema

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    """Apply this revision."""
    schema.v11_embedding_vectors(op.get_bind())
