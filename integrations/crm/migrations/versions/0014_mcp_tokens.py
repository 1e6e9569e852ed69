"""Bearer tokens for the MCP server (hashed, revocable)."""

from alembic import op

from integrations.crm import schema

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    """Apply this revision."""
    schema.v14_mcp_tokens(op.get_bind())
