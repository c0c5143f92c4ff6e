"""Sandboxes (one set per test session, reset per test) and a world per test, on each store.

PostgreSQL runs when ``CHANNEL_SYNC_TEST_POSTGRES_URL`` is set (a schema of its own per test);
otherwise those parameters are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from channel_sync.sandbox import SandboxServer
from channel_sync.store import migrate, open_store
from channel_sync.testing import SteerableClock
from sync.world import World, project_env, sandbox_specs

POSTGRES_ENV = "CHANNEL_SYNC_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sync_clock() -> SteerableClock:
    return SteerableClock()


@pytest.fixture(scope="session")
def sync_server(sync_clock: SteerableClock) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox_specs(), clock=sync_clock) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test starts from a copy (migrating costs more)."""
    path = tmp_path_factory.mktemp("template") / "state.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    migrated_sqlite: Path,
) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("engine") / "state.db"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite:///{path}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL engine tests skipped")
    url, drop = new_schema(base)
    try:
        yield url
    finally:
        drop()


def new_schema(base: str, prefix: str = "cs_sync") -> tuple[str, Callable[[], None]]:
    """An empty PostgreSQL schema of its own: the URL that works in it, and how to drop it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture
def world(sync_server: SandboxServer, sync_clock: SteerableClock, db_url: str) -> Iterator[World]:
    sync_server.reset()
    store = open_store(db_url, clock=sync_clock)
    built = World(sync_server, sync_clock, store, project_env(sync_server))
    try:
        yield built
    finally:
        built.close()
        store.dispose()
