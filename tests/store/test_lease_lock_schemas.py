"""On PostgreSQL a unit of work takes an advisory lock per lease name; advisory locks belong to
the whole database, so the lock is keyed by the schema too: two stores in two schemas of one
database (two deployments, two test runs) never refuse each other's units of work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from channel_sync.clock import FrozenClock
from channel_sync.store import CursorState, LeaseContendedError, open_store
from channel_sync.store.transaction import advisory_key

pytestmark = pytest.mark.postgres

TTL = timedelta(seconds=30)
NAME = "connection:partner-a-hubspot"


def _held_lease_locks(url: str) -> set[int]:
    """The advisory locks held on the server, as the signed 64-bit keys that took them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT classid::bigint, objid::bigint FROM pg_locks"
                " WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
            ))
            keys = set()
            for high, low in rows:
                key = (high << 32) | low
                keys.add(key - (1 << 64) if key >= 1 << 63 else key)
            return keys
    finally:
        engine.dispose()


def test_units_of_work_in_two_schemas_do_not_contend(
    new_pg_schema: Callable[[], tuple[str, str]], clock: FrozenClock
) -> None:
    (schema_a, url_a), (schema_b, url_b) = new_pg_schema(), new_pg_schema()
    store_a = open_store(url_a, clock=clock, migrate=False)
    store_b = open_store(url_b, clock=clock, migrate=False)
    try:
        lease_a = store_a.acquire_lease(NAME, "worker-a", TTL)
        lease_b = store_b.acquire_lease(NAME, "worker-b", TTL)
        assert lease_a is not None
        assert lease_b is not None
        outcome: list[str] = []
        # A second unit of work of the same lease in the same schema is still refused.
        same_schema: list[str] = []

        def in_b() -> None:
            try:
                with store_b.unit_of_work(lease_b) as uow:
                    uow.cursors.save(NAME, CursorState(None, "b"))
                outcome.append("committed")
            except LeaseContendedError as exc:
                outcome.append(f"refused: {exc}")

        def again_in_a() -> None:
            other = open_store(url_a, clock=clock, migrate=False)
            try:
                with other.unit_of_work(lease_a):
                    same_schema.append("committed")
            except LeaseContendedError:
                same_schema.append("refused")
            finally:
                other.dispose()

        with store_a.unit_of_work(lease_a) as uow:
            uow.cursors.save(NAME, CursorState(None, "a"))
            held = _held_lease_locks(url_a)
            assert advisory_key(schema_a, NAME) in held
            assert advisory_key(schema_b, NAME) not in held
            for work in (in_b, again_in_a):
                thread = threading.Thread(target=work)
                thread.start()
                thread.join(10)
                assert not thread.is_alive()
        assert outcome == ["committed"]
        assert same_schema == ["refused"]
        with store_b.read() as tx:
            state = tx.cursors.get(NAME)
            assert state is not None
            assert state.last_id == "b"
        with store_a.read() as tx:
            state = tx.cursors.get(NAME)
            assert state is not None
            assert state.last_id == "a"
    finally:
        store_a.dispose()
        store_b.dispose()
