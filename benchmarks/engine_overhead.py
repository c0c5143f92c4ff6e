"""Engine overhead: one two-way cycle of N changed deals per side, against a bare-client floor.

Vendor Salesforce and partner HubSpot sandboxes (no latency) hold 2N linked deals (loaded
through the engine's own initial sync). N are edited in Salesforce and another N in HubSpot,
then one ``sync_once`` reads both sides and writes each side's changes to the other. The floor
issues the same reads and writes straight through simple-salesforce and hubspot-api-client at
the same batch sizes: ``queryAll`` of the changed window (2,000 a batch, the connector's field
list), CRM search of the changed window (200 a page, restarting past 10,000 results), a
Composite of five 200-record collection upserts per call, and HubSpot batch upserts of 100 on
the canonical id. Goal: engine seconds / floor seconds <= 1.5.

    python benchmarks/engine_overhead.py [--n 10000]      (env CHANNEL_SYNC_BENCH_N)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hubspot import HubSpot
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from simple_salesforce import Salesforce

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _world import (
    PARTNER,
    SETTLE,
    VENDOR,
    BenchWorld,
    CallCounter,
    change_in_hubspot,
    change_in_salesforce,
    cycle_summary,
    hs_client,
    linked_ids,
    open_world,
    read_fields,
    sf_client,
)

from channel_sync.sync.cycle import Cycle

SEARCH_WINDOW = 10_000


@contextmanager
def phase_timer(world: BenchWorld) -> Iterator[dict[str, float]]:
    """Seconds spent in the cycle's read and drain phases and in the connectors' own reads and
    writes (HTTP and the sandboxes' work included), while the block runs."""
    spent = {"read_phase": 0.0, "drain_phase": 0.0, "connector_reads": 0.0,
             "connector_writes": 0.0}

    def timed(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    def timed_pages(call: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            pages = call(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    page = next(pages)
                except StopIteration:
                    return
                finally:
                    spent["connector_reads"] += time.perf_counter() - started
                yield page
        return wrapper

    saved = {name: getattr(Cycle, name) for name in ("read_phase", "drain_phase")}
    connectors = [rt.connector for rt in world.runtimes.values()]
    for name, method in saved.items():
        setattr(Cycle, name, timed(name, method))
    for connector in connectors:
        connector.read_changes = timed_pages(connector.read_changes)  # type: ignore[method-assign]
        connector.write_batch = timed("connector_writes", connector.write_batch)  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        for name, method in saved.items():
            setattr(Cycle, name, method)
        for connector in connectors:
            del connector.read_changes, connector.write_batch


def soql_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def floor_sf_read(world: BenchWorld, sf: Salesforce, t0: datetime, t1: datetime) -> int:
    obj, fields = read_fields(world, VENDOR)
    soql = (
        f"SELECT {', '.join(fields)} FROM {obj} WHERE SystemModstamp > {soql_time(t0)} "
        f"AND SystemModstamp <= {soql_time(t1)} ORDER BY SystemModstamp, Id"
    )
    return sum(1 for _ in sf.query_all_iter(soql, include_deleted=True))


def floor_hs_read(world: BenchWorld, hs: HubSpot, t0: datetime, t1: datetime) -> int:
    _, fields = read_fields(world, PARTNER)
    low, high = int(t0.timestamp() * 1000), int(t1.timestamp() * 1000)
    seen: set[str] = set()
    op, after = "GT", 0
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[{"filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": op, "value": str(low)},
                {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": str(high)},
            ]}],
            sorts=["hs_lastmodifieddate"], properties=list(fields), limit=200, after=after,
        )
        page: Any = hs.crm.deals.search_api.do_search(public_object_search_request=request)
        for row in page.results:
            seen.add(row.id)
        if page.paging is None or page.paging.next is None:
            return len(seen)
        after = int(page.paging.next.after)
        if after >= SEARCH_WINDOW:  # start again from the last stamp seen, as the facts say
            stamp = page.results[-1].properties["hs_lastmodifieddate"]
            low = int(datetime.fromisoformat(stamp).timestamp() * 1000)
            op, after = "GTE", 0


def floor_sf_write(sf: Salesforce, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        subrequests = [
            {
                "method": "PATCH",
                "url": "/services/data/v59.0/composite/sobjects/Opportunity/Channel_Sync_Id__c",
                "referenceId": f"c{i}",
                "body": {"allOrNone": False, "records": [
                    {"attributes": {"type": "Opportunity"}, **r} for r in chunk[i:i + 200]
                ]},
            }
            for i in range(0, len(chunk), 200)
        ]
        sf.restful("composite", method="POST",
                   json={"allOrNone": False, "compositeRequest": subrequests})


def floor_hs_write(hs: HubSpot, rows: list[dict[str, str]]) -> None:
    for start in range(0, len(rows), 100):
        inputs = [
            SimplePublicObjectBatchInputUpsert(
                id_property="channel_sync_id", id=r["channel_sync_id"],
                properties={k: v for k, v in r.items() if k != "channel_sync_id"},
            )
            for r in rows[start:start + 100]
        ]
        hs.crm.deals.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs))


def run(n: int) -> None:
    with open_world() as world:
        world.seed_partner_deals(2 * n)
        started = time.perf_counter()
        world.sync()
        world.sync()  # reads back the engine's own first writes
        initial = time.perf_counter() - started
        print(json.dumps({"scenario": "initial_sync", "deals": 2 * n,
                          "seconds": round(initial, 2),
                          "ms_per_deal": round(1000 * initial / max(1, 2 * n), 2)}), flush=True)
        sf, hs = sf_client(world.vendor), hs_client(world.partner)
        sf_ids, hs_ids = linked_ids(world)
        vendor_side = sf_ids[:n]
        partner_side = hs_ids[n:2 * n]
        world.clock.advance(SETTLE)
        t0 = world.clock.now()
        change_in_salesforce(sf, [rid for _, rid in vendor_side], 50_000)
        change_in_hubspot(hs, [rid for _, rid in partner_side], 70_000)
        t1 = world.clock.now()
        counters = {VENDOR: CallCounter(world.vendor), PARTNER: CallCounter(world.partner)}
        marks = {k: c.mark() for k, c in counters.items()}
        with phase_timer(world) as phases:
            reports, engine_s = world.sync()
        calls = {k: counters[k].since(marks[k]) for k in counters}

        # The floor: the same reads, then the same writes again, with the values now held.
        vendor_rows: Any = world.vendor.backend.snapshot()["Opportunity"]
        partner_rows: Any = world.partner.backend.snapshot()["deals"]
        partner_keys = {key for key, _ in partner_side}
        vendor_keys = {key for key, _ in vendor_side}
        sf_rows = [{"Channel_Sync_Id__c": r["Channel_Sync_Id__c"], "Amount": r["Amount"]}
                   for r in vendor_rows if r.get("Channel_Sync_Id__c") in partner_keys]
        hs_rows = [{"channel_sync_id": r["properties"]["channel_sync_id"],
                    "amount": r["properties"]["amount"]}
                   for r in partner_rows if r["properties"].get("channel_sync_id") in vendor_keys]
        started = time.perf_counter()
        sf_read = floor_sf_read(world, sf, t0, t1)
        hs_read = floor_hs_read(world, hs, t0, t1)
        floor_sf_write(sf, sf_rows)
        floor_hs_write(hs, hs_rows)
        floor_s = time.perf_counter() - started
        print(json.dumps({
            "scenario": "engine_overhead", "n": n, "engine_seconds": round(engine_s, 3),
            "floor_seconds": round(floor_s, 3), "ratio": round(engine_s / floor_s, 2),
            "goal": 1.5, "engine_api_calls": calls,
            "engine_phases": {k: round(v, 3) for k, v in phases.items()},
            "floor_reads": {"sf": sf_read, "hs": hs_read},
            "floor_writes": {"sf": len(sf_rows), "hs": len(hs_rows)},
            "cycle": cycle_summary(reports),
        }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("CHANNEL_SYNC_BENCH_N",
                                                                    "10000")))
    run(parser.parse_args().n)


if __name__ == "__main__":
    main()
