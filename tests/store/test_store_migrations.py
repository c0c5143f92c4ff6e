from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from channel_sync.store import Store, StoreSettings, migrate, open_store
from channel_sync.store.engine import make_engine
from channel_sync.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    schema_drift,
    upgrade,
)
from channel_sync.store.tables import Base

TABLES = {
    "records",
    "links",
    "cursors",
    "conflicts",
    "outbox",
    "audit_events",
    "runs",
    "failed_records",
    "leases",
    "credentials",
}


def test_migrations_build_every_table_from_empty(empty_db_url: str) -> None:
    assert migrate(empty_db_url) == head_revision()
    engine = make_engine(empty_db_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert names >= TABLES | {"alembic_version"}
        assert set(Base.metadata.tables) == TABLES
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_migrations(empty_db_url: str) -> None:
    """The ``alembic check`` of the suite: no difference between ORM tables and the schema."""
    migrate(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        assert schema_drift(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_empty_and_up_again(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert schema_drift(engine) == []
    finally:
        engine.dispose()


def test_migrating_twice_is_harmless(store: Store) -> None:
    upgrade(store.engine)
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()


def test_default_location_is_a_sqlite_file_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHANNEL_SYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("CHANNEL_SYNC_PROJECT_DIR", str(tmp_path))
    settings = StoreSettings()
    opened = open_store(settings=settings)
    try:
        assert opened.dialect == "sqlite"
        assert (tmp_path / ".channel-sync" / "state.db").is_file()
        with opened.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        opened.dispose()


def test_database_url_comes_from_the_environment_and_stays_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("CHANNEL_SYNC_DATABASE_URL", url)
    settings = StoreSettings()
    assert settings.resolved_database_url() == url
    assert "elsewhere" not in repr(settings)


def test_a_password_in_the_url_never_shows() -> None:
    engine = make_engine("postgresql://app:hunter2@127.0.0.1:1/db")
    try:
        store = Store(engine)
        assert "hunter2" not in repr(store)
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()
