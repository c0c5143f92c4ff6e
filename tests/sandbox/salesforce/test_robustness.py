"""Randomized input never turns into a 500 or a traceback, and paging never loses a row.

Sizes come from CHANNEL_SYNC_SF_FUZZ_CASES (default 150); the seed is printed and can be
pinned with CHANNEL_SYNC_SF_FUZZ_SEED to replay a failure.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceError

from .conftest import Org, new_deal

CASES = int(os.environ.get("CHANNEL_SYNC_SF_FUZZ_CASES", "150"))
SEED = int(os.environ.get("CHANNEL_SYNC_SF_FUZZ_SEED", str(random.SystemRandom().randrange(10**9))))

_WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "COUNT()",
    "Id",
    "Name",
    "Amount",
    "CloseDate",
    "SystemModstamp",
    "IsDeleted",
    "Products__c",
    "Opportunity",
    "Account",
    "=",
    "!=",
    "<",
    ">=",
    "(",
    ")",
    ",",
    "'x'",
    "'it\\'s'",
    "'%a_'",
    "null",
    "true",
    "12.5",
    "-3",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "TODAY",
    "LAST_N_DAYS:3",
    "DESC",
    "NULLS",
    "LAST",
    "INCLUDES",
    "'\\q'",
    "Nope__c",
    ":bind",
    "GROUP",
]
_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "006000000000000AAA",
    [],
    {},
    [1, "a"],
    {"k": [None]},
    "Prospecting",
    "x" * 300,
    10**20,
]
_FIELDS = [
    "Name",
    "StageName",
    "CloseDate",
    "Amount",
    "Id",
    "IsWon",
    "Products__c",
    "Channel_Sync_Id__c",
    "Registration_Expires__c",
    "Channel_Conflict__c",
    "Bogus",
    "attributes",
]
_PATHS = [
    "sobjects/Opportunity/",
    "sobjects/Opportunity/006000000000000AAA",
    "sobjects/Opportunity/x",
    "sobjects/Opportunity/Channel_Sync_Id__c/k",
    "sobjects/Opportunity/Name/k",
    "composite",
    "composite/sobjects",
    "composite/sobjects/Opportunity",
    "composite/sobjects/Opportunity/Name",
    "composite/sobjects/Opportunity/Channel_Sync_Id__c",
    "sobjects/Opportunity/updated/",
    "sobjects/Opportunity/deleted/",
    "query/01gXX0000000000AAA-200",
    "limits/",
    "sobjects/Nope/",
]


def _body(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.random()
    if depth < 2 and choice < 0.3:
        return [_body(rng, depth + 1) for _ in range(rng.randrange(3))]
    if depth < 2 and choice < 0.8:
        out: dict[str, Any] = {}
        for _ in range(rng.randrange(5)):
            key = rng.choice(
                [*_FIELDS, "records", "allOrNone", "compositeRequest", "ids", "fields"]
            )
            out[key] = _body(rng, depth + 1)
        return out
    return rng.choice(_VALUES)


def test_random_requests_never_fail_with_a_server_error(org: Org) -> None:
    print(f"fuzz seed {SEED}, {CASES} cases")
    rng = random.Random(SEED)
    sf = org.client()
    sf.Opportunity.upsert("Channel_Sync_Id__c/k", new_deal())
    statuses: set[int] = set()
    problems: list[object] = []
    for _ in range(CASES):
        method = rng.choice(["GET", "POST", "PATCH", "DELETE"])
        path = rng.choice(_PATHS)
        params = {"ids": rng.choice(["", "a,b", "006000000000000AAA"]), "start": "2026-01-01"}
        try:
            sf.restful(path, method=method, params=params, data=json.dumps(_body(rng)))
            statuses.add(200)
        except SalesforceError as exc:
            statuses.add(exc.status)
            content = exc.content
            shaped = isinstance(content, list) and {"message", "errorCode"} <= set(content[0])
            if exc.status >= 500 or not shaped:
                problems.append((method, path, exc.status, content))
    assert problems == []
    assert statuses - {200}


def test_random_soql_is_answered_or_refused_cleanly(org: Org) -> None:
    print(f"fuzz seed {SEED}, {CASES} cases")
    rng = random.Random(SEED + 1)
    sf = org.client()
    answered = 0
    refusals: set[tuple[int, str]] = set()
    for _ in range(CASES):
        words = ["SELECT", "Id", "FROM", "Opportunity"]
        words += [rng.choice(_WORDS) for _ in range(rng.randrange(8))]
        try:
            sf.query(" ".join(words))
            answered += 1
        except SalesforceError as exc:
            refusals.add((exc.status, exc.content[0]["errorCode"]))
    expected = {
        "MALFORMED_QUERY",
        "INVALID_FIELD",
        "INVALID_TYPE",
        "INVALID_QUERY_FILTER_OPERATOR",
        "NUMBER_OUTSIDE_VALID_RANGE",
    }
    assert {status for status, _ in refusals} <= {400}
    assert {code for _, code in refusals} <= expected
    assert answered >= 1


@pytest.mark.parametrize("batch", [200, 537, 2000])
def test_paging_returns_each_row_once_in_order(org: Org, batch: int) -> None:
    rng = random.Random(SEED + batch)
    total = rng.randrange(1, max(2, CASES * 15))
    print(f"fuzz seed {SEED}: {total} deals, batchSize={batch}")
    org.control("POST", "/seed", json={"seed": SEED % 1000, "deals": total})
    sf = org.client()
    rows = list(
        sf.query_all_iter(
            "SELECT Id, Amount FROM Opportunity ORDER BY Amount DESC, Id",
            headers={"Sforce-Query-Options": f"batchSize={batch}"},
        )
    )
    assert len(rows) == len({r["Id"] for r in rows}) == total
    keys = [(-r["Amount"], r["Id"]) for r in rows]
    assert keys == sorted(keys)
