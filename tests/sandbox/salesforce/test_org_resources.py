"""Replication (updated/deleted), describe, limits, the allowance and injected faults."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import format_datetime

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from .conftest import Org, new_deal

WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000")


def test_updated_and_deleted_cover_whole_minutes(org: Org) -> None:
    sf = org.client()
    start = org.clock.now() - timedelta(minutes=3)
    kept = sf.Opportunity.create(new_deal("kept"))["id"]
    gone = sf.Opportunity.create(new_deal("gone"))["id"]
    sf.Opportunity.delete(gone)
    org.clock.advance(timedelta(minutes=2))
    end = org.clock.now() + timedelta(minutes=10)
    updated = sf.Opportunity.updated(start, end)
    assert updated["ids"] == [kept]
    assert WIRE_TIME.fullmatch(updated["latestDateCovered"])
    deleted = sf.Opportunity.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert re.fullmatch(r".*\.\d{3}\+0000", deleted["deletedRecords"][0]["deletedDate"])
    assert deleted["latestDateCovered"] == updated["latestDateCovered"]
    assert WIRE_TIME.fullmatch(deleted["earliestDateAvailable"])
    # the minute that is still running is not covered yet
    now_only = sf.Opportunity.updated(org.clock.now() - timedelta(seconds=1), end)
    assert now_only["ids"] == []


def test_replication_horizons(org: Org) -> None:
    sf = org.client()
    now = org.clock.now()
    assert sf.Opportunity.updated(now - timedelta(days=29), now)["ids"] == []
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Opportunity.updated(now - timedelta(days=31), now)
    assert info.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Opportunity.deleted(now - timedelta(days=16), now)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Opportunity.updated(now, now - timedelta(hours=1))


def test_recycle_bin_is_emptied_after_fifteen_days(org: Org) -> None:
    sf = org.client()
    record_id = sf.Opportunity.create(new_deal())["id"]
    sf.Opportunity.delete(record_id)
    org.clock.advance(timedelta(days=16))
    assert sf.query("SELECT COUNT() FROM Opportunity", include_deleted=True)["totalSize"] == 0


def test_describe_has_every_custom_field_and_picklist(org: Org) -> None:
    sf = org.client()
    described = sf.Opportunity.describe()
    assert (described["name"], described["keyPrefix"]) == ("Opportunity", "006")
    fields = {f["name"]: f for f in described["fields"]}
    for name in (
        "Channel_Sync_Id__c",
        "Partner_Account__c",
        "Registration_Status__c",
        "Registration_Expires__c",
        "Co_Sell_Vendor_Rep__c",
        "Products__c",
        "Channel_Sync_Register__c",
        "Vendor_Co_Sell_Notes__c",
    ):
        assert fields[name]["custom"] is True
    ext = fields["Channel_Sync_Id__c"]
    assert (ext["externalId"], ext["unique"], ext["length"]) == (True, True, 64)
    assert (fields["IsClosed"]["createable"], fields["IsClosed"]["updateable"]) == (False, False)
    stages = [p["value"] for p in fields["StageName"]["picklistValues"]]
    assert stages[0] == "Prospecting"
    assert stages[-2:] == ["Closed Won", "Closed Lost"]
    assert len(stages) == 10
    assert fields["Products__c"]["type"] == "multipicklist"
    assert fields["Co_Sell_Status__c"]["picklistValues"][0]["value"] == "None"
    assert "EUR" in [p["value"] for p in fields["CurrencyIsoCode"]["picklistValues"]]
    assert fields["Co_Sell_Vendor_Rep__c"]["type"] == "email"
    assert fields["Registration_Submitted__c"]["type"] == "datetime"
    names = [o["name"] for o in sf.describe()["sobjects"]]
    assert names == ["Opportunity"]


def test_describe_answers_not_modified(org: Org) -> None:
    sf = org.client()
    since = format_datetime(org.clock.now() + timedelta(minutes=1), usegmt=True)
    with pytest.raises(SalesforceGeneralError) as info:
        sf.Opportunity.describe(headers={"If-Modified-Since": since})
    assert info.value.status == 304


def test_limits_and_the_usage_header(org: Org) -> None:
    sf = org.client()
    sf.query("SELECT Id FROM Opportunity")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 100_000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100_000, "Remaining": 99_998}


def test_exhausted_daily_allowance_is_a_403(org: Org) -> None:
    sf = org.client()
    org.control("POST", "/faults", json={"daily_limit": 2})
    sf.query("SELECT Id FROM Opportunity")
    sf.query("SELECT Id FROM Opportunity")
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Opportunity")
    assert info.value.status == 403
    assert info.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert org.ledger()["api_calls"] == 2


def test_burst_limit_is_a_concurrency_refusal(org: Org) -> None:
    sf = org.client()
    org.control("POST", "/faults", json={"burst_limit": 1, "burst_window_s": 60})
    sf.query("SELECT Id FROM Opportunity")
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Opportunity")
    assert info.value.content[0]["message"] == "ConcurrentPerOrgLongTxn Limit exceeded."


def test_injected_fault_is_vendor_shaped(org: Org) -> None:
    sf = org.client()
    org.control("POST", "/faults", json={"rules": [{"path": "/query", "status": 503}]})
    with pytest.raises(SalesforceGeneralError) as info:
        sf.query("SELECT Id FROM Opportunity")
    assert info.value.status == 503
    assert info.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM Opportunity")["totalSize"] == 0


def test_seeded_deals_and_snapshot(org: Org) -> None:
    org.control("POST", "/seed", json={"seed": 3, "deals": 40})
    sf = org.client()
    rows = sf.query_all(
        "SELECT Id, Name, StageName, IsClosed, Probability, CurrencyIsoCode, Products__c, "
        "CreatedById FROM Opportunity"
    )["records"]
    assert len(rows) == 40
    stages = {r["StageName"] for r in rows}
    assert stages <= {
        "Prospecting",
        "Qualification",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    }
    assert all(r["IsClosed"] == r["StageName"].startswith("Closed") for r in rows)
    assert all(r["Products__c"] for r in rows)
    assert {r["CreatedById"] for r in rows} == {org.backend.admin_user.id}
    sf.Opportunity.delete(rows[0]["Id"])
    snapshot = org.control("GET", "/snapshot")
    records = snapshot["Opportunity"]
    assert len(records) == 40
    deleted = [r for r in records if r["IsDeleted"]]
    assert [r["Id"] for r in deleted] == [rows[0]["Id"]]
    assert deleted[0]["attributes"]["type"] == "Opportunity"
