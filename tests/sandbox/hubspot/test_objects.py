"""Single-deal endpoints through hubspot-api-client: create, read, update, archive, list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hubspot.crm.deals import (
    ApiException,
    SimplePublicObject,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.deals.exceptions import NotFoundException
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInputForCreate

from .conftest import START, Portal, error_body


def create(portal: Portal, **properties: str) -> SimplePublicObject:
    body = SimplePublicObjectInputForCreate(properties=properties)
    return portal.basic.create(simple_public_object_input_for_create=body)


def test_create_answers_201_with_string_properties_and_system_fields(portal: Portal) -> None:
    deal = create(
        portal,
        dealname="ACME - Partner deal",
        amount="12000.50",
        dealstage="qualifiedtobuy",
        closedate="2026-03-31",
        channel_sync_products="ANALYTICS;CLOUD-CORE",
    )

    # The client deserializes create only for 201; a None here would mean a wrong status.
    assert isinstance(deal, SimplePublicObject)
    props = deal.properties
    assert props["dealname"] == "ACME - Partner deal"
    assert props["amount"] == "12000.5"
    assert props["closedate"] == "2026-03-31T00:00:00.000Z"
    assert props["pipeline"] == "default"
    assert props["hs_deal_stage_probability"] == "0.4"
    assert props["hs_object_id"] == deal.id
    assert props["createdate"] == "2026-01-05T10:00:00.000Z"
    assert props["hs_lastmodifieddate"] == "2026-01-05T10:00:00.000Z"
    assert all(isinstance(v, str) for v in props.values())
    assert deal.created_at == START
    assert deal.archived is False


def test_get_by_id_returns_default_properties_with_unset_ones_as_null(portal: Portal) -> None:
    created = create(portal, dealname="Beta")

    deal = portal.basic.get_by_id(created.id)

    assert deal.id == created.id
    assert set(deal.properties) == {
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    }
    assert deal.properties["amount"] is None
    assert deal.properties["dealname"] == "Beta"


def test_requested_properties_repeated_or_comma_separated(portal: Portal) -> None:
    created = create(portal, dealname="Gamma", channel_sync_customer_name="Gamma GmbH")

    repeated = portal.basic.get_by_id(
        created.id, properties=["dealname", "channel_sync_customer_name", "no_such_property"]
    )
    comma = portal.basic.get_by_id(created.id, properties=["dealname,channel_sync_customer_name"])

    expected = {
        "dealname": "Gamma",
        "channel_sync_customer_name": "Gamma GmbH",
        "createdate": "2026-01-05T10:00:00.000Z",
        "hs_lastmodifieddate": "2026-01-05T10:00:00.000Z",
        "hs_object_id": created.id,
    }
    assert repeated.properties == expected
    assert comma.properties == expected


def test_get_update_by_unique_id_property(portal: Portal) -> None:
    created = create(portal, dealname="Delta", channel_sync_id="cs-delta")

    by_key = portal.basic.get_by_id("cs-delta", id_property="channel_sync_id")
    assert by_key.id == created.id

    portal.clock.advance(timedelta(seconds=5))
    updated = portal.basic.update(
        "cs-delta",
        simple_public_object_input=SimplePublicObjectInput(properties={"amount": "5000"}),
        id_property="channel_sync_id",
    )

    assert updated.id == created.id
    assert updated.properties["amount"] == "5000"
    assert updated.properties["hs_lastmodifieddate"] == "2026-01-05T10:00:05.000Z"
    assert updated.properties["createdate"] == "2026-01-05T10:00:00.000Z"


def test_id_property_must_be_unique(portal: Portal) -> None:
    create(portal, dealname="Epsilon")

    with pytest.raises(ApiException) as info:
        portal.basic.get_by_id("Epsilon", id_property="dealname")

    assert info.value.status == 400
    assert error_body(info.value)["category"] == "VALIDATION_ERROR"


def test_update_clears_a_value_with_an_empty_string(portal: Portal) -> None:
    created = create(portal, dealname="Zeta", description="to be removed")

    portal.basic.update(
        created.id,
        simple_public_object_input=SimplePublicObjectInput(properties={"description": ""}),
    )

    deal = portal.basic.get_by_id(created.id, properties=["description"])
    assert deal.properties["description"] is None


def test_two_writes_in_one_millisecond_share_the_modification_time(portal: Portal) -> None:
    first = create(portal, dealname="One")
    second = create(portal, dealname="Two")
    portal.clock.advance(timedelta(microseconds=400))
    third = create(portal, dealname="Three")

    stamps = {d.properties["hs_lastmodifieddate"] for d in (first, second, third)}
    assert stamps == {"2026-01-05T10:00:00.000Z"}
    assert len({first.id, second.id, third.id}) == 3


def test_archive_answers_204_and_moves_the_deal_to_the_archived_listing(portal: Portal) -> None:
    kept = create(portal, dealname="Kept")
    gone = create(portal, dealname="Gone")
    portal.clock.advance(timedelta(minutes=1))

    assert portal.basic.archive(gone.id) is None
    # Archiving an id the portal does not know is not an error either.
    assert portal.basic.archive("99999999999") is None

    live = portal.basic.get_page(limit=100)
    assert [d.id for d in live.results] == [kept.id]
    archived = portal.basic.get_page(limit=100, archived=True)
    assert [d.id for d in archived.results] == [gone.id]
    assert archived.results[0].archived is True
    assert archived.results[0].archived_at == START + timedelta(minutes=1)
    with pytest.raises(NotFoundException):
        portal.basic.get_by_id(gone.id)
    assert portal.basic.get_by_id(gone.id, archived=True).archived is True


def test_list_pages_with_after_until_the_last_page(portal: Portal) -> None:
    ids = [create(portal, dealname=f"Deal {i}").id for i in range(25)]

    first = portal.basic.get_page()
    assert len(first.results) == 10  # the default limit
    assert first.paging.next.after == ids[10]
    assert first.paging.next.link.endswith(f"after={ids[10]}")

    seen: list[str] = []
    after = None
    while True:
        page = portal.basic.get_page(limit=7, after=after)
        seen += [d.id for d in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == ids
    assert [d.id for d in portal.deals.get_all()] == ids


def test_list_limit_above_100_is_refused(portal: Portal) -> None:
    with pytest.raises(ApiException) as info:
        portal.basic.get_page(limit=101)
    assert info.value.status == 400
    assert error_body(info.value)["category"] == "VALIDATION_ERROR"


def test_object_type_0_3_reaches_the_same_deals(portal: Portal) -> None:
    objects = portal.client.crm.objects.basic_api
    created = objects.create(
        "0-3",
        simple_public_object_input_for_create=ObjectInputForCreate(
            properties={"dealname": "Via 0-3"}
        ),
    )

    assert portal.basic.get_by_id(created.id).properties["dealname"] == "Via 0-3"
    assert [d.id for d in objects.get_page("0-3").results] == [created.id]


def test_unknown_object_type_is_refused(portal: Portal) -> None:
    with pytest.raises(ObjectsApiException) as info:
        portal.client.crm.objects.basic_api.get_page("widgets")
    assert info.value.status == 400
    assert "widgets" in error_body(info.value)["message"]


def test_missing_deal_is_404_in_hubspot_shape(portal: Portal) -> None:
    with pytest.raises(NotFoundException) as info:
        portal.basic.get_by_id("12345678901")
    assert error_body(info.value)["category"] == "OBJECT_NOT_FOUND"
    with pytest.raises(NotFoundException):
        portal.basic.update(
            "12345678901",
            simple_public_object_input=SimplePublicObjectInput(properties={"dealname": "x"}),
        )
