"""Alembic's environment for the CRM store: run on the connection `CRMStore.upgrade` hands over."""

from alembic import context

from integrations.crm.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
