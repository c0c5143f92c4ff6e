"""The drain settles one claimed batch while the next is on the wire: every entry lands once,
one write call per batch, and an error leaves nothing in flight."""

from __future__ import annotations

from typing import Any

import pytest

from channel_sync.store import OutboxStatus
from channel_sync.sync import drain
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleStatus
from sync.test_engine import clear_faults, create, faults
from sync.world import PARTNER_A, VENDOR, World, calls, positions, writes

DEALS = 7
#: Entries per claim in these tests: seven deals make four batches.
BATCH = 2


@pytest.fixture(autouse=True)
def small_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drain, "CLAIM_SIZE", BATCH)


def open_entries(world: World) -> dict[OutboxStatus, int]:
    with world.store.read() as tx:
        return tx.outbox.counts().get(VENDOR, {})


def registered(world: World) -> list[str]:
    return sorted(str(r["Channel_Sync_Id__c"]) for r in world.vendor.records()
                  if str(r.get("Channel_Sync_Id__c") or "").startswith("cs_batch_"))


def test_every_batch_lands_once_while_the_next_is_sent(world: World) -> None:
    for i in range(DEALS):
        create(world, PARTNER_A, f"cs_batch_{i}", name=f"Batch {i}", amount=str(10 + i))
    world.settle()
    since = positions(world)
    reports = {r.connection: r for r in world.engine.sync_once()}
    assert reports[VENDOR].status is CycleStatus.OK
    assert reports[VENDOR].written == DEALS
    assert registered(world) == [f"cs_batch_{i}" for i in range(DEALS)]
    assert writes(world, since)[VENDOR] == DEALS
    batches = [c for c in calls(world.instance(VENDOR), since[VENDOR])
               if c.method == "PATCH" and "/composite/sobjects" in c.path]
    assert len(batches) == -(-DEALS // BATCH)
    assert not any(open_entries(world).values())


def test_a_batch_refused_whole_puts_back_every_batch_claimed_after_it(world: World) -> None:
    for i in range(DEALS):
        create(world, PARTNER_A, f"cs_batch_{i}", name=f"Batch {i}", amount=str(10 + i))
    # The first vendor write goes through; the allowance is spent from the second on.
    faults(world, VENDOR, rules=[{"method": "PATCH", "path": "/composite/sobjects",
                                  "after": 1, "count": None, "status": 403,
                                  "body": [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                            "message": "TotalRequests Limit exceeded."}]}])
    world.settle()
    reports = {r.connection: r for r in world.engine.sync_once()}
    assert reports[PARTNER_A].status is CycleStatus.OK
    failed = reports[VENDOR]
    assert failed.status is CycleStatus.PARKED
    assert failed.written == BATCH
    left = open_entries(world)
    assert left[OutboxStatus.IN_FLIGHT] == 0
    assert left[OutboxStatus.PENDING] == DEALS - BATCH
    assert len(registered(world)) == BATCH

    # The allowance resets; a fresh worker (new connectors, same store) picks up the rest.
    clear_faults(world, VENDOR)
    world.close()
    world.runtimes = world.build_runtimes()
    world.engine = SyncEngine(world.runtimes, world.store, clock=world.clock)
    world.settle()
    since = positions(world)
    reports = {r.connection: r for r in world.engine.sync_once()}
    assert reports[VENDOR].status is CycleStatus.OK
    assert registered(world) == [f"cs_batch_{i}" for i in range(DEALS)]
    assert writes(world, since)[VENDOR] == DEALS - BATCH
    assert not any(open_entries(world).values())


def test_a_stop_settles_what_is_on_the_wire_and_returns_the_rest(world: World) -> None:
    for i in range(DEALS):
        create(world, PARTNER_A, f"cs_batch_{i}", name=f"Batch {i}", amount=str(10 + i))
    world.settle()
    assert world.engine.run_cycle(PARTNER_A).status is CycleStatus.OK  # read, vendor not drained
    with world.store.read() as tx:
        assert tx.outbox.counts()[VENDOR][OutboxStatus.PENDING] == DEALS

    vendor = world.runtimes[VENDOR].connector
    write_batch = vendor.write_batch
    sent: list[int] = []

    def stop_after_first(object_name: str, ops: Any) -> Any:
        sent.append(len(ops))
        world.engine.stop()  # someone stops the engine while the first batch is on the wire
        return write_batch(object_name, ops)

    vendor.write_batch = stop_after_first  # type: ignore[method-assign]
    try:
        world.settle()
        report = world.engine.run_cycle(VENDOR)
    finally:
        del vendor.write_batch
    assert report.status is CycleStatus.STOPPED
    # The write under way when the stop came is settled; at most the one queued behind it had
    # started too; nothing is left in flight and nothing is lost.
    assert 1 <= len(sent) <= 2
    assert report.written == sum(sent)
    left = open_entries(world)
    assert left[OutboxStatus.IN_FLIGHT] == 0
    assert left[OutboxStatus.PENDING] == DEALS - report.written
    assert len(registered(world)) == report.written

    world.engine.resume()
    world.settle()
    reports = {r.connection: r for r in world.engine.sync_once()}
    assert reports[VENDOR].status is CycleStatus.OK
    assert registered(world) == [f"cs_batch_{i}" for i in range(DEALS)]
    assert not any(open_entries(world).values())
