"""Registration workflow edge cases end to end: the three sandbox CRMs, the real connectors and
engine with the workflow rules, driven by people's edits through the real client libraries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from channel_sync.demo.world import PARTNER_A, VENDOR, DemoWorld, open_world
from channel_sync.model import RegistrationStatus
from channel_sync.store import FailedRecord

HS = ("channel_sync_id", "channel_sync_registration_status", "channel_sync_co_sell_status")


@pytest.fixture(scope="module")
def world() -> Iterator[DemoWorld]:
    with open_world() as opened:
        opened.sync_round()
        yield opened


def register_a(world: DemoWorld, name: str, domain: str, **extra: str) -> tuple[str, str]:
    """Partner A registers a deal; returns (HubSpot id, canonical id) once synced."""
    deal_id = world.rep_a.create(
        {
            "dealname": name,
            "dealstage": "qualifiedtobuy",
            "pipeline": "default",
            "amount": "10000",
            "deal_currency_code": "USD",
            "closedate": "2026-12-31T00:00:00Z",
            "channel_sync_register": "true",
            "channel_sync_customer_name": name,
            "channel_sync_customer_domain": domain,
            "channel_sync_products": "TRAINING",
            **extra,
        }
    )
    world.sync_round()
    canonical = world.rep_a.get(deal_id, HS)["channel_sync_id"]
    assert canonical
    return deal_id, str(canonical)


def vendor_row(world: DemoWorld, canonical_id: str) -> dict[str, Any]:
    fields = ("Registration_Status__c", "Registration_Number__c", "Amount", "Co_Sell_Status__c")
    [row] = world.channel_manager.find("Channel_Sync_Id__c", canonical_id, fields)
    return row


def hub_status(world: DemoWorld, canonical_id: str) -> RegistrationStatus:
    with world.service.store.read() as tx:
        record = tx.records.get(canonical_id)
    assert record is not None
    return record.opportunity.registration.status


def failures(world: DemoWorld, connection: str, canonical_id: str) -> list[FailedRecord]:
    with world.service.store.read() as tx:
        return [
            f
            for f in tx.failures.for_connection(connection)
            if f.canonical_id == canonical_id or f.remote_id is not None
        ]


def approve(world: DemoWorld, canonical_id: str) -> None:
    row = vendor_row(world, canonical_id)
    world.channel_manager.update(row["Id"], {"Registration_Status__c": "Approved"})
    world.sync_round()
    assert hub_status(world, canonical_id) is RegistrationStatus.APPROVED


def test_a_partner_deleting_its_deal_withdraws_the_registration(world: DemoWorld) -> None:
    deal_id = world.rep_b.create(
        {
            "Name": "Fallowmere Optics - training",
            "StageName": "Qualification",
            "CloseDate": "2026-12-31",
            "Customer_Name__c": "Fallowmere Optics",
            "Customer_Domain__c": "fallowmere.example",
            "Products__c": "TRAINING",
            "Channel_Sync_Register__c": True,
        }
    )
    world.sync_round()
    canonical = str(world.rep_b.get(deal_id)["Channel_Sync_Id__c"])
    assert vendor_row(world, canonical)["Registration_Status__c"] == "Submitted"
    world.rep_b.delete(deal_id)
    world.sync_round()
    assert hub_status(world, canonical) is RegistrationStatus.WITHDRAWN
    assert vendor_row(world, canonical)["Registration_Status__c"] == "Withdrawn"


def test_unticking_the_register_box_withdraws_the_registration(world: DemoWorld) -> None:
    deal_id, canonical = register_a(world, "Wrenfield Bakeries", "wrenfield.example")
    world.rep_a.update(deal_id, {"channel_sync_register": "false"})
    world.sync_round()
    assert hub_status(world, canonical) is RegistrationStatus.WITHDRAWN


def test_partner_edits_after_approval_keep_the_approval(world: DemoWorld) -> None:
    deal_id, canonical = register_a(world, "Ottermere Dairy", "ottermere.example")
    approve(world, canonical)
    world.rep_a.update(deal_id, {"amount": "12500"})
    world.sync_round()
    assert hub_status(world, canonical) is RegistrationStatus.APPROVED
    row = vendor_row(world, canonical)
    assert row["Registration_Status__c"] == "Approved"
    assert row["Amount"] == 12500
    assert world.rep_a.get(deal_id, HS)["channel_sync_registration_status"] == "approved"


def test_an_illegal_move_in_the_vendor_crm_is_a_visible_error_not_an_overwrite(
    world: DemoWorld,
) -> None:
    deal_id, canonical = register_a(world, "Brackwater Tiles", "brackwater.example")
    approve(world, canonical)
    row = vendor_row(world, canonical)
    world.channel_manager.update(row["Id"], {"Registration_Status__c": "Submitted"})
    reports = world.sync_round()
    assert any(r.connection == VENDOR and r.failed for r in reports)
    assert hub_status(world, canonical) is RegistrationStatus.APPROVED
    found = [
        f for f in failures(world, VENDOR, canonical) if "'approved' to 'submitted'" in f.message
    ]
    assert found, failures(world, VENDOR, canonical)
    assert world.rep_a.get(deal_id, HS)["channel_sync_registration_status"] == "approved"
    status = world.service.store.status()
    assert status.failed_records.get(VENDOR, 0) >= 1


def test_a_partner_cannot_mark_its_own_deal_engaged(world: DemoWorld) -> None:
    deal_id, canonical = register_a(world, "Heronsgate Mills", "heronsgate.example")
    world.rep_a.update(deal_id, {"channel_sync_co_sell_status": "engaged"})
    world.sync_round()
    with world.service.store.read() as tx:
        record = tx.records.get(canonical)
    assert record is not None
    assert record.opportunity.co_sell.status.value != "engaged"
    assert vendor_row(world, canonical)["Co_Sell_Status__c"] != "Engaged"


def test_a_partner_engaging_itself_is_a_visible_error(world: DemoWorld) -> None:
    deal_id, canonical = register_a(world, "Tanager Looms", "tanager.example")
    world.rep_a.update(deal_id, {"channel_sync_co_sell_status": "engaged"})
    world.sync_round()
    assert any("co-sell" in f.message for f in failures(world, PARTNER_A, canonical))
