"""Partner moves that start from an empty or defaulted remote value, and withdrawal by unticking
the register flag: each must reach the vendor as a change of the partner's side only."""

from __future__ import annotations

from typing import Any

from channel_sync.model import CoSellStatus, RegistrationStatus
from channel_sync.store import StoredRecord
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World


def hub_deal(world: World, key: str) -> StoredRecord:
    with world.store.read() as tx:
        found = tx.records.get(key)
    assert found is not None, f"{key} is not in the hub"
    return found


def failures(world: World, connection: str) -> list[Any]:
    with world.store.read() as tx:
        return list(tx.failures.for_connection(connection))


def only_key(world: World, connection: str) -> str:
    with world.store.read() as tx:
        ids = tx.records.ids(limit=10)
    assert len(ids) == 1, ids
    return ids[0]


def test_a_co_sell_request_on_a_deal_registered_without_one_reaches_the_vendor(
    world: World,
) -> None:
    rid = world.partner_a.create(
        dealname="Co-sell later", amount="100", closedate="2026-06-30T00:00:00Z",
        channel_sync_register=True,
    )
    world.sync(2)
    key = only_key(world, PARTNER_A)
    assert hub_deal(world, key).opportunity.co_sell.status is CoSellStatus.NONE
    world.partner_a.update(
        rid, channel_sync_co_sell_status="requested", channel_sync_products="ANALYTICS",
        deal_currency_code="EUR",
    )
    [report] = [r for r in world.sync(1) if r.connection == PARTNER_A]
    assert report.updated == 1
    assert report.conflicts == 0
    deal = hub_deal(world, key).opportunity
    assert deal.co_sell.status is CoSellStatus.REQUESTED
    assert deal.products == ["ANALYTICS"]
    assert deal.currency_code == "EUR"
    world.sync(1)
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    assert vendor["Co_Sell_Status__c"] == "Requested"
    assert vendor["Products__c"] == "ANALYTICS"
    assert vendor["CurrencyIsoCode"] == "EUR"


def test_defaulted_fields_first_set_by_the_partner_are_taken(world: World) -> None:
    rid = world.partner_b.create(
        Name="Defaults later", Amount=10, Channel_Sync_Register__c=True,
    )
    world.sync(2)
    key = only_key(world, PARTNER_B)
    before = hub_deal(world, key).opportunity
    assert before.products == []
    assert before.currency_code == "USD"
    world.partner_b.update(rid, Products__c="ANALYTICS;TRAINING", CurrencyIsoCode="EUR")
    [report] = [r for r in world.sync(1) if r.connection == PARTNER_B]
    assert report.conflicts == 0
    after = hub_deal(world, key).opportunity
    assert sorted(after.products) == ["ANALYTICS", "TRAINING"]
    assert after.currency_code == "EUR"
    world.sync(1)
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    assert sorted(str(vendor["Products__c"]).split(";")) == ["ANALYTICS", "TRAINING"]
    assert vendor["CurrencyIsoCode"] == "EUR"


def test_a_vendor_flag_set_after_the_link_is_taken_without_a_conflict(world: World) -> None:
    world.partner_a.create(
        dealname="Flagged later", amount="5", closedate="2026-06-30T00:00:00Z",
        channel_sync_register=True,
    )
    world.sync(2)
    key = only_key(world, PARTNER_A)
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    world.vendor.update(str(vendor["Id"]), Channel_Conflict__c=True, Co_Sell_Status__c="Engaged")
    [report] = [r for r in world.sync(1) if r.connection == VENDOR]
    assert report.conflicts == 0
    deal = hub_deal(world, key).opportunity
    assert deal.registration.channel_conflict is True
    assert deal.co_sell.status is CoSellStatus.ENGAGED


def test_unticking_register_withdraws_a_linked_deal(world: World) -> None:
    rid = world.partner_a.create(
        dealname="Withdraw me", amount="7", closedate="2026-06-30T00:00:00Z",
        channel_sync_register=True,
    )
    world.sync(2)
    key = only_key(world, PARTNER_A)
    assert hub_deal(world, key).opportunity.registration.status is RegistrationStatus.SUBMITTED
    world.partner_a.update(rid, channel_sync_register=False, dealname="Withdrawn deal")
    [report] = [r for r in world.sync(1) if r.connection == PARTNER_A]
    assert report.failed == 0
    assert report.updated == 1
    deal = hub_deal(world, key).opportunity
    assert deal.registration.status is RegistrationStatus.WITHDRAWN
    assert deal.name == "Withdrawn deal"
    assert failures(world, PARTNER_A) == []
    world.sync(1)
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    assert vendor["Registration_Status__c"] == "Withdrawn"
    # Reading the unticked deal again changes nothing and refuses nothing.
    [again] = [r for r in world.sync(1) if r.connection == PARTNER_A]
    assert (again.failed, again.updated) == (0, 0)


def test_an_unticked_record_that_was_never_linked_stays_skipped(world: World) -> None:
    world.partner_b.create(Name="Never registered", Amount=3, Channel_Sync_Register__c=False)
    [report] = [r for r in world.sync(1) if r.connection == PARTNER_B]
    assert report.skipped == 1
    assert report.failed == 0
    with world.store.read() as tx:
        assert tx.records.count() == 0
