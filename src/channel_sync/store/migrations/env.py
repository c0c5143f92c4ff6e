"""Alembic environment shipped inside the package, so an installed product can migrate itself.

Run programmatically by :func:`channel_sync.store.migrate`, which hands over an open connection in
``config.attributes["connection"]``; ``sqlalchemy.url`` in the config is used otherwise.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from channel_sync.store.engine import make_engine
from channel_sync.store.tables import Base

#: Serializes concurrent migrations of one PostgreSQL database (any constant works; this one is
#: the ASCII of "chansync").
MIGRATION_LOCK_KEY = 0x6368616E73796E63


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # The engine emits BEGIN itself on SQLite, so DDL is transactional on both back-ends.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        msg = "set sqlalchemy.url or pass a connection in config.attributes"
        raise RuntimeError(msg)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
