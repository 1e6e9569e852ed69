"""What each schema revision does, called by the Alembic revisions in `migrations/versions`.

Revisions 0001 to 0006 were Retain's own numbered migrations before Alembic; a database made then
(its number in `retain_meta.schema_version`) is stamped at that revision and upgraded in place.
The first revisions create tables from today's models (`create_all`, skipping tables that exist);
new revisions use Alembic's operations (`op.add_column`, `op.alter_column` in batch mode on SQLite).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Boolean, Column, Connection, LargeBinary, String, inspect, text, true

from integrations.crm.models import OPERATIONAL, Base

_V1_TABLES = [
    "csms", "accounts", "contacts", "contracts", "telemetry_daily", "fine_tune_jobs", "tickets",
    "survey_responses", "onboarding_plans", "milestones", "activities", "renewal_events",
    "health_snapshots", "retain_meta",
]


def v1_initial(conn: Connection) -> None:
    """The CRM tables."""
    tables = [Base.metadata.tables[name] for name in _V1_TABLES]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def v2_remembered_facts(conn: Connection) -> None:
    """Facts CSMs ask Retain to remember."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["remembered_facts"]], checkfirst=True)


def v3_needs_and_actions(conn: Connection) -> None:
    """Needs profiles and the approved-action log."""
    tables = [Base.metadata.tables[n] for n in ("needs_profiles", "action_log")]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def v4_slack_inbox(conn: Connection) -> None:
    """The Slack inbox."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["slack_inbox"]], checkfirst=True)


def v5_outbox_and_scheduler(conn: Connection) -> None:
    """The outbox, the scheduler lease and follow-up state."""
    tables = [Base.metadata.tables[n] for n in ("outbox", "scheduler_lease", "followup_state")]
    Base.metadata.create_all(conn, tables=tables, checkfirst=True)


def v6_data_version_and_score_runs(conn: Connection) -> None:
    """The data version counter and stored portfolio scores."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["score_runs"]], checkfirst=True)
    conn.execute(text("DELETE FROM retain_meta WHERE key = 'data_version'"))
    conn.execute(text("INSERT INTO retain_meta(key, value) VALUES ('data_version', '1')"))


def v7_inbox_claims(conn: Connection) -> None:
    """Inbox claims: the worker, its lease, and the thread order (columns added where missing)."""
    have = {c["name"] for c in inspect(conn).get_columns("slack_inbox")}
    for col in ("claimed_by", "lease_until", "thread_key", "order_ts"):
        if col not in have:
            column = Base.metadata.tables["slack_inbox"].c[col]
            op.add_column("slack_inbox", Column(col, column.type, nullable=True))
    if "ix_slack_inbox_thread_key" not in {i["name"] for i in inspect(conn).get_indexes("slack_inbox")}:
        op.create_index("ix_slack_inbox_thread_key", "slack_inbox", ["thread_key"])


def v8_csm_active(conn: Connection) -> None:
    """People can be deactivated (kept for history, no longer acting)."""
    if "active" not in {c["name"] for c in inspect(conn).get_columns("csms")}:
        op.add_column("csms", Column("active", Boolean, nullable=False, server_default=true()))


def v9_feedback(conn: Connection) -> None:
    """Thumbs up and down on answers and briefings."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["feedback"]], checkfirst=True)


def v10_imports_and_sync_runs(conn: Connection) -> None:
    """External ids on fine-tunes, onboarding plans and milestones (so imports upsert); sync runs."""
    for table in ("fine_tune_jobs", "onboarding_plans", "milestones"):
        if "external_id" not in {c["name"] for c in inspect(conn).get_columns(table)}:
            op.add_column(table, Column("external_id", String(100), nullable=True))
            op.create_index(f"uq_{table}_external_id", table, ["external_id"], unique=True)
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["sync_runs"]], checkfirst=True)


def v11_embedding_vectors(conn: Connection) -> None:
    """The memory's vector cache in the database, shared by every worker and host."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["embedding_vectors"]], checkfirst=True)


def v12_score_runs_as_arrow(conn: Connection) -> None:
    """Stored scores become Arrow IPC files: the old pickled runs are deleted (they are recomputed)."""
    conn.execute(text("DELETE FROM score_runs"))
    if "previous" not in {c["name"] for c in inspect(conn).get_columns("score_runs")}:
        op.add_column("score_runs", Column("previous", LargeBinary, nullable=True))


def v13_outbox_claims(conn: Connection) -> None:
    """Outbox claims (who is posting a row, until when) and the accounts a message names."""
    have = {c["name"] for c in inspect(conn).get_columns("outbox")}
    for col in ("claimed_by", "lease_until", "accounts"):
        if col not in have:
            column = Base.metadata.tables["outbox"].c[col]
            op.add_column("outbox", Column(col, column.type, nullable=True))


def v14_mcp_tokens(conn: Connection) -> None:
    """Bearer tokens for the MCP server (hashed, revocable)."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["mcp_tokens"]], checkfirst=True)


# Once per transaction: the first write to a CRM table bumps the counter and marks the transaction
# (a setting local to it, gone at commit or rollback), so later statements cost one comparison.
_BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION retain_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('retain.data_version_bumped', true) IS DISTINCT FROM 'yes' THEN
    UPDATE retain_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'data_version';
    PERFORM set_config('retain.data_version_bumped', 'yes', true);
  END IF;
  RETURN NULL;
END $$
"""


def crm_tables() -> list[str]:
    """The tables scores and answers are made from: every write to one of them moves the data version."""
    return [t.name for t in Base.metadata.sorted_tables if t.name not in OPERATIONAL]


def track_writes(conn: Connection) -> None:
    """PostgreSQL: a statement trigger on every CRM table bumps `retain_meta.data_version` once per transaction.

    It sees every writer (Retain, psql, another program), in the writer's transaction. Idempotent;
    a revision that adds a CRM table calls it again. SQLite is left alone: Retain's engine bumps
    the counter there (`integrations.crm.store`).
    """
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(_BUMP_FUNCTION))
    for name in crm_tables():
        conn.execute(text(f'DROP TRIGGER IF EXISTS retain_data_version ON "{name}"'))
        conn.execute(text(f'CREATE TRIGGER retain_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                          f'ON "{name}" FOR EACH STATEMENT EXECUTE FUNCTION retain_bump_data_version()'))


def v15_data_version_triggers(conn: Connection) -> None:
    """PostgreSQL counts writes to CRM tables in triggers, so writes made outside Retain move the data version."""
    track_writes(conn)


def v16_text_sentiments(conn: Connection) -> None:
    """Each text's tone, kept by sentiment version and text digest, so a rescore computes only new texts."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["text_sentiments"]], checkfirst=True)
