from __future__ import annotations

import os
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channel_sync.clock import FrozenClock
from channel_sync.errors import RetriableError
from channel_sync.model import Stage
from channel_sync.store import (
    AuditEvent,
    CursorState,
    Direction,
    LeaseContendedError,
    StaleLeaseError,
    Store,
    StoreSettings,
    open_store,
)
from store.helpers import make_deal

TTL = timedelta(seconds=30)


def _cycle(store: Store, lease_holder: str = "worker-1") -> None:
    lease = store.acquire_lease("hs-acme", lease_holder, TTL)
    assert lease is not None
    with store.unit_of_work(lease) as uow:
        uow.records.insert(make_deal("cs_1"))
        uow.links.link("hs-acme", "cs_1", "9001", base={"stage": Stage.PROSPECTING})
        uow.outbox.enqueue("sf-vendor", "cs_1", {"stage": Stage.PROSPECTING})
        uow.audit.append(
            [AuditEvent("hubspot:user-7", "hubspot", Direction.INBOUND, "cs_1", field="stage")]
        )
        uow.cursors.save("hs-acme", CursorState(datetime(2024, 5, 1, tzinfo=UTC), "9001"))


def _nothing_written(store: Store) -> None:
    with store.read() as tx:
        assert tx.records.count(include_deleted=True) == 0
        assert tx.links.by_remote("hs-acme", "9001") is None
        assert tx.outbox.pending("sf-vendor") == []
        assert tx.audit.for_record("cs_1") == []
        assert tx.cursors.get("hs-acme") is None


def test_a_cycle_commits_everything_together(store: Store) -> None:
    _cycle(store)
    with store.read() as tx:
        assert tx.records.get("cs_1") is not None
        assert tx.links.by_remote("hs-acme", "9001") is not None
        assert len(tx.outbox.pending("sf-vendor")) == 1
        assert len(tx.audit.for_record("cs_1")) == 1
        cursor = tx.cursors.get("hs-acme")
        assert cursor is not None
        assert cursor.last_id == "9001"


def test_an_exception_mid_cycle_leaves_nothing(store: Store) -> None:
    lease = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert lease is not None

    class BoomError(Exception):
        pass

    def failing_cycle() -> None:
        with store.unit_of_work(lease) as uow:
            uow.records.insert(make_deal("cs_1"))
            uow.links.link("hs-acme", "cs_1", "9001")
            uow.outbox.enqueue("sf-vendor", "cs_1", {"name": "Deal"})
            uow.audit.append([AuditEvent("u", "hubspot", Direction.INBOUND, "cs_1")])
            uow.cursors.save("hs-acme", CursorState(datetime(2024, 5, 1, tzinfo=UTC), "9001"))
            raise BoomError

    with pytest.raises(BoomError):
        failing_cycle()
    _nothing_written(store)


def test_a_stale_holder_cannot_commit(store: Store, clock: FrozenClock) -> None:
    old = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert old is not None
    clock.advance(TTL)  # worker-1 froze past its expiry...
    new = store.acquire_lease("hs-acme", "worker-2", TTL)
    assert new is not None
    assert new.epoch == old.epoch + 1
    with pytest.raises(StaleLeaseError, match="no longer current"), store.unit_of_work(old) as uow:
        uow.cursors.save("hs-acme", CursorState(datetime(2024, 5, 2, tzinfo=UTC), "stale"))
    with store.read() as tx:
        assert tx.cursors.get("hs-acme") is None
    with pytest.raises(StaleLeaseError):
        store.renew_lease(old, TTL)
    assert store.release_lease(old) is False  # a stale release changes nothing
    with store.unit_of_work(new) as uow:  # the new holder is unaffected
        uow.cursors.save("hs-acme", CursorState(datetime(2024, 5, 2, tzinfo=UTC), "fresh"))


def test_a_takeover_waits_for_the_running_commit(
    db_url: str, store: Store, clock: FrozenClock
) -> None:
    """Once a cycle's transaction passed its lease check, no takeover can slip in before COMMIT.

    SQLite: the takeover waits for the write lock. PostgreSQL: it waits for the lease row the
    check locked. Either way the takeover lands after the commit, with the next epoch.
    """
    lease = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert lease is not None
    clock.advance(TTL)  # expired: anyone may take it over now
    rival = open_store(db_url, clock=clock, migrate=False)
    events: list[str] = []
    started = threading.Event()

    def take_over() -> None:
        started.wait()
        taken = rival.acquire_lease("hs-acme", "worker-2", TTL)
        events.append(f"takeover epoch {taken.epoch if taken else None}")

    thread = threading.Thread(target=take_over)
    thread.start()
    try:
        with store.unit_of_work(lease) as uow:
            started.set()
            thread.join(0.3)
            uow.cursors.save("hs-acme", CursorState(None, "committed by worker-1"))
            events.append("cycle commits")
        thread.join(10)
        assert events == ["cycle commits", f"takeover epoch {lease.epoch + 1}"]
        with pytest.raises(StaleLeaseError), store.unit_of_work(lease):
            pytest.fail("the old holder must be refused from now on")
    finally:
        rival.dispose()


def test_released_lease_cannot_commit(store: Store) -> None:
    lease = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert lease is not None
    assert store.release_lease(lease)
    with pytest.raises(StaleLeaseError), store.unit_of_work(lease):
        pass


