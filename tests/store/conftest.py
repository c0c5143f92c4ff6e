"""One storage suite, two back-ends: every test taking ``store`` runs on SQLite and PostgreSQL.

PostgreSQL comes from ``CHANNEL_SYNC_TEST_POSTGRES_URL``. The session migrates a schema of its own
(a random name, dropped at the end) so parallel runs against one server never see each other's
rows, and every test starts from empty tables; migration tests get a new schema each. Without
the variable the PostgreSQL parameters are skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from channel_sync.clock import FrozenClock
from channel_sync.store import CredentialCipher, Store, migrate, open_store
from channel_sync.store.tables import Base
from store.helpers import START

POSTGRES_ENV = "CHANNEL_SYNC_TEST_POSTGRES_URL"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _pg_url(base: str, schema: str) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextmanager
def _pg_schema(base: str) -> Iterator[str]:
    """A new, empty schema on the test server, dropped on exit."""
    schema = f"cs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _require_postgres() -> str:
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL store tests skipped")
    return base


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """One migrated schema for the whole session; tests empty it before use."""
    base = _require_postgres()
    with _pg_schema(base) as schema:
        url = _pg_url(base, schema)
        migrate(url)
        yield url


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            # Replica mode silences triggers: the audit table's refusal and the foreign-key
            # checks (so the order does not matter). The test server's user is a superuser,
            # as on CI. DELETE on a few rows is far quicker than TRUNCATE.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in sorted(Base.metadata.tables):
                conn.execute(text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database on each back-end."""
    if request.param == "sqlite":
        sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'state.db'}"
        migrate(sqlite_url)
        return sqlite_url
    pg_url: str = request.getfixturevalue("pg_session_url")
    _empty_tables(pg_url)
    return pg_url


@pytest.fixture(params=BACKENDS)
def empty_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'state.db'}"
        return
    base = _require_postgres()
    with _pg_schema(base) as schema:
        yield _pg_url(base, schema)


@pytest.fixture
def new_pg_schema() -> Iterator[Callable[[], tuple[str, str]]]:
    """Makes migrated PostgreSQL schemas on the test server (each ``(schema, url)``), dropped
    at the end of the test: for stores that share one database."""
    base = _require_postgres()
    with ExitStack() as stack:

        def make() -> tuple[str, str]:
            schema = stack.enter_context(_pg_schema(base))
            url = _pg_url(base, schema)
            migrate(url)
            return schema, url

        yield make


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def secret_key() -> SecretStr:
    return SecretStr(Fernet.generate_key().decode())


@pytest.fixture
def store(db_url: str, clock: FrozenClock, secret_key: SecretStr) -> Iterator[Store]:
    opened = open_store(db_url, clock=clock, cipher=CredentialCipher([secret_key]))
    try:
        yield opened
    finally:
        opened.dispose()
