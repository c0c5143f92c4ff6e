"""A record read back exactly as its link last agreed (the echo of the engine's own write, a
touch of a field no mapping reads) changes nothing but the link's remote timestamp."""

from __future__ import annotations

from typing import Any

from channel_sync.store import Link
from channel_sync.sync.report import CycleStatus
from sync.test_engine import create
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World, positions, writes

KEY = "cs_unchanged_1"


def link_of(world: World, connection: str) -> Link:
    with world.store.read() as tx:
        link = tx.links.by_canonical(connection, KEY)
    assert link is not None
    return link


def hub_state(world: World) -> tuple[int, int, dict[str, Any]]:
    """The deal's version, its audit events and the open outbox, as the store holds them."""
    with world.store.read() as tx:
        record = tx.records.get(KEY)
        assert record is not None
        return record.version, len(tx.audit.for_record(KEY)), tx.outbox.counts()


def synced_deal(world: World) -> tuple[str, str]:
    """A partner deal synced both ways until quiet; its partner and vendor record ids."""
    partner_id = create(world, PARTNER_A, KEY, name="Unchanged", amount="10")
    world.sync(3)
    vendor = world.vendor.by_key(KEY)
    assert vendor is not None
    return partner_id, str(vendor["Id"])


def test_reading_back_the_engines_own_write_changes_nothing(world: World) -> None:
    partner_id, _ = synced_deal(world)
    world.partner_a.update(partner_id, amount="25")
    world.sync(1)  # read from the partner, written to the vendor
    assert link_of(world, VENDOR).base.get("amount") is not None
    before = link_of(world, VENDOR)
    state = hub_state(world)
    since = positions(world)
    report = world.cycle(VENDOR)  # reads the vendor's copy back
    assert report.status is CycleStatus.OK
    assert report.records_read == 1
    assert report.unchanged == 1
    assert report.updated == report.created == report.conflicts == 0
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    assert hub_state(world) == state
    after = link_of(world, VENDOR)
    assert after.base == before.base
    assert after.remote_id == before.remote_id
    assert after.remote_modstamp is not None
    assert before.remote_modstamp is None or after.remote_modstamp > before.remote_modstamp


def test_a_touch_of_an_unmapped_field_changes_nothing(world: World) -> None:
    _, rid = synced_deal(world)
    state = hub_state(world)
    base = link_of(world, VENDOR).base
    # A field the vendor's mapping does not read: the record's timestamp moves, nothing else.
    world.vendor.update(rid, Vendor_Co_Sell_Notes__c="internal note")
    since = positions(world)
    report = world.cycle(VENDOR)
    assert report.records_read == 1
    assert report.unchanged == 1
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    assert hub_state(world) == state
    assert link_of(world, VENDOR).base == base


def test_a_mapped_change_after_an_unchanged_read_still_syncs(world: World) -> None:
    _, rid = synced_deal(world)
    world.vendor.update(rid, Vendor_Co_Sell_Notes__c="internal note")
    world.cycle(VENDOR)
    world.vendor.update(rid, NextStep="Call the customer")
    since = positions(world)
    world.sync(2)
    assert writes(world, since)[PARTNER_A] == 1
    partner = world.partner_a.by_key(KEY)
    assert partner is not None
    assert link_of(world, VENDOR).base.get("co_sell.next_step") == "Call the customer"
