"""sObject Rows and upsert by external id through simple-salesforce's SFType calls."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from .conftest import Org, new_deal

ID = re.compile(r"006[0-9A-Za-z]{15}")


def test_create_get_update_delete(org: Org) -> None:
    sf = org.client()
    created = sf.Opportunity.create(new_deal(Amount=1200.5, Products__c="TRAINING;ANALYTICS"))
    assert created["success"] is True
    assert created["errors"] == []
    assert ID.fullmatch(created["id"])
    record = sf.Opportunity.get(created["id"])
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{created['id']}",
    }
    assert record["Amount"] == 1200.5
    assert record["Products__c"] == "ANALYTICS;TRAINING"  # stored in picklist order
    assert record["CurrencyIsoCode"] == "USD"
    assert record["IsDeleted"] is False
    assert sf.Opportunity.update(created["id"], {"NextStep": "Call CFO", "Amount": None}) == 204
    partial = sf.Opportunity.get(created["id"], params={"fields": "NextStep,Amount"})
    assert partial == {
        "attributes": record["attributes"],
        "NextStep": "Call CFO",
        "Amount": None,
    }
    assert sf.Opportunity.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Opportunity.get(created["id"])
    assert info.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_stage_derives_closed_won_and_probability(org: Org) -> None:
    sf = org.client()
    record_id = sf.Opportunity.create(new_deal(StageName="Value Proposition"))["id"]
    fields = "IsClosed,IsWon,Probability"
    assert sf.Opportunity.get(record_id, params={"fields": fields})["Probability"] == 50.0
    sf.Opportunity.update(record_id, {"StageName": "Closed Won"})
    won = sf.Opportunity.get(record_id, params={"fields": fields})
    assert (won["IsClosed"], won["IsWon"], won["Probability"]) == (True, True, 100.0)
    sf.Opportunity.update(record_id, {"StageName": "Closed Lost", "Probability": 5})
    lost = sf.Opportunity.get(record_id, params={"fields": fields})
    assert (lost["IsClosed"], lost["IsWon"], lost["Probability"]) == (True, False, 5.0)


def test_system_fields_follow_the_clock_and_the_user(org: Org) -> None:
    sf = org.client()
    record_id = sf.Opportunity.create(new_deal())["id"]
    first = sf.Opportunity.get(record_id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", first["SystemModstamp"])
    assert first["CreatedById"] == org.backend.integration_user.id
    org.clock.advance(timedelta(minutes=5))
    human = org.backend.user_token("someone@org.sandbox")
    org.client(human.access_token).Opportunity.update(record_id, {"NextStep": "Demo"})
    second = sf.Opportunity.get(record_id)
    assert second["LastModifiedById"] != first["LastModifiedById"]
    assert second["CreatedById"] == first["CreatedById"]
    assert second["SystemModstamp"] > first["SystemModstamp"]
    assert second["LastModifiedDate"] == second["SystemModstamp"]
    mine = sf.query(
        f"SELECT Id FROM Opportunity WHERE LastModifiedById != '{org.backend.integration_user.id}'"
    )
    assert [r["Id"] for r in mine["records"]] == [record_id]


def test_upsert_creates_then_updates(org: Org) -> None:
    sf = org.client()
    assert sf.Opportunity.upsert("Channel_Sync_Id__c/cs-1", new_deal()) == 201
    response = sf.Opportunity.upsert("Channel_Sync_Id__c/cs-1", {"Amount": 9}, raw_response=True)
    assert response.status_code == 200
    body = response.json()
    assert body["created"] is False
    assert body["success"] is True
    by_key = sf.Opportunity.get_by_custom_id("Channel_Sync_Id__c", "CS-1")
    assert by_key["Id"] == body["id"]
    assert by_key["Amount"] == 9.0
    created = sf.Opportunity.upsert("Channel_Sync_Id__c/cs-2", new_deal(), raw_response=True)
    assert created.json()["created"] is True
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 2


def test_upsert_before_v46_answers_update_with_204(org: Org) -> None:
    old = org.client(version="45.0")
    assert old.Opportunity.upsert("Channel_Sync_Id__c/old-1", new_deal()) == 201
    response = old.Opportunity.upsert("Channel_Sync_Id__c/old-1", {"Amount": 1}, raw_response=True)
    assert response.status_code == 204
    assert response.content == b""


def test_upsert_on_a_field_that_is_not_an_external_id(org: Org) -> None:
    with pytest.raises(SalesforceResourceNotFound) as info:
        org.client().Opportunity.upsert("Name/Acme", new_deal())
    assert info.value.content == [
        {
            "message": "Provided external ID field does not exist or is not accessible: Name",
            "errorCode": "NOT_FOUND",
        }
    ]


def _refused(call: object, *args: object) -> dict[str, object]:
    with pytest.raises(SalesforceMalformedRequest) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.status == 400
    return dict(info.value.content[0])


def test_write_validation_errors(org: Org) -> None:
    sf = org.client()
    error = _refused(sf.Opportunity.create, {"Name": "No stage"})
    assert error == {
        "message": "Required fields are missing: [StageName, CloseDate]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["StageName", "CloseDate"],
    }
    error = _refused(
        sf.Opportunity.create, new_deal(IsWon=True, SystemModstamp="2026-01-01T00:00:00Z")
    )
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["IsWon", "SystemModstamp"]
    error = _refused(sf.Opportunity.create, new_deal(Id="006000000000001AAA"))
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    error = _refused(sf.Opportunity.create, new_deal(StageName="Won-ish"))
    assert error == {
        "message": "bad value for restricted picklist field: Won-ish",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["StageName"],
    }
    error = _refused(sf.Opportunity.create, new_deal(Registration_Status__c="Maybe"))
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    error = _refused(sf.Opportunity.create, new_deal(Name="x" * 121))
    assert error["errorCode"] == "STRING_TOO_LONG"
    assert error["fields"] == ["Name"]
    error = _refused(sf.Opportunity.create, new_deal(Co_Sell_Vendor_Rep__c="not-an-email"))
    assert error["errorCode"] == "INVALID_EMAIL_ADDRESS"
    error = _refused(sf.Opportunity.create, new_deal(Bogus__c=1))
    assert error == {
        "message": "No such column 'Bogus__c' on sobject of type Opportunity",
        "errorCode": "INVALID_FIELD",
    }
    record_id = sf.Opportunity.create(new_deal())["id"]
    error = _refused(sf.Opportunity.update, record_id, {"CloseDate": None})
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_wrong_json_types_are_parser_errors(org: Org) -> None:
    sf = org.client()
    error = _refused(sf.Opportunity.create, new_deal(Amount="lots"))
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    assert error["message"].startswith(
        "Cannot deserialize instance of currency from VALUE_STRING value lots"
    )
    error = _refused(sf.Opportunity.create, new_deal(CloseDate=20260331))
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    error = _refused(sf.Opportunity.create, new_deal(Channel_Conflict__c={"a": 1}))
    assert "START_OBJECT" in str(error["message"])


def test_malformed_json_body(org: Org) -> None:
    sf = org.client()
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("sobjects/Opportunity/", method="POST", data="{not json")
    assert info.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("sobjects/Opportunity/", method="POST", data=json.dumps([new_deal()]))
    assert info.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_duplicate_external_id_value(org: Org) -> None:
    sf = org.client()
    first = sf.Opportunity.create(new_deal(Channel_Sync_Id__c="dup-1"))["id"]
    error = _refused(sf.Opportunity.create, new_deal(Channel_Sync_Id__c="DUP-1"))
    assert error == {
        "message": "duplicate value found: Channel_Sync_Id__c duplicates value on record with id: "
        f"{first}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": ["Channel_Sync_Id__c"],
    }


def test_unknown_record_object_and_version(org: Org) -> None:
    sf = org.client()
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Opportunity.get("006000000000000AAA")
    assert info.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get("not-an-id")
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Widget__c.create({"Name": "x"})
    assert info.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        org.client(version="30.0").query("SELECT Id FROM Opportunity")
    with pytest.raises(SalesforceGeneralError) as general:
        sf.restful("sobjects/Opportunity/", method="PUT", json={})
    assert general.value.status == 405
    assert general.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_milliseconds_are_kept_and_shared_within_one_millisecond(org: Org) -> None:
    org.clock.offset = datetime(2030, 1, 1, tzinfo=UTC) - datetime.now(UTC)
    sf = org.client()
    a = sf.Opportunity.create(new_deal("A"))["id"]
    b = sf.Opportunity.create(new_deal("B"))["id"]
    stamps = {
        r["Id"]: r["SystemModstamp"]
        for r in sf.query("SELECT Id, SystemModstamp FROM Opportunity")["records"]
    }
    assert stamps[a].startswith("2030-01-01T00:00:")
    assert stamps[a] <= stamps[b]


def test_an_upsert_body_cannot_move_the_record_id(org: Org) -> None:
    sf = org.client()
    sf.Opportunity.upsert("Channel_Sync_Id__c/keep", new_deal())
    record = sf.Opportunity.get_by_custom_id("Channel_Sync_Id__c", "keep")
    error = _refused(
        sf.Opportunity.upsert, "Channel_Sync_Id__c/keep", {"Id": "006000000000009AAA", "Amount": 1}
    )
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.Opportunity.get_by_custom_id("Channel_Sync_Id__c", "keep")["Id"] == record["Id"]
