"""Properties and pipelines APIs through hubspot-api-client."""

from __future__ import annotations

import pytest
from hubspot.crm.pipelines import ApiException as PipelinesApiException
from hubspot.crm.properties import ApiException as PropertiesApiException

from .conftest import Portal

STANDARD = {
    "hs_object_id": "number",
    "dealname": "string",
    "dealstage": "enumeration",
    "pipeline": "enumeration",
    "amount": "number",
    "deal_currency_code": "enumeration",
    "closedate": "datetime",
    "description": "string",
    "hs_deal_stage_probability": "number",
    "createdate": "datetime",
    "hs_lastmodifieddate": "datetime",
}
CUSTOM = {
    "channel_sync_id": "string",
    "channel_sync_register": "bool",
    "channel_sync_registration_status": "enumeration",
    "channel_sync_registration_number": "string",
    "channel_sync_registration_expires": "datetime",
    "channel_sync_decision_reason": "string",
    "channel_sync_co_sell_status": "enumeration",
    "channel_sync_vendor_rep": "string",
    "channel_sync_next_step": "string",
    "channel_sync_co_sell_notes": "string",
    "channel_sync_customer_name": "string",
    "channel_sync_customer_domain": "string",
    "channel_sync_customer_country": "string",
    "channel_sync_customer_industry": "string",
    "channel_sync_products": "enumeration",
    "channel_sync_partner_contact_email": "string",
}


def test_every_documented_property_is_described(portal: Portal) -> None:
    results = portal.client.crm.properties.core_api.get_all("deals").results
    by_name = {p.name: p for p in results}

    assert {n: p.type for n, p in by_name.items()} == {**STANDARD, **CUSTOM}
    assert [n for n, p in by_name.items() if p.has_unique_value] == ["channel_sync_id"]
    assert {n for n, p in by_name.items() if not p.hubspot_defined} == set(CUSTOM)
    assert all(by_name[n].group_name == "channel_sync" for n in CUSTOM)
    read_only = {n for n, p in by_name.items() if p.modification_metadata.read_only_value}
    assert read_only == {
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
        "hs_deal_stage_probability",
    }


def test_enumeration_options(portal: Portal) -> None:
    core = portal.client.crm.properties.core_api
    products = core.get_by_name("deals", "channel_sync_products")
    assert products.field_type == "checkbox"
    assert [o.value for o in products.options] == [
        "CLOUD-CORE",
        "CLOUD-PLUS",
        "SECURITY-SUITE",
        "ANALYTICS",
        "SUPPORT-PREMIUM",
        "TRAINING",
    ]
    register = core.get_by_name("deals", "channel_sync_register")
    assert register.field_type == "booleancheckbox"
    assert {o.value for o in register.options} == {"true", "false"}
    status = core.get_by_name("0-3", "channel_sync_registration_status")
    assert [o.value for o in status.options] == [
        "submitted",
        "under_review",
        "approved",
        "rejected",
        "expired",
        "withdrawn",
    ]
    currency = core.get_by_name("deals", "deal_currency_code")
    assert len(currency.options) == 10


def test_unknown_property_is_404(portal: Portal) -> None:
    with pytest.raises(PropertiesApiException) as info:
        portal.client.crm.properties.core_api.get_by_name("deals", "favourite_colour")
    assert info.value.status == 404


def test_default_pipeline_and_its_stages(portal: Portal) -> None:
    pipelines = portal.client.crm.pipelines.pipelines_api.get_all("deals").results

    assert [p.id for p in pipelines] == ["default"]
    stages = pipelines[0].stages
    assert [(s.id, s.metadata["probability"], s.metadata["isClosed"]) for s in stages] == [
        ("appointmentscheduled", "0.2", "false"),
        ("qualifiedtobuy", "0.4", "false"),
        ("presentationscheduled", "0.6", "false"),
        ("decisionmakerboughtin", "0.8", "false"),
        ("contractsent", "0.9", "false"),
        ("closedwon", "1.0", "true"),
        ("closedlost", "0.0", "true"),
    ]
    stage_api = portal.client.crm.pipelines.pipeline_stages_api
    assert stage_api.get_by_id("deals", "default", "closedwon").label == "Closed Won"
    assert len(stage_api.get_all("deals", "default").results) == 7
    # The dealstage property offers exactly the pipeline's stage ids.
    dealstage = portal.client.crm.properties.core_api.get_by_name("deals", "dealstage")
    assert [o.value for o in dealstage.options] == [s.id for s in stages]


def test_unknown_pipeline_is_404(portal: Portal) -> None:
    with pytest.raises(PipelinesApiException) as info:
        portal.client.crm.pipelines.pipelines_api.get_by_id("deals", "enterprise")
    assert info.value.status == 404
