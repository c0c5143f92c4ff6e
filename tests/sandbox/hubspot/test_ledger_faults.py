"""The call ledger agrees with what the client did; injected faults look like HubSpot's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from hubspot.crm.deals import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.deals.exceptions import ServiceException, UnauthorizedException

from .conftest import Portal, error_body


class CountingClient:
    """Runs client calls and keeps the client-side tally the ledger must agree with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, bool]] = []

    def call(
        self, method: str, path: str, status: int, fn: Callable[[], Any], *, billed: bool = True
    ) -> Any:
        if status >= 400:
            with pytest.raises(ApiException) as info:
                fn()
            assert info.value.status == status
            result = None
        else:
            result = fn()
        self.calls.append((method, path, status, billed))
        return result


def test_ledger_agrees_with_a_client_side_count(portal: Portal) -> None:
    c = CountingClient()
    deals = "/crm/v3/objects/deals"
    created = c.call(
        "POST",
        deals,
        201,
        lambda: portal.basic.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"dealname": "one"}
            )
        ),
    )
    c.call("GET", f"{deals}/{created.id}", 200, lambda: portal.basic.get_by_id(created.id))
    c.call(
        "PATCH",
        f"{deals}/{created.id}",
        200,
        lambda: portal.basic.update(
            created.id,
            simple_public_object_input=SimplePublicObjectInput(properties={"amount": "1"}),
        ),
    )
    inputs = [
        SimplePublicObjectBatchInputUpsert(
            id=f"cs-{i}", id_property="channel_sync_id", properties={}
        )
        for i in range(3)
    ]
    upserted = c.call(
        "POST",
        f"{deals}/batch/upsert",
        200,
        lambda: portal.batch.upsert(
            batch_input_simple_public_object_batch_input_upsert=(
                BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
            )
        ),
    )
    ids = [r.id for r in upserted.results]
    c.call(
        "POST",
        f"{deals}/batch/read",
        207,
        lambda: portal.batch.read(
            batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
                properties=[],
                properties_with_history=[],
                inputs=[SimplePublicObjectId(id=i) for i in [*ids, "10999999999"]],
            )
        ),
    )
    c.call(
        "POST",
        f"{deals}/search",
        200,
        lambda: portal.search.do_search(public_object_search_request=PublicObjectSearchRequest()),
    )
    c.call("GET", deals, 200, lambda: portal.basic.get_page(limit=2))
    c.call("GET", f"{deals}/10999999999", 404, lambda: portal.basic.get_by_id("10999999999"))
    c.call(
        "POST",
        deals,
        400,
        lambda: portal.basic.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"nope": "x"}
            )
        ),
    )
    c.call(
        "POST",
        f"{deals}/batch/archive",
        204,
        lambda: portal.batch.archive(
            batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in ids[:2]]
            )
        ),
    )
    c.call(
        "GET",
        "/crm/v3/properties/deals",
        200,
        lambda: portal.client.crm.properties.core_api.get_all("deals"),
    )
    anonymous = portal.new_client(None).crm.deals.basic_api
    c.call("GET", deals, 401, anonymous.get_page, billed=False)

    ledger = portal.ledger(len(c.calls))
    entries = ledger["entries"]
    assert [
        (e["method"], e["path"], e["status"], e["counts_against_allowance"]) for e in entries
    ] == (c.calls)
    assert ledger["api_calls"] == sum(1 for *_, billed in c.calls if billed)
    # one create, one update, three upserts, two archives
    assert sum(e["records_written"] for e in entries) == 7
    # get, batch read (3 found), search (4 live deals), list page (2)
    assert sum(e["records_read"] for e in entries) == 1 + 3 + 4 + 2
    info = portal.control("GET", "/info")
    assert info["allowance"]["used"] == ledger["api_calls"]


def test_injected_status_uses_hubspot_error_shapes(portal: Portal) -> None:
    portal.faults(
        rules=[
            {"id": "down", "method": "POST", "path": "/search$", "status": 503},
            {"id": "burst", "method": "GET", "path": "^/crm/v3/objects/deals$", "status": 429},
        ]
    )

    with pytest.raises(ServiceException) as down:
        portal.search.do_search(public_object_search_request=PublicObjectSearchRequest())
    with pytest.raises(ApiException) as burst:
        portal.basic.get_page()

    assert error_body(down.value)["category"] == "INTERNAL_ERROR"
    assert error_body(burst.value)["policyName"] == "TEN_SECONDLY_ROLLING"
    faults = [e["fault"] for e in portal.ledger(2)["entries"] if e["fault"]]
    assert faults == ["down", "burst"]
    # Each rule applied once; the next calls go through.
    assert portal.basic.get_page().results == []


def test_injected_401_is_hubspot_shaped(portal: Portal) -> None:
    portal.faults(rules=[{"path": "^/crm/v3/objects/deals$", "status": 401}])
    with pytest.raises(UnauthorizedException) as info:
        portal.basic.get_page()
    assert error_body(info.value)["category"] == "INVALID_AUTHENTICATION"


def test_dropped_response_still_commits_the_write(portal: Portal) -> None:
    portal.faults(rules=[{"method": "POST", "path": "/batch/upsert$", "drop_response": True}])
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id="cs-lost", id_property="channel_sync_id", properties={"dealname": "lost"}
            )
        ]
    )

    with pytest.raises(urllib3.exceptions.HTTPError):
        portal.batch.upsert(
            batch_input_simple_public_object_batch_input_upsert=body,
            _request_timeout=5,
        )

    # The retry finds the deal already there: the upsert is idempotent.
    again = portal.batch.upsert(batch_input_simple_public_object_batch_input_upsert=body)
    assert [r.new for r in again.results] == [False]
