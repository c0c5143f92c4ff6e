"""Create the state store: records, links, cursors, conflicts, outbox, audit, runs, failures,
leases and credentials; append-only audit and immutable partner ids enforced by the database;
row-level security on PostgreSQL.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from channel_sync.store.columns import BigId, JSONDocument, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTNER_TABLES = ("records", "links", "conflicts", "outbox", "audit_events", "failed_records")
ENGINE_TABLES = ("cursors", "runs", "leases", "credentials")
TENANT = "current_setting('channel_sync.tenant', true)"


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, JSONDocument, nullable=nullable)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True, nullable=False)


def _fk_record(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["canonical_id"], ["records.canonical_id"], name=f"fk_{table}_canonical_id_records"
    )


def _create_tables() -> None:
    op.create_table(
        "records",
        sa.Column("canonical_id", sa.String(64), primary_key=True, nullable=False),
        _str("partner_id", 64, nullable=True),
        _json("data"),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("canonical_id", name="pk_records"),
    )
    op.create_index("ix_records_partner_id", "records", ["partner_id"])
    op.create_index("ix_records_updated_at", "records", ["updated_at"])

    op.create_table(
        "links",
        _id(),
        _str("connection", 128),
        _str("remote_id", 255, nullable=True),
        _str("canonical_id", 64),
        _str("partner_id", 64, nullable=True),
        _json("base"),
        _json("written"),
        _ts("remote_modstamp", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _fk_record("links"),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.UniqueConstraint("connection", "canonical_id", name="uq_links_connection_canonical_id"),
        sa.UniqueConstraint("connection", "remote_id", name="uq_links_connection_remote_id"),
    )
    op.create_index("ix_links_canonical_id", "links", ["canonical_id"])

    op.create_table(
        "cursors",
        _str("connection", 128),
        _ts("modstamp", nullable=True),
        _str("last_id", 255, nullable=True),
        _json("extras"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connection", name="pk_cursors"),
    )

    op.create_table(
        "conflicts",
        _id(),
        _str("canonical_id", 64),
        _str("partner_id", 64, nullable=True),
        _str("field", 255),
        _json("base_value", nullable=True),
        _json("value_a", nullable=True),
        _str("source_a", 64),
        _str("connection_a", 128),
        _json("value_b", nullable=True),
        _str("source_b", 64),
        _str("connection_b", 128),
        _ts("detected_at"),
        _str("status", 16),
        _str("decision", 64, nullable=True),
        _json("resolved_value", nullable=True),
        _str("resolved_by", 255, nullable=True),
        _ts("resolved_at", nullable=True),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_conflicts_status"),
        _fk_record("conflicts"),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
    )
    op.create_index("ix_conflicts_status_canonical_id", "conflicts", ["status", "canonical_id"])
    op.create_index(
        "uq_conflicts_open_field",
        "conflicts",
        ["canonical_id", "field"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "outbox",
        _id(),
        _str("target_connection", 128),
        _str("canonical_id", 64),
        _str("partner_id", 64, nullable=True),
        _str("op", 16),
        _json("fields"),
        _str("status", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _str("batch_id", 64, nullable=True),
        _ts("available_at"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("op IN ('upsert', 'delete')", name="ck_outbox_op"),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'confirmed', 'failed')", name="ck_outbox_status"
        ),
        _fk_record("outbox"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_target_status_id", "outbox", ["target_connection", "status", "id"])
    op.create_index(
        "ix_outbox_target_canonical_status",
        "outbox",
        ["target_connection", "canonical_id", "status"],
    )
    op.create_index("ix_outbox_status_target", "outbox", ["status", "target_connection"])
    op.create_index("ix_outbox_batch_id", "outbox", ["batch_id"])

    op.create_table(
        "audit_events",
        _id(),
        _str("actor", 255),
        _str("source_system", 64),
        _str("connection", 128, nullable=True),
        _str("canonical_id", 64, nullable=True),
        _str("partner_id", 64, nullable=True),
        _str("external_key", 255, nullable=True),
        _str("field", 255, nullable=True),
        _json("old_value", nullable=True),
        _json("new_value", nullable=True),
        _ts("source_ts", nullable=True),
        _ts("engine_ts"),
        sa.Column("run_id", BigId, nullable=True),
        _str("direction", 16),
        _str("decision", 64, nullable=True),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound', 'internal')", name="ck_audit_events_direction"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_canonical_id_id", "audit_events", ["canonical_id", "id"])
    op.create_index("ix_audit_events_run_id", "audit_events", ["run_id"])

    op.create_table(
        "runs",
        _id(),
        _str("connection", 128),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _str("status", 16),
        _json("counts"),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'aborted')", name="ck_runs_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_connection_id", "runs", ["connection", "id"])

    op.create_table(
        "failed_records",
        _id(),
        _str("connection", 128),
        _str("key_kind", 16),
        _str("record_key", 255),
        _str("remote_id", 255, nullable=True),
        _str("canonical_id", 64, nullable=True),
        _str("partner_id", 64, nullable=True),
        _str("error_class", 255),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.CheckConstraint(
            "key_kind IN ('remote', 'canonical')", name="ck_failed_records_key_kind"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_failed_records"),
        sa.UniqueConstraint(
            "connection",
            "key_kind",
            "record_key",
            name="uq_failed_records_connection_key_kind_record_key",
        ),
    )

    op.create_table(
        "leases",
        _str("name", 255),
        _str("holder", 255, nullable=True),
        sa.Column("epoch", BigId, nullable=False),
        _ts("acquired_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )

    op.create_table(
        "credentials",
        _str("connection", 128),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("expires_at", nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connection", name="pk_credentials"),
    )


_SQLITE_GUARDS = (
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END
    """,
    """
    CREATE TRIGGER records_partner_id_immutable BEFORE UPDATE OF partner_id ON records
    WHEN OLD.partner_id IS NOT NEW.partner_id
    BEGIN SELECT RAISE(ABORT, 'records.partner_id is immutable'); END
    """,
)

