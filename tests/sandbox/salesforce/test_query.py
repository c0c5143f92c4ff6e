"""SOQL query, queryAll and queryMore through simple-salesforce."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .conftest import Org, new_deal


def _make(org: Org, count: int) -> list[str]:
    sf = org.client()
    ids = []
    for start in range(0, count, 200):
        chunk = [
            {"attributes": {"type": "Opportunity"}, **new_deal(f"Deal {i:04d}", Amount=i)}
            for i in range(start, min(count, start + 200))
        ]
        results = sf.restful("composite/sobjects", method="POST", json={"records": chunk})
        assert results is not None
        ids.extend(r["id"] for r in results)
    return ids


def test_paging_follows_next_records_url_in_batches(org: Org) -> None:
    _make(org, 450)
    sf = org.client()
    soql = "SELECT Id, Name FROM Opportunity ORDER BY Name"
    first = sf.query(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["totalSize"] == 450
    assert first["done"] is False
    assert len(first["records"]) == 200
    assert re.fullmatch(
        r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-200", first["nextRecordsUrl"]
    )
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["nextRecordsUrl"].endswith("-400")
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True
    assert "nextRecordsUrl" not in third
    names = [r["Name"] for page in (first, second, third) for r in page["records"]]
    assert names == [f"Deal {i:04d}" for i in range(450)]
    assert first["records"][0]["attributes"]["type"] == "Opportunity"


def test_default_batch_is_2000_and_query_all_gathers_every_page(org: Org) -> None:
    _make(org, 2100)
    sf = org.client()
    first = sf.query("SELECT Id FROM Opportunity")
    assert len(first["records"]) == 2000
    assert first["done"] is False
    everything = sf.query_all("SELECT Id, Amount FROM Opportunity WHERE Amount >= 100")
    assert everything["totalSize"] == 2000
    assert len({r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity")}) == 2100


def test_batch_size_is_clamped_to_200_at_least(org: Org) -> None:
    _make(org, 300)
    page = org.client().query(
        "SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=50"}
    )
    assert len(page["records"]) == 200


def test_locator_is_a_snapshot_of_the_result(org: Org) -> None:
    ids = _make(org, 250)
    sf = org.client()
    first = sf.query(
        "SELECT Id, Name FROM Opportunity ORDER BY Name",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    sf.Opportunity.update(ids[249], {"Name": "Renamed"})
    sf.Opportunity.delete(ids[248])
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert [r["Name"] for r in rest["records"]][-2:] == ["Deal 0248", "Deal 0249"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_rows_and_query_does_not(org: Org) -> None:
    ids = _make(org, 3)
    sf = org.client()
    assert sf.Opportunity.delete(ids[0]) == 204
    live = sf.query("SELECT Id, IsDeleted FROM Opportunity")
    every = sf.query("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert {r["Id"] for r in live["records"]} == set(ids[1:])
    assert {r["Id"]: r["IsDeleted"] for r in every["records"]} == {
        ids[0]: True,
        ids[1]: False,
        ids[2]: False,
    }
    deleted_only = sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true", True)
    assert [r["Id"] for r in deleted_only["records"]] == [ids[0]]


@pytest.fixture
def varied(org: Org) -> Org:
    sf = org.client()
    rows = [
        new_deal("Alpha", Amount=100, StageName="Closed Won", Products__c="ANALYTICS;TRAINING"),
        new_deal("beta 50% off", Amount=250.5, Customer_Country__c="DE", Products__c="TRAINING"),
        new_deal("Gamma_1", Amount=None, CloseDate="2026-05-01", Channel_Conflict__c=True),
        new_deal("O'Brien Ltd", Amount=1000, CloseDate="2025-12-31", Customer_Country__c="US"),
    ]
    for row in rows:
        sf.Opportunity.create(row)
    return org


def _names(org: Org, where: str, order: str = "ORDER BY Name") -> list[str]:
    result = org.client().query(f"SELECT Name FROM Opportunity WHERE {where} {order}")
    return [r["Name"] for r in result["records"]]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Amount > 200", ["beta 50% off", "O'Brien Ltd"]),
        ("Amount >= 100 AND Amount <= 250.5", ["Alpha", "beta 50% off"]),
        ("Amount = null", ["Gamma_1"]),
        ("Amount != null AND Amount < 1000", ["Alpha", "beta 50% off"]),
        ("Customer_Country__c != 'DE'", ["Alpha", "Gamma_1", "O'Brien Ltd"]),
        ("(Amount = 100 OR Amount = 1000) AND Name != 'Alpha'", ["O'Brien Ltd"]),
        ("NOT Amount > 200", ["Alpha", "Gamma_1"]),
        ("Name IN ('alpha', 'GAMMA_1')", ["Alpha", "Gamma_1"]),
        ("Name NOT IN ('Alpha') AND Amount != null", ["beta 50% off", "O'Brien Ltd"]),
        ("Name LIKE 'B%'", ["beta 50% off"]),
        ("Name LIKE '%50\\% off'", ["beta 50% off"]),
        ("Name LIKE 'Gamma\\_%'", ["Gamma_1"]),
        ("Name LIKE '_lpha'", ["Alpha"]),
        ("Name = 'O\\'Brien Ltd'", ["O'Brien Ltd"]),
        ("IsWon = true", ["Alpha"]),
        ("Channel_Conflict__c = false AND IsClosed = false", ["beta 50% off", "O'Brien Ltd"]),
        ("CloseDate > 2026-03-31", ["Gamma_1"]),
        ("CloseDate < 2026-01-01", ["O'Brien Ltd"]),
        ("Products__c INCLUDES ('TRAINING')", ["Alpha", "beta 50% off"]),
        ("Products__c EXCLUDES ('ANALYTICS')", ["beta 50% off", "Gamma_1", "O'Brien Ltd"]),
        ("Products__c = 'TRAINING;ANALYTICS'", ["Alpha"]),
        ("StageName = 'closed won'", ["Alpha"]),
    ],
)
def test_where_clause(varied: Org, where: str, expected: list[str]) -> None:
    assert _names(varied, where) == expected


def test_datetime_literals_in_every_offset_form(varied: Org) -> None:
    before = datetime.now(UTC) - timedelta(hours=1)
    stamp = before.strftime("%Y-%m-%dT%H:%M:%S")
    for literal in (f"{stamp}Z", f"{stamp}+00:00", f"{stamp}+0000", f"{stamp}.000Z"):
        assert len(_names(varied, f"SystemModstamp > {literal}")) == 4
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert _names(varied, f"SystemModstamp > {later}-02:00") == []
    soql = format_soql(
        "SELECT Name FROM Opportunity WHERE SystemModstamp >= {} AND Name = {}",
        before,
        "O'Brien Ltd",
    )
    assert [r["Name"] for r in varied.client().query(soql)["records"]] == ["O'Brien Ltd"]


def test_relative_date_literals(varied: Org) -> None:
    assert len(_names(varied, "CreatedDate = TODAY")) == 4
    assert _names(varied, "CreatedDate = YESTERDAY") == []
    assert len(_names(varied, "LastModifiedDate = LAST_N_DAYS:3")) == 4


def test_order_by_several_keys_with_nulls_and_limit_offset(varied: Org) -> None:
    assert _names(varied, "Name != null", "ORDER BY Amount NULLS LAST, Name") == [
        "Alpha",
        "beta 50% off",
        "O'Brien Ltd",
        "Gamma_1",
    ]
    assert _names(varied, "Name != null", "ORDER BY Amount DESC NULLS FIRST LIMIT 2") == [
        "Gamma_1",
        "O'Brien Ltd",
    ]
    assert _names(varied, "Name != null", "ORDER BY IsClosed DESC, Name DESC LIMIT 2 OFFSET 1") == [
        "O'Brien Ltd",
        "Gamma_1",
    ]


def test_count_query(varied: Org) -> None:
    result = varied.client().query("SELECT COUNT() FROM Opportunity WHERE Amount > 200")
    assert result == {"totalSize": 2, "done": True, "records": []}


def _error(org: Org, soql: str) -> dict[str, str]:
    with pytest.raises(SalesforceMalformedRequest) as info:
        org.client().query(soql)
    assert info.value.status == 400
    content = info.value.content
    assert isinstance(content, list)
    assert len(content) == 1
    return dict(content[0])


def test_mixing_and_or_without_parentheses_is_malformed(org: Org) -> None:
    error = _error(org, "SELECT Id FROM Opportunity WHERE Name = 'a' AND Amount = 1 OR Amount = 2")
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert error["message"].endswith("ERROR at Row:1:Column:60\nunexpected token: 'OR'")


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Opportunity GROUP BY Name",
        "SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity",
        "SELECT COUNT(Id) FROM Opportunity",
        "SELECT Id FROM Opportunity WHERE",
        "SELECT Id FROM Opportunity WHERE Name = 'unterminated",
        "SELECT Id FROM Opportunity WHERE CloseDate = THIS_FISCAL_QUARTER",
        "SELECT Id FROM Opportunity WHERE Name = :name",
        "SELECT Id FROM Opportunity LIMIT 5 ORDER BY Name",
        "SELECT Id FROM Opportunity WHERE Name = 'a' AND NOT Name = 'b'",
    ],
)
def test_unsupported_or_invalid_syntax_is_malformed_query(org: Org, soql: str) -> None:
    error = _error(org, soql)
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in error["message"]


def test_unknown_field_and_unknown_object(org: Org) -> None:
    error = _error(org, "SELECT Id, FullName FROM Opportunity")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'FullName' on entity 'Opportunity'" in error["message"]
    error = _error(org, "SELECT Id FROM Account")
    assert error["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Account' is not supported" in error["message"]


def test_literal_of_the_wrong_type_is_an_invalid_field(org: Org) -> None:
    error = _error(org, "SELECT Id FROM Opportunity WHERE CloseDate > '2026-01-01'")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "must be of type date and should not be enclosed in quotes" in error["message"]
    error = _error(org, "SELECT Id FROM Opportunity WHERE Id = 'nonsense'")
    assert error["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
    error = _error(org, "SELECT Id FROM Opportunity WHERE Description = 'x'")
    assert error["message"].endswith("field 'Description' can not be filtered in a query call")


def test_empty_query_string(org: Org) -> None:
    assert _error(org, " ")["errorCode"] == "MALFORMED_QUERY"


def _stamp(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(row["SystemModstamp"]).replace("+0000", "+00:00"))


def test_a_systemmodstamp_lower_bound_reads_from_the_index_with_the_same_answer(
    org: Org,
) -> None:
    """Rows bounded below on SystemModstamp come from an index kept in step with creates,
    updates and deletes; the answer is the one a full scan gives, for every form of bound."""
    sf = org.client()
    ids = []
    for n in range(12):
        ids.append(sf.Opportunity.create(new_deal(f"Stamp {n:02d}", Amount=n))["id"])
        org.clock.advance(timedelta(seconds=10))
    for record_id in ids[:3]:  # the oldest move to the newest end
        sf.Opportunity.update(record_id, {"Amount": 500})
        org.clock.advance(timedelta(seconds=10))
    sf.Opportunity.delete(ids[5])
    rows = sf.query_all("SELECT Id, Amount, SystemModstamp, IsDeleted FROM Opportunity",
                        include_deleted=True)["records"]
    stamps = sorted(_stamp(r) for r in rows)
    for cut in (stamps[0], stamps[4], stamps[9], stamps[-1], stamps[-1] + timedelta(seconds=1)):
        literal = cut.strftime("%Y-%m-%dT%H:%M:%S.") + f"{cut.microsecond // 1000:03d}Z"
        cases = {
            f"SystemModstamp >= {literal}": lambda r, c=cut: _stamp(r) >= c,
            f"SystemModstamp > {literal}": lambda r, c=cut: _stamp(r) > c,
            f"SystemModstamp >= {literal} AND Amount = 500": (
                lambda r, c=cut: _stamp(r) >= c and r["Amount"] == 500
            ),
            f"SystemModstamp >= {literal} OR Amount = 7": (
                lambda r, c=cut: _stamp(r) >= c or r["Amount"] == 7
            ),
        }
        for where, keep in cases.items():
            for deleted in (False, True):
                expected = sorted(
                    r["Id"] for r in rows if (deleted or not r["IsDeleted"]) and keep(r)
                )
                got = sf.query_all(f"SELECT Id FROM Opportunity WHERE {where}",
                                   include_deleted=deleted)["records"]
                assert sorted(r["Id"] for r in got) == expected, (where, deleted)