def test_lease_acquire_renew_expire_and_reclaim(store: Store, clock: FrozenClock) -> None:
    first = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert first is not None
    assert first.epoch == 1
    assert store.acquire_lease("hs-acme", "worker-2", TTL) is None
    clock.advance(TTL / 2)
    renewed = store.renew_lease(first, TTL)
    assert renewed.expires_at == clock.now() + TTL
    clock.advance(TTL - timedelta(seconds=1))
    assert store.acquire_lease("hs-acme", "worker-2", TTL) is None  # renewal kept it alive
    clock.advance(timedelta(seconds=1))
    reclaimed = store.acquire_lease("hs-acme", "worker-2", TTL)  # within one TTL of the expiry
    assert reclaimed is not None
    assert reclaimed.epoch == 2
    with store.read() as tx:
        current = tx.leases.current("hs-acme")
    assert current == reclaimed
    assert store.release_lease(reclaimed)
    with store.read() as tx:
        assert tx.leases.current("hs-acme") is None
    again = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert again is not None
    assert again.epoch == 3
    with pytest.raises(ValueError, match="positive"):
        store.acquire_lease("hs-acme", "worker-1", timedelta(0))


ROUNDS = int(os.environ.get("CHANNEL_SYNC_TEST_LEASE_ROUNDS", "20"))
CONTENDERS = 4


def test_concurrent_acquisition_has_exactly_one_winner(db_url: str) -> None:
    """Several threads, each with its own connection pool, race for the same lease."""
    seed = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", random.randrange(2**32)))
    print(f"lease race seed={seed}")
    rng = random.Random(seed)
    clock = FrozenClock(datetime(2024, 5, 1, tzinfo=UTC))
    stores = [open_store(db_url, clock=clock, migrate=False) for _ in range(CONTENDERS)]
    try:
        for round_no in range(ROUNDS):
            # Even rounds race for a lease nobody ever held (INSERT), odd rounds for the
            # previous round's lease after it expired (conditional UPDATE).
            name = f"conn-{round_no // 2}"
            expected = 1 + round_no % 2
            if round_no % 2:
                clock.advance(TTL)
            barrier = threading.Barrier(CONTENDERS)
            wins: list[int] = []
            errors: list[BaseException] = []

            def contend(
                index: int,
                name: str = name,
                barrier: threading.Barrier = barrier,
                wins: list[int] = wins,
                errors: list[BaseException] = errors,
            ) -> None:
                try:
                    barrier.wait()
                    lease = stores[index].acquire_lease(name, f"worker-{index}", TTL)
                    if lease is not None:
                        wins.append(lease.epoch)
                except BaseException as exc:  # noqa: BLE001  (reported below)
                    errors.append(exc)

            order = list(range(CONTENDERS))
            rng.shuffle(order)
            threads = [threading.Thread(target=contend, args=(i,)) for i in order]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert wins == [expected], f"round {round_no}: winners {wins} (seed {seed})"
    finally:
        for opened in stores:
            opened.dispose()


def test_concurrent_cycles_of_one_connection_do_not_overlap(db_url: str, store: Store) -> None:
    """Two transactions for one lease at once: one proceeds, the other is held off or refused.

    PostgreSQL refuses the second at once (advisory lock); SQLite makes it wait for the first
    writer (``BEGIN IMMEDIATE`` with a busy timeout), after which it sees the committed state.
    """
    lease = store.acquire_lease("hs-acme", "worker-1", TTL)
    assert lease is not None
    other = open_store(db_url, clock=store.clock, migrate=False)
    inside = threading.Event()
    leave = threading.Event()
    outcome: list[str] = []

    def second() -> None:
        inside.wait()
        try:
            with other.unit_of_work(lease) as uow:
                uow.cursors.save("hs-acme", CursorState(None, "second"))
            outcome.append("second committed")
        except LeaseContendedError:
            outcome.append("second refused")
        finally:
            leave.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with store.unit_of_work(lease) as uow:
            uow.cursors.save("hs-acme", CursorState(None, "first"))
            inside.set()
            if store.dialect == "postgresql":
                assert leave.wait(10)
                assert outcome == ["second refused"]
            else:
                assert not leave.wait(0.3)  # blocked on the write lock, not failing
        thread.join(10)
        assert not thread.is_alive()
        if store.dialect == "sqlite":
            assert outcome == ["second committed"]
    finally:
        other.dispose()


def test_sqlite_lock_contention_is_a_retriable_error(tmp_path: Path) -> None:
    """Past the busy timeout a locked SQLite database is reported as retriable, not a crash."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    patient = open_store(url)
    hasty = open_store(url, settings=StoreSettings(sqlite_busy_timeout_ms=50), migrate=False)
    try:
        with patient.transaction() as tx:
            tx.cursors.save("hs-acme", CursorState(None, "holding the write lock"))
            with (
                pytest.raises(RetriableError, match="busy or unreachable"),
                hasty.transaction() as blocked,
            ):
                blocked.cursors.get("hs-acme")  # BEGIN IMMEDIATE cannot get the lock in 50 ms
        with hasty.transaction() as tx:  # and works again once the lock is free
            cursor = tx.cursors.get("hs-acme")
        assert cursor is not None
        assert cursor.last_id == "holding the write lock"
    finally:
        hasty.dispose()
        patient.dispose()
