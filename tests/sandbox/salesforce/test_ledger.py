"""The call ledger agrees with what the client really sent."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceError

from .conftest import Org, new_deal

V = "/services/data/v59.0"


def test_ledger_matches_a_client_side_count(org: Org) -> None:
    sf = org.client()
    ids = [sf.Opportunity.create(new_deal(f"L{i}"))["id"] for i in range(3)]
    sf.Opportunity.update(ids[0], {"Amount": 5})
    sf.Opportunity.get(ids[1])
    sf.Opportunity.delete(ids[2])
    for _ in sf.query_all_iter(
        "SELECT Id FROM Opportunity", True, headers={"Sforce-Query-Options": "batchSize=200"}
    ):
        pass
    sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {"method": "GET", "url": f"{V}/sobjects/Opportunity/{ids[0]}", "referenceId": "a"},
                {"method": "GET", "url": f"{V}/sobjects/Opportunity/{ids[1]}", "referenceId": "b"},
            ]
        },
    )
    for failing in (
        lambda: sf.query("SELECT Nope FROM Opportunity"),
        lambda: sf.Opportunity.get("006000000000000AAA"),
        lambda: sf.Opportunity.create({"Name": "incomplete"}),
    ):
        with pytest.raises(SalesforceError):
            failing()
    expired = org.client("not-a-token")
    with pytest.raises(SalesforceError):
        expired.query("SELECT Id FROM Opportunity")

    ledger = org.ledger()
    entries = ledger["entries"]
    sent = org.sent
    assert [f"{e['method']} {e['path']}" for e in entries] == sent
    assert len(sent) == 12
    counted = [e for e in entries if e["counts_against_allowance"]]
    assert ledger["api_calls"] == len(counted) == len(sent) - 1  # the 401 is not billed
    assert [e["status"] for e in entries][-4:] == [400, 404, 400, 401]
    assert sum(e["records_written"] for e in entries) == 5
    composite = next(e for e in entries if e["path"] == f"{V}/composite")
    assert composite["records_read"] == 2
