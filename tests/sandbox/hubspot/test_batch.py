"""Batch endpoints through hubspot-api-client: status codes, 207 partial results, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.deals import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    BatchResponseSimplePublicUpsertObject,
    BatchResponseSimplePublicUpsertObjectWithErrors,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)

from .conftest import Portal, error_body

BATCH_LIMIT_MESSAGE = (
    "The maximum number of inputs supported in a batch is 100. "
    "Please reduce the number of items and try again"
)


def batch_create(portal: Portal, *properties: dict[str, str], traced: bool = False) -> Any:
    inputs = [
        SimplePublicObjectBatchInputForCreate(
            properties=p, object_write_trace_id=f"trace-{i}" if traced else None
        )
        for i, p in enumerate(properties)
    ]
    return portal.batch.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        )
    )


def upsert(portal: Portal, *pairs: tuple[str, dict[str, str]]) -> Any:
    inputs = [
        SimplePublicObjectBatchInputUpsert(id=key, id_property="channel_sync_id", properties=props)
        for key, props in pairs
    ]
    return portal.batch.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
        )
    )


def update(portal: Portal, *pairs: tuple[str, dict[str, str]]) -> Any:
    inputs = [SimplePublicObjectBatchInput(id=key, properties=props) for key, props in pairs]
    return portal.batch.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=inputs
        )
    )


def read(portal: Portal, *ids: str, archived: bool = False, id_property: str | None = None) -> Any:
    body = BatchReadInputSimplePublicObjectId(
        properties=["dealname", "amount"],
        properties_with_history=[],
        id_property=id_property,
        inputs=[SimplePublicObjectId(id=i) for i in ids],
    )
    return portal.batch.read(batch_read_input_simple_public_object_id=body, archived=archived)


def test_batch_create_answers_201(portal: Portal) -> None:
    result = batch_create(portal, {"dealname": "a", "amount": "1"}, {"dealname": "b"})

    assert isinstance(result, BatchResponseSimplePublicObject)
    assert result.status == "COMPLETE"
    assert [r.properties["dealname"] for r in result.results] == ["a", "b"]
    assert all(r.properties["hs_object_id"] == r.id for r in result.results)
    assert len(portal.basic.get_page().results) == 2


def test_batch_read_answers_200_or_207_with_the_missing_ids(portal: Portal) -> None:
    created = batch_create(portal, {"dealname": "a"}, {"dealname": "b"}).results
    ids = [d.id for d in created]

    complete = read(portal, *ids)
    assert isinstance(complete, BatchResponseSimplePublicObject)
    assert sorted(d.id for d in complete.results) == sorted(ids)
    assert set(complete.results[0].properties) == {
        "dealname",
        "amount",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }

    partial = read(portal, ids[0], "10999999999")
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert partial.num_errors == 1
    assert [d.id for d in partial.results] == [ids[0]]
    assert partial.errors[0].category == "OBJECT_NOT_FOUND"
    assert partial.errors[0].context == {"ids": ["10999999999"]}


def test_batch_read_by_unique_property_and_archived(portal: Portal) -> None:
    upsert(portal, ("cs-a", {"dealname": "a"}), ("cs-b", {"dealname": "b"}))
    by_key = read(portal, "cs-a", "cs-b", id_property="channel_sync_id")
    assert sorted(d.properties["dealname"] for d in by_key.results) == ["a", "b"]

    doomed = by_key.results[0].id
    portal.batch.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=doomed)]
        )
    )
    assert [d.id for d in read(portal, doomed, archived=True).results] == [doomed]
    assert read(portal, doomed).num_errors == 1


def test_upsert_creates_then_updates_with_the_new_flag(portal: Portal) -> None:
    first = upsert(portal, ("cs-1", {"dealname": "one"}), ("cs-2", {"dealname": "two"}))
    assert isinstance(first, BatchResponseSimplePublicUpsertObject)
    assert [r.new for r in first.results] == [True, True]
    assert first.results[0].properties["channel_sync_id"] == "cs-1"

    second = upsert(portal, ("cs-1", {"amount": "10"}), ("cs-3", {"dealname": "three"}))
    flags = {r.properties["channel_sync_id"]: r.new for r in second.results}
    assert flags == {"cs-1": False, "cs-3": True}
    assert second.results[0].id == first.results[0].id
    deal = portal.basic.get_by_id("cs-1", id_property="channel_sync_id", properties=["dealname"])
    assert deal.properties["dealname"] == "one"
    assert len(portal.deals.get_all()) == 3


def test_upsert_needs_a_unique_id_property(portal: Portal) -> None:
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[SimplePublicObjectBatchInputUpsert(id="x", id_property="dealname", properties={})]
    )
    with pytest.raises(ApiException) as info:
        portal.batch.upsert(batch_input_simple_public_object_batch_input_upsert=body)
    assert info.value.status == 400
    assert "non-unique" in error_body(info.value)["message"]


def test_batch_update_answers_200_or_207_for_missing_records(portal: Portal) -> None:
    ids = [d.id for d in batch_create(portal, {"dealname": "a"}, {"dealname": "b"}).results]

    complete = update(portal, (ids[0], {"amount": "1"}), (ids[1], {"amount": "2"}))
    assert isinstance(complete, BatchResponseSimplePublicObject)
    assert [r.properties["amount"] for r in complete.results] == ["1", "2"]

    partial = update(portal, (ids[0], {"amount": "3"}), ("10999999999", {"amount": "4"}))
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert partial.num_errors == 1
    assert partial.errors[0].category == "OBJECT_NOT_FOUND"
    assert partial.errors[0].context["id"] == ["10999999999"]
    assert portal.basic.get_by_id(ids[0]).properties["amount"] == "3"


def test_locked_records_fail_per_input_and_the_rest_is_written(portal: Portal) -> None:
    ids = [d.id for d in upsert(portal, ("cs-1", {}), ("cs-2", {}), ("cs-3", {})).results]
    portal.faults(locked_records=[ids[1], "cs-3"])

    result = upsert(
        portal, ("cs-1", {"amount": "1"}), ("cs-2", {"amount": "2"}), ("cs-3", {"amount": "3"})
    )
    assert isinstance(result, BatchResponseSimplePublicUpsertObjectWithErrors)
    assert result.num_errors == 2
    assert {e.category for e in result.errors} == {"LOCKED"}
    assert sorted(e.context["id"][0] for e in result.errors) == ["cs-2", "cs-3"]
    assert [r.properties["channel_sync_id"] for r in result.results] == ["cs-1"]

    partial = update(portal, (ids[0], {"amount": "9"}), (ids[1], {"amount": "9"}))
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert [r.id for r in partial.results] == [ids[0]]
    amounts = {d.id: d.properties["amount"] for d in read(portal, *ids).results}
    assert amounts == {ids[0]: "9", ids[1]: None, ids[2]: None}


def test_traced_batch_create_reports_per_input(portal: Portal) -> None:
    upsert(portal, ("cs-taken", {}))

    result = batch_create(
        portal,
        {"dealname": "good"},
        {"dealname": "bad", "dealstage": "nope"},
        {"dealname": "dup", "channel_sync_id": "cs-taken"},
        traced=True,
    )

    assert isinstance(result, BatchResponseSimplePublicObjectWithErrors)
    assert result.num_errors == 2
    assert [r.properties["dealname"] for r in result.results] == ["good"]
    assert result.results[0].object_write_trace_id == "trace-0"
    by_trace = {e.context["objectWriteTraceId"][0]: e.category for e in result.errors}
    assert by_trace == {"trace-1": "VALIDATION_ERROR", "trace-2": "CONFLICT"}


def test_untraced_batch_create_is_all_or_nothing(portal: Portal) -> None:
    with pytest.raises(ApiException) as info:
        batch_create(portal, {"dealname": "good"}, {"dealname": "bad", "dealstage": "nope"})
    assert info.value.status == 400
    assert "INVALID_OPTION" in error_body(info.value)["message"]

    upsert(portal, ("cs-taken", {}))
    with pytest.raises(ApiException) as conflict:
        batch_create(portal, {"dealname": "good"}, {"channel_sync_id": "cs-taken"})
    assert conflict.value.status == 409
    assert [d.properties["dealname"] for d in portal.deals.get_all()] == [None]


@pytest.mark.parametrize("operation", ["read", "create", "update", "upsert", "archive"])
def test_101_inputs_are_refused_exactly_as_hubspot_does(portal: Portal, operation: str) -> None:
    ids = [str(10_000_000_001 + i) for i in range(101)]
    calls = {
        "read": lambda: read(portal, *ids),
        "create": lambda: batch_create(portal, *({"dealname": i} for i in ids)),
        "update": lambda: update(portal, *((i, {"dealname": i}) for i in ids)),
        "upsert": lambda: upsert(portal, *((i, {"dealname": i}) for i in ids)),
        "archive": lambda: portal.batch.archive(
            batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in ids]
            )
        ),
    }

    with pytest.raises(ApiException) as info:
        calls[operation]()

    assert info.value.status == 400
    body = error_body(info.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"] == BATCH_LIMIT_MESSAGE
    assert portal.basic.get_page().results == []


def test_100_inputs_are_accepted(portal: Portal) -> None:
    result = upsert(portal, *((f"cs-{i}", {"dealname": str(i)}) for i in range(100)))
    assert len(result.results) == 100
    assert len(portal.deals.get_all()) == 100


def test_duplicate_ids_in_one_batch_are_refused(portal: Portal) -> None:
    with pytest.raises(ApiException) as info:
        upsert(portal, ("cs-1", {"dealname": "a"}), ("cs-1", {"dealname": "b"}))
    assert info.value.status == 400
    assert "Duplicate IDs" in error_body(info.value)["message"]


def test_batch_archive_answers_204(portal: Portal) -> None:
    ids = [d.id for d in batch_create(portal, {"dealname": "a"}, {"dealname": "b"}).results]
    result = portal.batch.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=ids[0]), SimplePublicObjectId(id="10999999999")]
        )
    )
    assert result is None
    assert [d.id for d in portal.deals.get_all()] == [ids[1]]
    snapshot = portal.control("GET", "/snapshot")["deals"]
    archived = {d["id"]: d["archived"] for d in snapshot}
    assert archived == {ids[0]: True, ids[1]: False}


def test_inputs_must_be_a_list(portal: Portal) -> None:
    with pytest.raises(ApiException) as info:
        portal.batch.read(
            batch_read_input_simple_public_object_id=json.dumps({"inputs": "nope"}),
            _content_type="text/plain",
        )
    assert info.value.status == 400
    assert error_body(info.value)["category"] == "VALIDATION_ERROR"


def test_locked_records_refuse_single_writes_with_423(portal: Portal) -> None:
    deal_id = upsert(portal, ("cs-1", {"dealname": "a"})).results[0].id
    portal.faults(locked_records=["cs-1"])

    with pytest.raises(ApiException) as patch:
        portal.basic.update(
            deal_id, simple_public_object_input=SimplePublicObjectInput(properties={"amount": "1"})
        )
    with pytest.raises(ApiException) as delete:
        portal.basic.archive(deal_id)
    with pytest.raises(ApiException) as bulk_delete:
        portal.batch.archive(
            batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=deal_id)]
            )
        )

    for info in (patch, delete, bulk_delete):
        assert info.value.status == 423
        assert error_body(info.value)["category"] == "LOCKED"
    portal.faults(unlocked_records=["cs-1"])
    assert portal.basic.archive(deal_id) is None
