"""Engines for the two back-ends, with the connection settings each one needs to be safe.

SQLite: WAL (readers never block the writer), a busy timeout (contention waits instead of
failing), foreign keys on, and ``BEGIN IMMEDIATE`` for every write transaction so the write lock
is taken at the start, not upgraded half-way (an upgrade that loses a race fails with
``SQLITE_BUSY`` and no timeout can help). The pysqlite driver's own transaction handling is
switched off and SQLAlchemy emits ``BEGIN`` itself (SQLAlchemy's SQLite documentation,
"Serializable isolation / Savepoints / Transactional DDL").

PostgreSQL: psycopg 3, pre-ping, and the row-level-security scope set at the start of every
transaction (see ``docs/store.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from channel_sync.errors import ConfigurationError
from channel_sync.store import json_text

#: Execution option: the transaction only reads (SQLite then takes a deferred ``BEGIN``).
READ_ONLY = "channel_sync_read_only"
#: Execution option: the row-level-security scope, ``*`` or one partner id (PostgreSQL).
TENANT = "channel_sync_tenant"
#: The PostgreSQL setting the row-level-security policies read.
TENANT_SETTING = "channel_sync.tenant"
ALL_TENANTS = "*"

DEFAULT_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; a bare ``postgresql://`` gets the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        msg = "CHANNEL_SYNC_DATABASE_URL is not a database URL"
        raise ConfigurationError(msg) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        msg = f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        raise ConfigurationError(msg)
    return parsed


def make_engine(url: str | URL, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_ms)
    return _postgres_engine(parsed)


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        hide_parameters=True,
        json_serializer=json_text.dumps,
        json_deserializer=json_text.loads,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Hand transaction control to SQLAlchemy (the ``begin`` hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # In WAL mode NORMAL is durable against application crashes; only a power loss can
            # drop the last transactions, never corrupt the file.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: URL) -> Engine:
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        json_serializer=json_text.dumps,
        json_deserializer=json_text.loads,
    )

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        tenant = conn.get_execution_options().get(TENANT, ALL_TENANTS)
        conn.exec_driver_sql(
            "SELECT set_config(%(name)s, %(value)s, true)",
            {"name": TENANT_SETTING, "value": tenant},
        )

    return engine


def display_url(engine: Engine) -> str:
    """The engine's URL with any password masked, for messages and ``status``."""
    return engine.url.render_as_string(hide_password=True)
