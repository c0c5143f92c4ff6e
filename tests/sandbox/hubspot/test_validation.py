"""Refused writes and bad input: HubSpot's status and error body, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.deals import (
    ApiException,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from .conftest import Portal, error_body


def refused_create(portal: Portal, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as info:
        portal.basic.create(simple_public_object_input_for_create=body, **kwargs)
    return info.value.status, error_body(info.value)


def problems(body: dict[str, Any]) -> dict[str, str]:
    """The per-property problems HubSpot embeds as JSON in the message."""
    prefix = "Property values were not valid: "
    assert body["message"].startswith(prefix)
    embedded = json.loads(body["message"][len(prefix) :])
    assert [e["code"] for e in body["errors"]] == [e["error"] for e in embedded]
    return {e["name"]: e["error"] for e in embedded}


def test_read_only_and_unknown_properties_are_refused_together(portal: Portal) -> None:
    body = SimplePublicObjectInputForCreate(
        properties={
            "dealname": "x",
            "hs_object_id": "1",
            "hs_lastmodifieddate": "2026-01-01",
            "createdate": "2026-01-01",
            "favourite_colour": "blue",
        }
    )

    status, error = refused_create(portal, body)

    assert status == 400
    assert error["category"] == "VALIDATION_ERROR"
    assert problems(error) == {
        "hs_object_id": "READ_ONLY_VALUE",
        "hs_lastmodifieddate": "READ_ONLY_VALUE",
        "createdate": "READ_ONLY_VALUE",
        "favourite_colour": "PROPERTY_DOESNT_EXIST",
    }
    assert portal.basic.get_page().results == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("dealstage", "Closed Won"),
        ("deal_currency_code", "XYZ"),
        ("channel_sync_register", "maybe"),
        ("channel_sync_registration_status", "APPROVED"),
        ("channel_sync_products", "CLOUD-CORE;NOT-A-PRODUCT"),
        ("pipeline", "enterprise"),
    ],
)
def test_values_outside_the_options_are_invalid_option(
    portal: Portal, name: str, value: str
) -> None:
    status, error = refused_create(
        portal, SimplePublicObjectInputForCreate(properties={"dealname": "x", name: value})
    )
    assert status == 400
    assert problems(error) == {name: "INVALID_OPTION"}


def test_bad_number_and_date_are_refused(portal: Portal) -> None:
    status, error = refused_create(
        portal,
        SimplePublicObjectInputForCreate(
            properties={"amount": "12,000", "closedate": "next tuesday"}
        ),
    )
    assert status == 400
    assert problems(error) == {"amount": "INVALID_DECIMAL", "closedate": "INVALID_DATE"}


def test_values_are_normalized_to_hubspot_strings(portal: Portal) -> None:
    deal = portal.basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={
                "amount": 1500,
                "closedate": "1767607200000",
                "channel_sync_register": "TRUE",
                "channel_sync_registration_expires": "2026-06-30T12:00:00+02:00",
                "channel_sync_products": "TRAINING;ANALYTICS;TRAINING",
            }
        )
    )
    assert deal.properties["amount"] == "1500"
    assert deal.properties["closedate"] == "2026-01-05T10:00:00.000Z"
    assert deal.properties["channel_sync_register"] == "true"
    assert deal.properties["channel_sync_registration_expires"] == "2026-06-30T10:00:00.000Z"
    assert deal.properties["channel_sync_products"] == "TRAINING;ANALYTICS"


def test_duplicate_unique_value_is_a_409_conflict(portal: Portal) -> None:
    first = portal.basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "first", "channel_sync_id": "cs-1"}
        )
    )
    other = portal.basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "other", "channel_sync_id": "cs-2"}
        )
    )

    status, error = refused_create(
        portal,
        SimplePublicObjectInputForCreate(properties={"dealname": "dup", "channel_sync_id": "cs-1"}),
    )
    assert status == 409
    assert error["category"] == "CONFLICT"
    assert error["context"]["id"] == [first.id]

    with pytest.raises(ApiException) as info:
        portal.basic.update(
            other.id,
            simple_public_object_input=SimplePublicObjectInput(
                properties={"channel_sync_id": "cs-1"}
            ),
        )
    assert info.value.status == 409
    # Giving a deal its own value again is not a conflict.
    same = portal.basic.update(
        first.id,
        simple_public_object_input=SimplePublicObjectInput(properties={"channel_sync_id": "cs-1"}),
    )
    assert same.properties["channel_sync_id"] == "cs-1"


def test_unique_value_of_an_archived_deal_can_be_used_again(portal: Portal) -> None:
    old = portal.basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"channel_sync_id": "cs-9"}
        )
    )
    portal.basic.archive(old.id)

    new = portal.basic.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"channel_sync_id": "cs-9"}
        )
    )
    assert new.id != old.id
    assert portal.basic.get_by_id("cs-9", id_property="channel_sync_id").id == new.id


def test_malformed_json_is_a_400_not_a_500(portal: Portal) -> None:
    # text/plain makes the client send the string as it is instead of JSON-encoding it.
    status, error = refused_create(
        portal, '{"properties": {"dealname": ', _content_type="text/plain"
    )
    assert status == 400
    assert error["category"] == "VALIDATION_ERROR"
    assert error["message"].startswith("Invalid input JSON on line 1")


@pytest.mark.parametrize(
    "body",
    [
        SimplePublicObjectInputForCreate(properties=["dealname"]),
        SimplePublicObjectInputForCreate(properties={"dealname": {"nested": True}}),
        SimplePublicObjectInputForCreate(properties={"amount": [1, 2]}),
        '"just a string"',
        "[1, 2, 3]",
    ],
)
def test_wrong_shapes_are_400(portal: Portal, body: Any) -> None:
    kwargs = {"_content_type": "text/plain"} if isinstance(body, str) else {}
    status, error = refused_create(portal, body, **kwargs)
    assert status == 400
    assert error["category"] == "VALIDATION_ERROR"


def test_unknown_paths_and_methods_answer_json(portal: Portal) -> None:
    # api_request is the client's own escape hatch for endpoints it does not wrap.
    missing = portal.client.api_request({"method": "GET", "path": "/crm/v3/nothing/here"})
    wrong_method = portal.client.api_request({"method": "PUT", "path": "/crm/v3/objects/deals/1"})

    assert missing.status_code == 404
    assert missing.json()["status"] == "error"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["category"] == "VALIDATION_ERROR"
