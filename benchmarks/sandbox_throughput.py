"""How fast the sandbox CRMs answer through the real client libraries.

Prints one JSON line per measurement:

- requests per second of single-record reads on one keep-alive connection
  (simple-salesforce ``Opportunity.get`` over HTTPS, hubspot-api-client ``basic_api.get_by_id``);
- seconds to page through all records: simple-salesforce ``query_all`` (2,000 per page),
  HubSpot ``basic_api.get_page`` (100 per page) and ``search_api.do_search`` (200 per page).

Sizes come from the environment: CHANNEL_SYNC_BENCH_RECORDS (default 10000) and
CHANNEL_SYNC_BENCH_REQUESTS (default 500). Rate limits are lifted so the emulators, not their
emulated quotas, are measured. ``server_seconds`` is the emulators' own share, from their
ledgers; the rest is the client library and the network stack.
Run: ``.venv/bin/python benchmarks/sandbox_throughput.py``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from hubspot import HubSpot
from hubspot.crm.deals import PublicObjectSearchRequest
from simple_salesforce import Salesforce

from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer

RECORDS = int(os.environ.get("CHANNEL_SYNC_BENCH_RECORDS", "10000"))
REQUESTS = int(os.environ.get("CHANNEL_SYNC_BENCH_REQUESTS", "500"))
UNLIMITED = 10**12


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def server_seconds(inst: RunningInstance, since: int) -> float:
    """Time the emulator itself spent on the requests after ``since`` (from its ledger)."""
    return round(sum(e.duration_ms for e in inst.backend.ledger.entries(since)) / 1000.0, 3)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def salesforce_client(inst: RunningInstance) -> Salesforce:
    return Salesforce(
        instance_url=inst.base_url,
        session_id=inst.access_token,
        session=inst.requests_session(),
        object_pairs_hook=dict,
    )


def bench_salesforce(inst: RunningInstance) -> None:
    sf = salesforce_client(inst)
    first = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    since = inst.backend.ledger.last_seq()
    seconds, _ = timed(lambda: [sf.Opportunity.get(first) for _ in range(REQUESTS)])
    emit(
        emulator="salesforce",
        measure="requests_per_second",
        call="Opportunity.get",
        requests=REQUESTS,
        seconds=round(seconds, 3),
        server_seconds=server_seconds(inst, since),
        value=round(REQUESTS / seconds, 1),
    )
    soql = (
        "SELECT Id, Name, StageName, Amount, CloseDate, Channel_Sync_Id__c, SystemModstamp "
        "FROM Opportunity ORDER BY Id"
    )
    before = inst.backend.ledger.last_seq()
    seconds, result = timed(lambda: sf.query_all(soql))
    assert result["totalSize"] == RECORDS, result["totalSize"]
    emit(
        emulator="salesforce",
        measure="seconds_to_page",
        call="query_all (2000 per page)",
        records=RECORDS,
        pages=inst.backend.ledger.last_seq() - before,
        server_seconds=server_seconds(inst, before),
        value=round(seconds, 3),
    )


def bench_hubspot(inst: RunningInstance) -> None:
    client = HubSpot(access_token=inst.access_token, host=inst.base_url)
    basic = client.crm.deals.basic_api  # each attribute access builds a new pool: keep one
    search = client.crm.deals.search_api
    first = basic.get_page(limit=1).results[0].id
    since = inst.backend.ledger.last_seq()
    seconds, _ = timed(lambda: [basic.get_by_id(first) for _ in range(REQUESTS)])
    emit(
        emulator="hubspot",
        measure="requests_per_second",
        call="basic_api.get_by_id",
        requests=REQUESTS,
        seconds=round(seconds, 3),
        server_seconds=server_seconds(inst, since),
        value=round(REQUESTS / seconds, 1),
    )

    def page_basic() -> int:
        seen, after = 0, None
        while True:
            page = basic.get_page(limit=100, after=after, properties=["dealname", "amount"])
            seen += len(page.results)
            if page.paging is None or page.paging.next is None:
                return seen
            after = page.paging.next.after

    since = inst.backend.ledger.last_seq()
    seconds, seen = timed(page_basic)
    assert seen == RECORDS, seen
    emit(
        emulator="hubspot",
        measure="seconds_to_page",
        call="basic_api.get_page (100 per page)",
        records=RECORDS,
        server_seconds=server_seconds(inst, since),
        value=round(seconds, 3),
    )

    def page_search() -> int:
        seen, after = 0, None
        while True:
            request = PublicObjectSearchRequest(
                limit=200,
                after=after,
                sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                properties=["dealname", "amount"],
            )
            page = search.do_search(public_object_search_request=request)
            seen += len(page.results)
            if page.paging is None or page.paging.next is None:
                return seen
            after = page.paging.next.after

    since = inst.backend.ledger.last_seq()
    seconds, seen = timed(page_search)
    emit(
        emulator="hubspot",
        measure="seconds_to_page",
        call="search_api.do_search (200 per page)",
        records=seen,
        server_seconds=server_seconds(inst, since),
        value=round(seconds, 3),
    )


def main() -> None:
    specs = [
        InstanceSpec("vendor", "salesforce", settings={"daily_limit": UNLIMITED}),
        InstanceSpec(
            "partner",
            "hubspot",
            settings={"daily_limit": UNLIMITED, "burst_limit": None, "search_per_second": 10**6},
        ),
    ]
    seeded, server = timed(lambda: SandboxServer(specs, seed=1, deals=RECORDS).__enter__())
    try:
        emit(measure="seconds_to_start_and_seed", records=RECORDS, value=round(seeded, 3))
        bench_salesforce(server.instances["vendor"])
        bench_hubspot(server.instances["partner"])
    finally:
        server.__exit__(None, None, None)


if __name__ == "__main__":
    main()
