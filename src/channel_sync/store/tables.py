"""The store's tables as typed ORM classes; the migrations in ``migrations/`` must match them.

Rows are an implementation detail of the repositories: they hand out frozen value objects, never
these classes, so a caller can not mutate a row outside a transaction by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from channel_sync.store.columns import BigId, JSONDocument, JSONObject, UTCDateTime

CONNECTION = 128
CANONICAL_ID = 64
PARTNER_ID = 64
REMOTE_ID = 255
PATH = 255
NAME = 255

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RecordRow(Base):
    """One canonical deal. ``partner_id`` never changes (a trigger refuses it too)."""

    __tablename__ = "records"

    canonical_id: Mapped[str] = mapped_column(String(CANONICAL_ID), primary_key=True)
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID), index=True)
    data: Mapped[JSONObject] = mapped_column(JSONDocument)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkRow(Base):
    """(connection, remote id) <-> canonical id, with the base and the engine's last write."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("connection", "remote_id"),
        UniqueConstraint("connection", "canonical_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(CONNECTION))
    #: NULL until the first write to the connection reports the id it was given.
    remote_id: Mapped[str | None] = mapped_column(String(REMOTE_ID))
    canonical_id: Mapped[str] = mapped_column(
        String(CANONICAL_ID), ForeignKey("records.canonical_id"), index=True
    )
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID))
    base: Mapped[JSONObject] = mapped_column(JSONDocument)
    written: Mapped[JSONObject] = mapped_column(JSONDocument)
    remote_modstamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CursorRow(Base):
    __tablename__ = "cursors"

    connection: Mapped[str] = mapped_column(String(CONNECTION), primary_key=True)
    modstamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_id: Mapped[str | None] = mapped_column(String(REMOTE_ID))
    extras: Mapped[JSONObject] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


CONFLICT_STATUSES = ("open", "resolved")


class ConflictRow(Base):
    __tablename__ = "conflicts"
    __table_args__ = (
        CheckConstraint(_in("status", CONFLICT_STATUSES), name="status"),
        Index("ix_conflicts_status_canonical_id", "status", "canonical_id"),
        # At most one open conflict per field of a deal: a new disagreement updates it.
        Index(
            "uq_conflicts_open_field",
            "canonical_id",
            "field",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(
        String(CANONICAL_ID), ForeignKey("records.canonical_id")
    )
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID))
    field: Mapped[str] = mapped_column(String(PATH))
    base_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    value_a: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    source_a: Mapped[str] = mapped_column(String(64))
    connection_a: Mapped[str] = mapped_column(String(CONNECTION))
    value_b: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    source_b: Mapped[str] = mapped_column(String(64))
    connection_b: Mapped[str] = mapped_column(String(CONNECTION))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(64))
    resolved_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(NAME))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


OUTBOX_OPS = ("upsert", "delete")
OUTBOX_STATUSES = ("pending", "in_flight", "confirmed", "failed")


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("op", OUTBOX_OPS), name="op"),
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        # claim: oldest pending entries of one target
        Index("ix_outbox_target_status_id", "target_connection", "status", "id"),
        # ordering per deal: is an entry for this deal already in flight?
        Index("ix_outbox_target_canonical_status", "target_connection", "canonical_id", "status"),
        # status counts without touching confirmed history
        Index("ix_outbox_status_target", "status", "target_connection"),
        Index("ix_outbox_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_connection: Mapped[str] = mapped_column(String(CONNECTION))
    canonical_id: Mapped[str] = mapped_column(
        String(CANONICAL_ID), ForeignKey("records.canonical_id")
    )
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID))
    op: Mapped[str] = mapped_column(String(16))
    fields: Mapped[JSONObject] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    #: A re-queued entry waits until this instant (back-off after a retriable failure).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


AUDIT_DIRECTIONS = ("inbound", "outbound", "internal")


class AuditEventRow(Base):
    """Append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(_in("direction", AUDIT_DIRECTIONS), name="direction"),
        Index("ix_audit_events_canonical_id_id", "canonical_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(NAME))
    source_system: Mapped[str] = mapped_column(String(64))
    connection: Mapped[str | None] = mapped_column(String(CONNECTION))
    # No foreign key: the trail must outlive anything it talks about.
    canonical_id: Mapped[str | None] = mapped_column(String(CANONICAL_ID))
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID))
    external_key: Mapped[str | None] = mapped_column(String(REMOTE_ID))
    field: Mapped[str | None] = mapped_column(String(PATH))
    old_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    source_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    engine_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(BigId, index=True)
    direction: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(64))


RUN_STATUSES = ("running", "succeeded", "failed", "aborted")


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        Index("ix_runs_connection_id", "connection", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(CONNECTION))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[JSONObject] = mapped_column(JSONDocument)
    api_calls: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


FAILURE_KEY_KINDS = ("remote", "canonical")


class FailedRecordRow(Base):
    """The quarantine index: one row per failing record per connection, until it syncs."""

    __tablename__ = "failed_records"
    __table_args__ = (
        CheckConstraint(_in("key_kind", FAILURE_KEY_KINDS), name="key_kind"),
        UniqueConstraint("connection", "key_kind", "record_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(CONNECTION))
    #: ``remote`` when the record is known by its remote id, else ``canonical``.
    key_kind: Mapped[str] = mapped_column(String(16))
    record_key: Mapped[str] = mapped_column(String(REMOTE_ID))
    remote_id: Mapped[str | None] = mapped_column(String(REMOTE_ID))
    canonical_id: Mapped[str | None] = mapped_column(String(CANONICAL_ID))
    partner_id: Mapped[str | None] = mapped_column(String(PARTNER_ID))
    error_class: Mapped[str] = mapped_column(String(NAME))
    message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class LeaseRow(Base):
    """One runner per name (usually a connection); ``epoch`` is the fencing token."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(NAME))
    epoch: Mapped[int] = mapped_column(BigId)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CredentialRow(Base):
    """Tokens of one connection as one Fernet token; the key never enters the database."""

    __tablename__ = "credentials"

    connection: Mapped[str] = mapped_column(String(CONNECTION), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Tables scoped to one partner by row-level security on PostgreSQL.
PARTNER_TABLES = ("records", "links", "conflicts", "outbox", "audit_events", "failed_records")
#: Tables only the engine-wide scope may touch.
ENGINE_TABLES = ("cursors", "runs", "leases", "credentials")
