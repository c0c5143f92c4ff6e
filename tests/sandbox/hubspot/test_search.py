"""CRM search through hubspot-api-client: filters, sort, paging, and HubSpot's limits."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    CollectionResponseWithTotalSimplePublicObjectForwardPaging,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)

from channel_sync.clock import FrozenClock
from channel_sync.sandbox import InstanceSpec, SandboxServer
from channel_sync.sandbox.hubspot.search_request import SearchLimits
from channel_sync.sandbox.seed import generate_deals

from .conftest import START, Portal, error_body

#: Spacing that keeps a well-behaved client under the 5 searches per second.
PACE = timedelta(milliseconds=250)


def search(portal: Portal, **request: Any) -> Any:
    portal.clock.advance(PACE)
    return portal.search.do_search(
        public_object_search_request=PublicObjectSearchRequest(**request)
    )


def where(*filters: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"filters": list(filters)}]


def f(name: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    out = {"propertyName": name, "operator": operator, **extra}
    if value is not None:
        out["value"] = value
    return out


def names(result: Any) -> list[str]:
    return [d.properties["dealname"] for d in result.results]


@pytest.fixture
def deals(portal: Portal) -> dict[str, str]:
    """Five deals written one minute apart: name -> id."""
    rows = [
        {"dealname": "Alpha cloud rollout", "amount": "500", "dealstage": "closedwon"},
        {"dealname": "Beta renewal", "amount": "1500.5", "channel_sync_products": "ANALYTICS"},
        {
            "dealname": "Gamma expansion",
            "amount": "25000",
            "channel_sync_products": "TRAINING;ANALYTICS",
            "dealstage": "contractsent",
        },
        {"dealname": "Delta pilot", "closedate": "2026-02-01"},
        {"dealname": "Epsilon migration", "amount": "99", "description": "cloud migration"},
    ]
    ids: dict[str, str] = {}
    for i, row in enumerate(rows):
        portal.clock.advance(timedelta(minutes=1))
        body = BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id=f"cs-{i}", id_property="channel_sync_id", properties=row
                )
            ]
        )
        result = portal.batch.upsert(batch_input_simple_public_object_batch_input_upsert=body)
        ids[row["dealname"].split()[0]] = result.results[0].id
    return ids


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (f("amount", "EQ", "1500.50"), ["Beta"]),
        (f("amount", "NEQ", "500"), ["Beta", "Gamma", "Delta", "Epsilon"]),
        (f("amount", "LT", "500"), ["Epsilon"]),
        (f("amount", "LTE", "500"), ["Alpha", "Epsilon"]),
        (f("amount", "GT", "1000"), ["Beta", "Gamma"]),
        (f("amount", "GTE", "1500.5"), ["Beta", "Gamma"]),
        (f("amount", "BETWEEN", "100", highValue="2000"), ["Alpha", "Beta"]),
        (f("dealstage", "IN", values=["closedwon", "contractsent"]), ["Alpha", "Gamma"]),
        (f("dealstage", "NOT_IN", values=["closedwon"]), ["Beta", "Gamma", "Delta", "Epsilon"]),
        (f("amount", "HAS_PROPERTY"), ["Alpha", "Beta", "Gamma", "Epsilon"]),
        (f("amount", "NOT_HAS_PROPERTY"), ["Delta"]),
        (f("dealname", "CONTAINS_TOKEN", "renewal"), ["Beta"]),
        (f("dealname", "CONTAINS_TOKEN", "*ion"), ["Gamma", "Epsilon"]),
        (f("dealname", "NOT_CONTAINS_TOKEN", "pilot"), ["Alpha", "Beta", "Gamma", "Epsilon"]),
        (f("dealname", "EQ", "beta RENEWAL"), ["Beta"]),
        (f("channel_sync_products", "EQ", "ANALYTICS"), ["Beta", "Gamma"]),
        (f("channel_sync_products", "IN", values=["TRAINING"]), ["Gamma"]),
        (f("closedate", "GTE", "2026-02-01"), ["Delta"]),
        (f("closedate", "EQ", "1769904000000"), ["Delta"]),
    ],
)
def test_filter_operators(
    portal: Portal, deals: dict[str, str], flt: dict[str, Any], expected: list[str]
) -> None:
    result = search(portal, filter_groups=where(flt), properties=["dealname"])

    assert isinstance(result, CollectionResponseWithTotalSimplePublicObjectForwardPaging)
    assert [n.split()[0] for n in names(result)] == expected
    assert result.total == len(expected)


def test_modification_time_filter_accepts_epoch_ms_and_iso(
    portal: Portal, deals: dict[str, str]
) -> None:
    # Deals were written at START + 1..5 minutes.
    cutoff = START + timedelta(minutes=3)
    as_ms = str(int(cutoff.timestamp() * 1000))
    for value in (as_ms, "2026-01-05T10:03:00Z", "2026-01-05T10:03:00.000+00:00"):
        result = search(portal, filter_groups=where(f("hs_lastmodifieddate", "GT", value)))
        assert [n.split()[0] for n in names(result)] == ["Delta", "Epsilon"]


def test_groups_are_or_of_and(portal: Portal, deals: dict[str, str]) -> None:
    groups = [
        {"filters": [f("amount", "GT", "100"), f("amount", "LT", "1000")]},
        {"filters": [f("dealname", "CONTAINS_TOKEN", "pilot")]},
    ]
    assert [n.split()[0] for n in names(search(portal, filter_groups=groups))] == [
        "Alpha",
        "Delta",
    ]


def test_one_sort_by_object_or_string(portal: Portal, deals: dict[str, str]) -> None:
    ascending = search(
        portal,
        filter_groups=where(f("amount", "HAS_PROPERTY")),
        sorts=[{"propertyName": "amount", "direction": "ASCENDING"}],
    )
    descending = search(portal, filter_groups=where(f("amount", "HAS_PROPERTY")), sorts=["-amount"])
    by_name = search(portal, sorts=["dealname"], properties=["dealname"])

    assert [d.properties["amount"] for d in ascending.results] == ["99", "500", "1500.5", "25000"]
    assert [d.properties["amount"] for d in descending.results] == ["25000", "1500.5", "500", "99"]
    assert [n.split()[0] for n in names(by_name)] == ["Alpha", "Beta", "Delta", "Epsilon", "Gamma"]


def test_free_text_query(portal: Portal, deals: dict[str, str]) -> None:
    assert [n.split()[0] for n in names(search(portal, query="cloud"))] == ["Alpha", "Epsilon"]
    assert [n.split()[0] for n in names(search(portal, query="migr cloud"))] == ["Epsilon"]


def test_search_returns_requested_properties_and_never_archived_deals(
    portal: Portal, deals: dict[str, str]
) -> None:
    portal.basic.archive(deals["Beta"])

    result = search(portal, properties=["amount", "channel_sync_id"], limit=200)

    assert result.total == 4
    assert deals["Beta"] not in [d.id for d in result.results]
    assert set(result.results[0].properties) == {
        "amount",
        "channel_sync_id",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    assert all(d.archived is False for d in result.results)


def test_paging_with_after_and_total(portal: Portal, deals: dict[str, str]) -> None:
    sort = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    first = search(portal, sorts=sort, limit=2)
    assert first.total == 5
    assert first.paging.next.after == "2"
    second = search(portal, sorts=sort, limit=2, after=first.paging.next.after)
    last = search(portal, sorts=sort, limit=2, after=second.paging.next.after)
    assert last.paging is None
    seen = [d.id for page in (first, second, last) for d in page.results]
    assert seen == list(deals.values())


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [
        ({"filter_groups": [{"filters": [f("amount", "HAS_PROPERTY")]}] * 6}, "filter groups"),
        ({"filter_groups": where(*[f("amount", "HAS_PROPERTY")] * 7)}, "filters in a group"),
        (
            {"filter_groups": [{"filters": [f("amount", "HAS_PROPERTY")] * 5}] * 4},
            "Too many filters",
        ),
        ({"limit": 201}, "limit"),
        ({"sorts": ["amount", "dealname"]}, "one sort"),
        ({"after": "9900", "limit": 200}, "limited to 10000"),
        ({"filter_groups": where(f("no_such_property", "EQ", "x"))}, "problem"),
        ({"filter_groups": where(f("amount", "SOUNDS_LIKE", "x"))}, "problem"),
        ({"filter_groups": where(f("amount", "GT", "lots"))}, "problem"),
    ],
)
def test_limits_and_bad_requests_are_400(
    portal: Portal, request_body: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ApiException) as info:
        search(portal, **request_body)
    assert info.value.status == 400
    body = error_body(info.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert fragment in body["message"]


def test_the_last_page_inside_the_window_is_allowed(portal: Portal) -> None:
    result = search(portal, after="9800", limit=200)
    assert result.total == 0
    assert result.results == []


#: The result window of the paging test's own portal. HubSpot's is 10,000 (the default, checked
#: above without data); paging 10,000 deals through the client's model classes takes ~10 s, so
#: the default run uses a smaller window. Set it to 10000 for the full-size run.
WINDOW = int(os.environ.get("CHANNEL_SYNC_HS_SEARCH_WINDOW", "1000"))


def test_paging_to_the_end_of_the_window_then_restarting_from_the_cursor() -> None:
    clock = FrozenClock(START)
    settings = {"search_limits": SearchLimits(window=WINDOW)}
    spec = InstanceSpec("partner", "hubspot", settings=settings)
    with SandboxServer([spec], clock=clock) as server:
        instance = server.instances["partner"]
        portal = Portal(
            instance, clock, HubSpot(access_token=instance.access_token, host=instance.base_url)
        )
        n = WINDOW + 50
        print(f"paging {n} deals through a {WINDOW}-result window")
        portal.backend.seed(list(generate_deals(7, n)))
        sort = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
        request: dict[str, Any] = {
            "sorts": sort,
            "limit": 200,
            "properties": ["hs_lastmodifieddate"],
        }

        seen: list[str] = []
        after: str | None = None
        while after is None or int(after) + 200 <= WINDOW:
            page = search(portal, after=after, **request)
            assert page.total == n
            seen += [d.id for d in page.results]
            after = page.paging.next.after
        assert len(seen) == WINDOW
        assert after == str(WINDOW)
        # HubSpot still offers the next page, but asking for it is refused.
        with pytest.raises(ApiException) as info:
            search(portal, after=after, **request)
        assert info.value.status == 400
        assert error_body(info.value)["category"] == "VALIDATION_ERROR"

        # A connector starts a new query after the last modification time it saw.
        cursor = portal.basic.get_by_id(seen[-1]).properties["hs_lastmodifieddate"]
        rest = search(
            portal, filter_groups=where(f("hs_lastmodifieddate", "GT", cursor)), **request
        )
        assert rest.total == n - WINDOW
        assert len(set(seen) | {d.id for d in rest.results}) == n


def test_five_searches_per_second_then_429_secondly(portal: Portal) -> None:
    portal.clock.advance(timedelta(seconds=5))
    for _ in range(5):
        portal.search.do_search(public_object_search_request=PublicObjectSearchRequest(limit=1))

    with pytest.raises(ApiException) as info:
        portal.search.do_search(public_object_search_request=PublicObjectSearchRequest(limit=1))

    assert info.value.status == 429
    body = error_body(info.value)
    assert body["policyName"] == "SECONDLY"
    assert body["category"] == "RATE_LIMITS"
    assert body["message"] == "You have reached your secondly limit."
    # Search has its own limit: other endpoints are not affected.
    assert portal.basic.get_page().results == []
    portal.clock.advance(timedelta(seconds=1))
    assert (
        portal.search.do_search(public_object_search_request=PublicObjectSearchRequest()).total == 0
    )


def test_search_responses_carry_no_rate_limit_headers(portal: Portal) -> None:
    search(portal)
    search_headers = {k.lower() for k in portal.search.api_client.last_response.getheaders()}
    portal.basic.get_page()
    list_headers = {k.lower() for k in portal.basic.api_client.last_response.getheaders()}

    assert not any(h.startswith("x-hubspot-ratelimit") for h in search_headers)
    assert "x-hubspot-ratelimit-remaining" in list_headers
