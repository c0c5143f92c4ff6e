"""Row-level security on PostgreSQL: a partner-scoped session sees only its partner's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from channel_sync.errors import ConfigurationError
from channel_sync.model import Stage
from channel_sync.store import (
    AuditEvent,
    ConflictSide,
    CursorState,
    Direction,
    Store,
    TenantViolationError,
)
from channel_sync.store.engine import make_engine
from channel_sync.store.tables import ENGINE_TABLES, PARTNER_TABLES, Base
from store.helpers import make_deal

CANARY = "canary-acme-5be1"


def _seed(store: Store) -> None:
    with store.transaction() as tx:
        for canonical_id, partner in (
            ("a1", "acme"),
            ("a2", "acme"),
            ("g1", "globex"),
            ("v1", None),
        ):
            tx.records.insert(
                make_deal(canonical_id, partner_id=partner, name=f"{CANARY} {canonical_id}")
            )
            tx.links.link("conn-" + str(partner), canonical_id, f"r-{canonical_id}")
            tx.outbox.enqueue("sf-vendor", canonical_id, {"stage": Stage.PROPOSAL})
            tx.audit.append([AuditEvent("u", "crm", Direction.INBOUND, canonical_id, field="name")])
            tx.failures.record("sf-vendor", ("RecordError", CANARY), canonical_id=canonical_id)
            tx.conflicts.open(
                canonical_id,
                "name",
                base="x",
                a=ConflictSide("y", "salesforce", "sf-vendor"),
                b=ConflictSide(CANARY, "crm", "conn-" + str(partner)),
            )
        tx.cursors.save("conn-acme", CursorState(None, "x"))


@pytest.fixture
def app_role(store: Store) -> Iterator[str]:
    if store.dialect != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")
    role = f"cs_app_{uuid.uuid4().hex[:10]}"
    with store.engine.begin() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS")
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.exec_driver_sql(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}'
        )
        conn.exec_driver_sql(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
    try:
        yield role
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


@pytest.fixture
def app_store(store: Store, app_role: str) -> Iterator[Store]:
    """A store whose every connection acts as the unprivileged application role."""

    def become_app(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {app_role}")
        dbapi_connection.commit()

    engine = make_engine(store.engine.url)
    event.listen(engine, "connect", become_app)
    try:
        yield Store(engine, clock=store.clock)
    finally:
        engine.dispose()


def test_every_table_forces_row_level_security(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")
    with store.read() as tx:
        rows = tx.session.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
            )
        ).all()
    flags = {name: (enabled, forced) for name, enabled, forced in rows}
    assert set(Base.metadata.tables) == set(PARTNER_TABLES) | set(ENGINE_TABLES)
    for table in Base.metadata.tables:
        assert flags[table] == (True, True), table


def test_a_partner_scope_sees_only_its_own_rows(store: Store, app_store: Store) -> None:
    _seed(store)
    acme = app_store.for_partner("acme")
    with acme.read() as tx:
        assert tx.records.ids() == ["a1", "a2"]
        assert tx.records.get("g1") is None
        assert [e.canonical_id for e in tx.outbox.pending("sf-vendor")] == ["a1", "a2"]
        assert tx.audit.for_record("g1") == []
        assert [f.canonical_id for f in tx.failures.for_connection("sf-vendor")] == ["a1", "a2"]
        assert tx.links.by_remote("conn-globex", "r-g1") is None
        assert tx.cursors.get("conn-acme") is None  # engine tables: engine scope only
        for table in PARTNER_TABLES:
            partners = tx.session.execute(
                text(f"SELECT DISTINCT partner_id FROM {table}")
            ).scalars()
            assert set(partners) == {"acme"}, table
    globex = app_store.for_partner("globex")
    with globex.read() as tx:
        assert tx.records.ids() == ["g1"]
        names = tx.session.execute(text("SELECT data FROM records")).scalars().all()
        assert all("a1" not in str(n) and "a2" not in str(n) for n in names)
    with app_store.read() as tx:  # the engine scope sees everything
        assert tx.records.ids() == ["a1", "a2", "g1", "v1"]


def test_unscoped_sessions_of_the_app_role_see_nothing(store: Store, app_role: str) -> None:
    """A plain connection as the app role (no scope set, e.g. a hand-typed psql session)."""
    _seed(store)
    raw = create_engine(store.engine.url)
    try:
        with raw.connect() as conn:
            conn.execute(text(f"SET ROLE {app_role}"))
            for table in Base.metadata.tables:
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
    finally:
        raw.dispose()


def test_a_partner_scope_cannot_write_another_partners_rows(store: Store, app_store: Store) -> None:
    _seed(store)
    acme = app_store.for_partner("acme")
    with pytest.raises(TenantViolationError, match="partner scope"), acme.transaction() as tx:
        tx.records.insert(make_deal("g2", partner_id="globex"))
    with acme.transaction() as tx:
        tx.session.execute(text("UPDATE records SET version = version + 100"))
    with store.read() as tx:
        g1 = tx.records.get("g1")
    assert g1 is not None
    assert g1.version == 1


def test_sqlite_refuses_partner_scopes(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL supports partner scopes")
    with pytest.raises(ConfigurationError, match="row-level security"):
        store.for_partner("acme")
