"""sObject Collections through ``Salesforce.restful`` (simple-salesforce has no wrapper)."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .conftest import Org, new_deal

EXT = "Channel_Sync_Id__c"


def _rec(**fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Opportunity"}, **fields}


def test_create_returns_results_in_input_order(org: Org) -> None:
    sf = org.client()
    records = [_rec(**new_deal(f"D{i}")) for i in range(3)]
    records[1]["StageName"] = "Nope"
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert results is not None
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "message": "bad value for restricted picklist field: Nope",
                "fields": ["StageName"],
            }
        ],
    }
    names = sf.query("SELECT Name FROM Opportunity ORDER BY Name")["records"]
    assert [r["Name"] for r in names] == ["D0", "D2"]


def test_all_or_none_rolls_everything_back(org: Org) -> None:
    sf = org.client()
    records = [_rec(**new_deal("ok")), _rec(Name="missing stage and date")]
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert results == [
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the "
                    "request was using AllOrNone header",
                    "fields": [],
                }
            ],
        },
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": "Required fields are missing: [StageName, CloseDate]",
                    "fields": ["StageName", "CloseDate"],
                }
            ],
        },
    ]
    assert sf.query("SELECT COUNT() FROM Opportunity", include_deleted=True)["totalSize"] == 0


def test_201_records_are_refused_as_a_whole(org: Org) -> None:
    sf = org.client()
    records = [_rec(**new_deal(f"D{i}")) for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert info.value.status == 400
    assert info.value.content == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    ok = sf.restful("composite/sobjects", method="POST", json={"records": records[:200]})
    assert ok is not None
    assert all(r["success"] for r in ok)
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite/sobjects/Opportunity/" + EXT, method="PATCH", json={"records": records}
        )


def test_update_by_id_with_per_record_failures(org: Org) -> None:
    sf = org.client()
    first = sf.Opportunity.create(new_deal("first"))["id"]
    gone = sf.Opportunity.create(new_deal("gone"))["id"]
    sf.Opportunity.delete(gone)
    records = [
        _rec(Id=first, Amount=10),
        _rec(Id=gone, Amount=20),
        _rec(Amount=30),
        _rec(Id="bogus", Amount=40),
        _rec(Id=first, Amount="lots"),
    ]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert results is not None
    assert results[0] == {"id": first, "success": True, "errors": []}
    codes = [r["errors"][0]["statusCode"] for r in results[1:]]
    assert codes == [
        "ENTITY_IS_DELETED",
        "MISSING_ARGUMENT",
        "MALFORMED_ID",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
    ]
    assert sf.Opportunity.get(first)["Amount"] == 10.0


def test_upsert_on_external_id_reports_created(org: Org) -> None:
    sf = org.client()
    sf.Opportunity.upsert(f"{EXT}/k1", new_deal("one"))
    records = [
        _rec(**{EXT: "k1", "Amount": 5}),
        _rec(**new_deal("two", **{EXT: "k2"})),
        _rec(**new_deal("three", **{EXT: "k3"})),
        _rec(**new_deal("three again", **{EXT: "K3"})),
        _rec(**new_deal("no key")),
    ]
    results = sf.restful(
        f"composite/sobjects/Opportunity/{EXT}", method="PATCH", json={"records": records}
    )
    assert results is not None
    assert [(r["success"], r.get("created")) for r in results[:2]] == [(True, False), (True, True)]
    assert [r["errors"][0]["statusCode"] for r in results[2:]] == [
        "DUPLICATE_EXTERNAL_ID",
        "DUPLICATE_EXTERNAL_ID",
        "MISSING_ARGUMENT",
    ]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects/Opportunity/Name", method="PATCH", json={"records": records})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_locked_rows_fail_per_record_and_single_row(org: Org) -> None:
    sf = org.client()
    locked = sf.Opportunity.create(new_deal("locked", **{EXT: "lk"}))["id"]
    free = sf.Opportunity.create(new_deal("free"))["id"]
    org.control("POST", "/faults", json={"locked_records": [locked]})
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [_rec(Id=locked, Amount=1), _rec(Id=free, Amount=2)]},
    )
    assert results is not None
    assert results[0]["errors"] == [
        {
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
            "fields": [],
        }
    ]
    assert results[1]["success"] is True
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Opportunity.update(locked, {"Amount": 3})
    assert info.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    org.control("POST", "/faults", json={"unlocked_records": [locked], "locked_records": ["lk"]})
    with pytest.raises(SalesforceMalformedRequest):
        sf.Opportunity.upsert(f"{EXT}/lk", {"Amount": 4})


def test_delete_and_retrieve(org: Org) -> None:
    sf = org.client()
    ids = [sf.Opportunity.create(new_deal(f"R{i}"))["id"] for i in range(3)]
    results = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{ids[0]},nope", "allOrNone": "false"},
    )
    assert results is not None
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert results[1]["id"] == "nope"
    assert results[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    got = sf.restful(
        "composite/sobjects/Opportunity", params={"ids": ",".join(ids), "fields": "Id,Name"}
    )
    assert got is not None
    assert got[0] is None
    assert [(r["Id"], r["Name"]) for r in got[1:]] == [(ids[1], "R1"), (ids[2], "R2")]
    posted = sf.restful(
        "composite/sobjects/Opportunity", method="POST", json={"ids": ids[1:], "fields": ["Name"]}
    )
    assert posted is not None
    assert [r["Name"] for r in posted] == ["R1", "R2"]
    rolled = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{ids[1]},{ids[0]}", "allOrNone": "true"},
    )
    assert rolled is not None
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert sf.Opportunity.get(ids[1])["IsDeleted"] is False


def test_unknown_field_refuses_the_whole_collection(org: Org) -> None:
    sf = org.client()
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [_rec(**new_deal()), _rec(**new_deal(), Nope__c=1)]},
        )
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
