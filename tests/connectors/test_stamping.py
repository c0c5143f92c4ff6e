"""Stamping the canonical id onto records created in the CRM itself.

A partner creates a deal in its own CRM; it carries no canonical id yet. The engine writes the id
to that very record (updating it by its own remote id), never creating a second one, and a replay
of the same write addresses the same record again.
"""

from __future__ import annotations

from typing import Any

from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInputForCreate
from simple_salesforce.api import Salesforce

from channel_sync.connectors.protocol import ObjectSpec, Upsert
from channel_sync.sandbox import RunningInstance
from channel_sync.testing import SteerableClock

from .conftest import hs_fields, hubspot_connector, salesforce_connector, sf_fields

SF_SPEC = ObjectSpec(
    "Opportunity",
    "Id",
    "Channel_Sync_Id__c",
    "SystemModstamp",
    ("Name", "StageName", "CloseDate", "Amount"),
)
HS_SPEC = ObjectSpec(
    "deals",
    "hs_object_id",
    "channel_sync_id",
    "hs_lastmodifieddate",
    ("dealname", "dealstage", "pipeline", "amount"),
)


def _sf_client(vendor: RunningInstance) -> Salesforce:
    return Salesforce(
        instance_url=vendor.base_url,
        session_id=vendor.access_token,
        session=vendor.requests_session(),
    )


def _sf_rows(sf: Salesforce) -> list[dict[str, Any]]:
    result = sf.query_all("SELECT Id, Name, Channel_Sync_Id__c FROM Opportunity")
    return [dict(r) for r in result["records"]]


def test_salesforce_stamps_a_record_created_in_the_crm(
    vendor: RunningInstance, clock: SteerableClock
) -> None:
    sf = _sf_client(vendor)
    made = sf.Opportunity.create(sf_fields(1))
    native_id = made["id"]
    connector = salesforce_connector(vendor, clock, SF_SPEC)
    ops = [
        Upsert("cs-keyed-1", sf_fields(2)),
        Upsert("cs-stamp-1", {"Amount": 4242}, remote_id=native_id),
        Upsert("cs-keyed-2", sf_fields(3)),
    ]
    first = connector.write_batch("Opportunity", ops)
    assert [r.key for r in first] == ["cs-keyed-1", "cs-stamp-1", "cs-keyed-2"]
    assert all(r.ok for r in first), first
    assert first[1].remote_id == native_id
    again = connector.write_batch("Opportunity", [ops[1]])
    assert again[0].ok
    rows = _sf_rows(sf)
    assert len(rows) == 3
    stamped = [r for r in rows if r["Channel_Sync_Id__c"] == "cs-stamp-1"]
    assert [r["Id"] for r in stamped] == [native_id]
    assert sf.Opportunity.get(native_id)["Amount"] == 4242


def test_hubspot_stamps_a_deal_created_in_the_crm(
    partner: RunningInstance, clock: SteerableClock
) -> None:
    client = HubSpot(access_token=partner.access_token, host=partner.base_url)
    basic = client.crm.deals.basic_api
    made = basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties=hs_fields(1)
        )
    )
    connector = hubspot_connector(partner, clock, HS_SPEC)
    ops = [
        Upsert("cs-stamp-2", {"amount": "777"}, remote_id=made.id),
        Upsert("cs-keyed-3", hs_fields(2)),
    ]
    first = connector.write_batch("deals", ops)
    assert [r.key for r in first] == ["cs-stamp-2", "cs-keyed-3"]
    assert all(r.ok for r in first), first
    assert first[0].remote_id == made.id
    assert connector.write_batch("deals", [ops[0]])[0].ok
    deals = client.crm.deals.get_all(properties=["channel_sync_id", "amount"])
    assert len(deals) == 2
    stamped = [d for d in deals if d.properties["channel_sync_id"] == "cs-stamp-2"]
    assert [d.id for d in stamped] == [made.id]
    assert stamped[0].properties["amount"] == "777"
