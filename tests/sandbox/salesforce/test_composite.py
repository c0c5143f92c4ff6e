"""Composite requests: references, all-or-none, limits, and one ledger call per request."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .conftest import Org, new_deal

V = "/services/data/v59.0"


def _composite(org: Org, subrequests: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    result = org.client().restful(
        "composite", method="POST", json={"compositeRequest": subrequests, **extra}
    )
    assert result is not None
    responses: list[dict[str, Any]] = result["compositeResponse"]
    return responses


def test_references_between_subrequests(org: Org) -> None:
    responses = _composite(
        org,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "made",
                "body": new_deal("Made", Channel_Sync_Id__c="ref-1"),
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Opportunity/@{{made.id}}?fields=Name,Channel_Sync_Id__c",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+Id,Name+FROM+Opportunity+WHERE+Name='Made'",
                "referenceId": "q1",
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Opportunity/@{{q1.records[0].Id}}",
                "referenceId": "upd",
                "body": {"NextStep": "from @{read.Channel_Sync_Id__c}", "Amount": 7},
            },
        ],
    )
    assert [r["httpStatusCode"] for r in responses] == [201, 200, 200, 204]
    assert [r["referenceId"] for r in responses] == ["made", "read", "q1", "upd"]
    made_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"] == {"Location": f"{V}/sobjects/Opportunity/{made_id}"}
    assert responses[1]["body"]["Name"] == "Made"
    assert responses[3]["body"] is None
    record = org.client().Opportunity.get(made_id)
    assert (record["NextStep"], record["Amount"]) == ("from ref-1", 7.0)


def test_failed_reference_halts_only_dependents(org: Org) -> None:
    responses = _composite(
        org,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "bad",
                "body": {"Name": "no stage"},
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Opportunity/@{{bad.id}}",
                "referenceId": "dependent",
                "body": {"Amount": 1},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "independent",
                "body": new_deal("fine"),
            },
        ],
    )
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 201]
    assert responses[0]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[1]["body"] == [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "Invalid reference specified. No value for bad.id found in bad. "
            "Provided referenceId ids are 'bad'.",
        }
    ]


def test_all_or_none_rolls_back_every_subrequest(org: Org) -> None:
    responses = _composite(
        org,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "first",
                "body": new_deal("first"),
            },
            {
                "method": "POST",
                "url": f"{V}/composite/sobjects",
                "referenceId": "many",
                "body": {"records": [{"attributes": {"type": "Opportunity"}, **new_deal("m")}]},
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Opportunity/006000000000000AAA",
                "referenceId": "missing",
                "body": {"Amount": 1},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "never",
                "body": new_deal("never"),
            },
        ],
        allOrNone=True,
    )
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 404, 400]
    halted = responses[0]["body"][0]
    assert halted["errorCode"] == "PROCESSING_HALTED"
    assert "rolled back" in halted["message"]
    assert responses[3]["referenceId"] == "never"
    count = org.client().query("SELECT COUNT() FROM Opportunity", include_deleted=True)
    assert count["totalSize"] == 0


def test_limits_on_subrequests(org: Org) -> None:
    sf = org.client()
    too_many = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": too_many})
    queries = [
        {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Opportunity", "referenceId": f"q{i}"}
        for i in range(6)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": queries})
    assert len(_composite(org, queries[:5])) == 5


def test_composite_is_one_api_call_with_summed_record_counts(org: Org) -> None:
    sf = org.client()
    for i in range(3):
        sf.Opportunity.create(new_deal(f"seed {i}"))
    before = org.ledger()["last_seq"]
    records = [{"attributes": {"type": "Opportunity"}, **new_deal(f"c{i}")} for i in range(4)]
    _composite(
        org,
        [
            {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Opportunity", "referenceId": "q"},
            {
                "method": "POST",
                "url": f"{V}/composite/sobjects",
                "referenceId": "c",
                "body": {"records": records},
            },
        ],
    )
    entries = org.control("GET", "/ledger", params={"since": before})["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["path"], entry["records_read"], entry["records_written"]) == (
        f"{V}/composite",
        3,
        4,
    )
    assert entry["counts_against_allowance"] is True
    sf.limits()
    assert sf.api_usage["api-usage"].used == 5
    assert org.ledger()["api_calls"] == 5