_POSTGRES_GUARDS = (
    """
    CREATE FUNCTION channel_sync_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION channel_sync_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION channel_sync_append_only()
    """,
    """
    CREATE FUNCTION channel_sync_partner_id_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.partner_id IS DISTINCT FROM OLD.partner_id THEN
            RAISE EXCEPTION '%.partner_id is immutable', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER records_partner_id_immutable BEFORE UPDATE OF partner_id ON records
    FOR EACH ROW EXECUTE FUNCTION channel_sync_partner_id_immutable()
    """,
)


def _row_level_security() -> None:
    """Every table is scoped by the ``channel_sync.tenant`` setting, even for its owner.

    ``*`` (what the store sets by default) sees everything; a partner id sees only that
    partner's rows of the partner tables and nothing of the engine tables; unset sees nothing.
    """
    for table in PARTNER_TABLES + ENGINE_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for table in PARTNER_TABLES:
        rule = f"({TENANT} = '*' OR partner_id = {TENANT})"
        op.execute(f"CREATE POLICY tenant_scope ON {table} USING {rule} WITH CHECK {rule}")
    for table in ENGINE_TABLES:
        rule = f"({TENANT} = '*')"
        op.execute(f"CREATE POLICY tenant_scope ON {table} USING {rule} WITH CHECK {rule}")


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_GUARDS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in _POSTGRES_GUARDS:
            op.execute(statement)
        _row_level_security()


def downgrade() -> None:
    for table in (
        "credentials",
        "leases",
        "failed_records",
        "runs",
        "audit_events",
        "outbox",
        "conflicts",
        "cursors",
        "links",
        "records",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION channel_sync_append_only()")
        op.execute("DROP FUNCTION channel_sync_partner_id_immutable()")
