"""Schema migrations, run from Python so a pip-installed product needs no repository checkout."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from channel_sync.store.engine import make_engine
from channel_sync.store.tables import Base

SCRIPT_LOCATION = "channel_sync.store:migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations packaged with channel-sync."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        msg = "no migrations are packaged"
        raise RuntimeError(msg)
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def migrate(url: str | URL) -> str:
    """Bring the database at ``url`` to the newest schema; returns the revision it is at."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        return current_revision(engine) or ""
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
        return revision


def schema_drift(engine: Engine) -> list[Any]:
    """Differences between the ORM tables and the migrated database (empty when they agree).

    The check ``alembic check`` performs, callable from tests and from ``status``.
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs: list[Any] = compare_metadata(context, Base.metadata)
        connection.rollback()
        return diffs
