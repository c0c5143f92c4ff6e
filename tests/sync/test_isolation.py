"""Tenant isolation: a partner-A deal never reaches partner B, whatever B's records claim.

Every deal carries canary strings unique to its partner; after syncing in both directions the
test greps every field of every record in the other partner's CRM, the failure messages and
the cycle reports for them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from channel_sync.mapping import canonical_value
from channel_sync.store import OutboxStatus
from channel_sync.sync.routing import NOT_YOURS
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World


def _create(world: World, partner: str, key: str, canary: str) -> None:
    facts = world.engine.hub.facts[partner]
    wire = facts.mapping.outbound({
        "name": f"{canary} deal",
        "description": f"notes {canary}",
        "customer.company_name": f"{canary} GmbH",
        "target_close_date": canonical_value("target_close_date", "2026-06-30"),
    })
    scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
    user = world.partner_a if partner == PARTNER_A else world.partner_b
    user.create(**{**wire, **scope, facts.mapping.keys.external_id: key})


def _text(rows: Any) -> str:
    return json.dumps(rows, default=str)


def test_partner_a_deals_never_reach_partner_b(world: World) -> None:
    canary_a, canary_b = f"CANARY-A-{uuid.uuid4().hex[:8]}", f"CANARY-B-{uuid.uuid4().hex[:8]}"
    keys_a = [f"cs_iso_a_{n}_{uuid.uuid4().hex[:6]}" for n in range(5)]
    for key in keys_a:
        _create(world, PARTNER_A, key, canary_a)
    for n in range(5):
        _create(world, PARTNER_B, f"cs_iso_b_{n}_{uuid.uuid4().hex[:6]}", canary_b)
    world.sync(2)
    # The vendor works on partner A's deals; none of it may leak either.
    for key in keys_a:
        record = world.vendor.by_key(key)
        assert record is not None
        world.vendor.update(str(record["Id"]), NextStep=f"call {canary_a}",
                            Registration_Status__c="Approved")
    # Partner B tries to claim one of partner A's deals by its canonical id.
    stolen = keys_a[0]
    facts_b = world.engine.hub.facts[PARTNER_B]
    world.partner_b.create(**{
        **facts_b.mapping.outbound({"name": f"{canary_b} claim",
                                    "target_close_date": canonical_value("target_close_date",
                                                                         "2026-06-30")}),
        "Channel_Sync_Register__c": True,
        "Channel_Sync_Id__c": stolen,
    })
    reports = world.sync(3)

    b_rows = world.partner_b.records()
    a_rows = world.partner_a.records()
    assert canary_a not in _text(b_rows)
    assert canary_b not in _text(a_rows)
    assert "partner-a" not in _text(b_rows)
    assert {r.get("Partner_Account__c") for r in world.vendor.records()} == {
        "partner-a", "partner-b"
    }
    # The claim was refused, visibly, without naming the deal's real partner.
    with world.store.read() as tx:
        failures = tx.failures.for_connection(PARTNER_B)
        deal = tx.records.get(stolen)
    assert [f.message for f in failures] == [NOT_YOURS]
    assert all(f.canonical_id is None for f in failures)
    assert deal is not None
    assert deal.partner_id == "partner-a"
    assert canary_b not in deal.opportunity.name
    b_reports = [r for r in reports if r.connection == PARTNER_B]
    assert canary_a not in _text([r.to_json() for r in b_reports])
    assert "partner-a" not in _text([r.to_json() for r in b_reports])
    vendor = world.vendor.by_key(stolen)
    assert vendor is not None
    assert canary_b not in _text(vendor)


def test_drain_refuses_a_write_routed_to_the_wrong_partner(world: World) -> None:
    """The last step before the HTTP call checks the deal's partner against the target."""
    key = f"cs_iso_{uuid.uuid4().hex[:8]}"
    _create(world, PARTNER_A, key, "CANARY-MISROUTE")
    world.sync(2)
    with world.store.transaction() as tx:
        entry = tx.outbox.enqueue(PARTNER_B, key, {"name": "CANARY-MISROUTE deal"})
    world.sync(1)
    assert "CANARY-MISROUTE" not in _text(world.partner_b.records())
    with world.store.read() as tx:
        settled = tx.outbox.get(entry.id)
        failures = tx.failures.for_connection(PARTNER_B)
    assert settled is not None
    assert settled.status is OutboxStatus.FAILED
    assert settled.last_error == NOT_YOURS
    assert settled.attempts == 1  # never retried
    assert [f.message for f in failures] == [NOT_YOURS]


def test_vendor_direct_deals_reach_no_partner(world: World) -> None:
    world.vendor.create(Name="CANARY-DIRECT vendor deal", Channel_Sync_Id__c="cs_direct_1")
    reports = world.sync(2)
    assert all(r.status.value == "ok" for r in reports)
    with world.store.read() as tx:
        deal = tx.records.get("cs_direct_1")
    assert deal is not None
    assert deal.partner_id is None
    for user in (world.partner_a, world.partner_b):
        assert "CANARY-DIRECT" not in _text(user.records())
    assert VENDOR in {r.connection for r in reports if r.created}
