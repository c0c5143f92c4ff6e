"""Deals created in a partner's own CRM carry no canonical id until the engine stamps it.

The partner types a deal into its CRM and ticks "register with vendor"; nothing else. The engine
gives the deal a canonical id, creates it in the vendor CRM, and writes the id (with the vendor's
answers) back onto that same partner record -- never a second record -- so from then on every
write is an upsert on the id.
"""

from __future__ import annotations

from sync.world import PARTNER_A, PARTNER_B, VENDOR, World, positions, writes


def test_a_hubspot_deal_typed_by_the_partner_gets_its_id_stamped(world: World) -> None:
    rid = world.partner_a.create(
        dealname="Typed by hand", amount="1500", closedate="2026-09-30T00:00:00Z",
        channel_sync_register="true",
    )
    world.sync(2)
    [deal] = [r for r in world.partner_a.records() if r["hs_object_id"] == rid]
    key = deal["channel_sync_id"]
    assert key, "the canonical id was not written back to the partner's deal"
    assert len(world.partner_a.records()) == 1
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    assert vendor["Name"] == "Typed by hand"
    assert vendor["Partner_Account__c"] == "partner-a"
    assert deal["channel_sync_registration_status"] == "submitted"
    # Quiet from here on: the stamped record reads back as what was written.
    since = positions(world)
    world.settle()
    world.sync(2)
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}


def test_a_salesforce_opportunity_typed_by_the_partner_gets_its_id_stamped(world: World) -> None:
    rid = world.partner_b.create(
        Name="Typed in Salesforce", StageName="Prospecting", CloseDate="2026-10-31",
        Amount=2500, Channel_Sync_Register__c=True,
    )
    world.sync(2)
    [row] = [r for r in world.partner_b.records() if r["Id"] == rid]
    key = row["Channel_Sync_Id__c"]
    assert key
    assert len(world.partner_b.records()) == 1
    vendor = world.vendor.by_key(key)
    assert vendor is not None
    assert vendor["Partner_Account__c"] == "partner-b"
