"""Engine overhead: one two-way cycle of N changed deals per side, against a bare-client floor.

Vendor Salesforce and partner HubSpot sandboxes (no latency) hold 2N linked deals (loaded
through the engine's own initial sync). N are edited in Salesforce and another N in HubSpot,
then one ``sync_once`` reads both sides and writes each side's changes to the other. The floor
issues the same reads and writes straight through simple-salesforce and hubspot-api-client at
the same batch sizes: ``queryAll`` of the changed window (2,000 a batch, the connector's field
list), CRM search of the changed window (200 a page, restarting past 10,000 results), a
Composite of five 200-record collection upserts per call, and HubSpot batch upserts of 100 on
the canonical id. Goal: engine seconds / floor seconds <= 1.5.

The sandboxes run in a spawned child process, as in ``engine_idle.py`` and
``engine_backfill.py``: CRMs holding 2N deals each are many Python objects, and in the engine's
heap every gen-2 collection during its cycle would traverse them too, while their request
handling would share the engine's interpreter. The floor
runs in this process against the same child. Before each cycle the benchmark sleeps out the
look-back (the child keeps wall time), outside the timing. ``--in-process`` runs the sandboxes
in this process instead, on a steered clock, as the other benchmarks do.

    python benchmarks/engine_overhead.py [--n 10000] [--in-process] [--rules] [--repeat R]
                                         [--latency-ms MS]       (env CHANNEL_SYNC_BENCH_N)

``--repeat R`` measures R rounds after the one initial sync (each round edits the same deals
again with new amounts, after an untimed cycle that reads back the last round's writes) and
prints each round and the median ratio: the floor alone moves by up to half between runs on
2 cores, so one round is a noisy figure. ``--latency-ms MS`` makes every sandbox request wait
MS milliseconds before its answer (a real CRM's round trip), for the engine and the floor alike;
the goal is stated for zero latency.

The store is a SQLite file, as ``channel-sync`` keeps by default; with
``CHANNEL_SYNC_BENCH_DATABASE_URL`` set to a PostgreSQL URL it is a new schema in that database
(dropped afterwards), as in the other benchmarks built on ``_world.py``.

With ``--rules`` the engine runs the registration workflow's hub rules, as ``channel-sync run``
and ``channel-sync sync`` do; without it the engine runs no hub rules. The floor is the same.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import requests
from hubspot import HubSpot
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from simple_salesforce import Salesforce
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_process import sandbox_process
from _world import (
    LOOKBACK,
    PARTNER,
    SETTLE,
    VENDOR,
    BenchWorld,
    CallCounter,
    EngineParts,
    change_in_hubspot,
    change_in_salesforce,
    cycle_summary,
    engine_parts,
    hs_client,
    linked_ids,
    open_world,
    sf_client,
)

from channel_sync.scheduler.service import workflow_engine
from channel_sync.store.tables import LinkRow
from channel_sync.sync.cycle import Cycle
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleReport
from channel_sync.sync.runtime import ConnectionRuntime

SEARCH_WINDOW = 10_000
#: Widens the changed window past the edits when the sandboxes keep wall time in another
#: process (millisecond stamps); far less than the sleeps on either side of the window.
WINDOW_MARGIN = timedelta(milliseconds=500)

Links = list[tuple[str, str]]
Counting = Callable[[list[CycleReport]], dict[str, int]]


class Bench(Protocol):
    """The engine, both CRMs' bare clients and the helpers the measurement needs from them."""

    runtimes: dict[str, ConnectionRuntime]
    sf: Salesforce
    hs: HubSpot

    def sync(self) -> tuple[list[CycleReport], float]:
        """One ``sync_once`` of both connections after the look-back has passed; seconds."""

    def window_start(self) -> datetime:
        """Let the engine's own writes fall behind; the start of the changed window."""

    def window_end(self) -> datetime:
        """The end of the changed window, called once the edits are made."""

    def linked(self) -> tuple[Links, Links]:
        """(canonical id, remote id) of every linked record: Salesforce, then HubSpot, by key."""

    def counting(self) -> Counting:
        """Start counting billed API calls; the returned function gives them, per connection,
        for the cycle whose reports it is handed."""

    def amounts(
        self, vendor_keys: set[str], partner_keys: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """The floor's writes: the vendor amounts of the partner-edited deals as Salesforce
        upserts, and the partner amounts of the vendor-edited deals as HubSpot upserts."""


class Together:
    """Sandboxes in this process, on the world's steered clock."""

    def __init__(self, world: BenchWorld) -> None:
        self.world = world
        self.runtimes = world.runtimes
        self.sf = sf_client(world.vendor)
        self.hs = hs_client(world.partner)

    def sync(self) -> tuple[list[CycleReport], float]:
        return self.world.sync()

    def window_start(self) -> datetime:
        self.world.clock.advance(SETTLE)
        return self.world.clock.now()

    def window_end(self) -> datetime:
        return self.world.clock.now()

    def linked(self) -> tuple[Links, Links]:
        return linked_ids(self.world)

    def counting(self) -> Counting:
        counters = {VENDOR: CallCounter(self.world.vendor),
                    PARTNER: CallCounter(self.world.partner)}
        marks = {k: c.mark() for k, c in counters.items()}
        return lambda _: {k: counters[k].since(marks[k]) for k in counters}

    def amounts(
        self, vendor_keys: set[str], partner_keys: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        vendor_rows: Any = self.world.vendor.backend.snapshot()["Opportunity"]
        partner_rows: Any = self.world.partner.backend.snapshot()["deals"]
        sf_rows = [{"Channel_Sync_Id__c": r["Channel_Sync_Id__c"], "Amount": r["Amount"]}
                   for r in vendor_rows if r.get("Channel_Sync_Id__c") in partner_keys]
        hs_rows = [{"channel_sync_id": r["properties"]["channel_sync_id"],
                    "amount": r["properties"]["amount"]}
                   for r in partner_rows if r["properties"].get("channel_sync_id") in vendor_keys]
        return sf_rows, hs_rows


class Apart:
    """Sandboxes in a child process on wall time, reached only over HTTP."""

    def __init__(self, parts: EngineParts, env: dict[str, str], *, rules: bool) -> None:
        self.parts = parts
        self.runtimes = parts.runtimes
        if rules:
            self.engine, _ = workflow_engine(parts.project, parts.runtimes, parts.store,
                                             clock=parts.clock)
        else:
            self.engine = SyncEngine(parts.runtimes, parts.store, clock=parts.clock)
        self.sf = sf_login(env)
        url = env["PARTNER_A_HUBSPOT_URL"]
        self.hs = HubSpot(access_token=env["PARTNER_A_HUBSPOT_TOKEN"], host=url, base_url=url)

    def sync(self) -> tuple[list[CycleReport], float]:
        time.sleep(LOOKBACK.total_seconds() + 1)  # HubSpot reads a closed window
        started = time.perf_counter()
        reports = self.engine.sync_once()
        return reports, time.perf_counter() - started

    def window_start(self) -> datetime:
        time.sleep(SETTLE.total_seconds())
        return datetime.now(UTC) - WINDOW_MARGIN

    def window_end(self) -> datetime:
        return datetime.now(UTC) + WINDOW_MARGIN

    def linked(self) -> tuple[Links, Links]:
        sides: dict[str, Links] = {VENDOR: [], PARTNER: []}
        query = select(LinkRow.connection, LinkRow.canonical_id, LinkRow.remote_id).where(
            LinkRow.remote_id.is_not(None)
        )
        with self.parts.store.read() as tx:
            for connection, key, rid in tx.session.execute(query):
                sides[connection].append((key, str(rid)))
        return sorted(sides[VENDOR]), sorted(sides[PARTNER])

    def counting(self) -> Counting:
        return lambda reports: {r.connection: r.api_calls for r in reports}

    def amounts(
        self, vendor_keys: set[str], partner_keys: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        soql = "SELECT Channel_Sync_Id__c, Amount FROM Opportunity WHERE Channel_Sync_Id__c != null"
        sf_rows = [{"Channel_Sync_Id__c": r["Channel_Sync_Id__c"], "Amount": r["Amount"]}
                   for r in self.sf.query_all_iter(soql)
                   if r["Channel_Sync_Id__c"] in partner_keys]
        deals = self.hs.crm.deals.get_all(properties=["channel_sync_id", "amount"])
        hs_rows = [{"channel_sync_id": d.properties["channel_sync_id"],
                    "amount": d.properties["amount"]}
                   for d in deals if d.properties.get("channel_sync_id") in vendor_keys]
        return sf_rows, hs_rows


def sf_login(env: dict[str, str]) -> Salesforce:
    """simple-salesforce on a session from the org's client-credentials token endpoint."""
    session = requests.Session()
    session.trust_env = False
    session.verify = env["VENDOR_SF_CA_BUNDLE"]
    url = env["VENDOR_SF_INSTANCE_URL"].rstrip("/")
    answer = session.post(f"{url}/services/oauth2/token", data={
        "grant_type": "client_credentials",
        "client_id": env["VENDOR_SF_CLIENT_ID"],
        "client_secret": env["VENDOR_SF_CLIENT_SECRET"],
    }, timeout=30)
    answer.raise_for_status()
    token = answer.json()
    return Salesforce(instance_url=token.get("instance_url") or url,
                      session_id=token["access_token"], session=session, version="59.0")


@contextmanager
def together(deals: int, *, rules: bool, latency_ms: int = 0) -> Iterator[Bench]:
    if rules or latency_ms:
        msg = "--rules and --latency-ms run with the sandboxes in a child process only"
        raise SystemExit(msg)
    with open_world() as world:
        world.seed_partner_deals(deals)
        yield Together(world)


@contextmanager
def apart(deals: int, *, rules: bool, latency_ms: int = 0) -> Iterator[Bench]:
    """An engine in this process over sandboxes in a child process."""
    with sandbox_process(deals, latency_ms=latency_ms) as sandboxes, \
            tempfile.TemporaryDirectory(prefix="channel-sync-bench-") as tmp, \
            engine_parts(sandboxes.env, Path(tmp)) as parts:
        yield Apart(parts, sandboxes.env, rules=rules)


@contextmanager
def phase_timer(runtimes: dict[str, ConnectionRuntime]) -> Iterator[dict[str, float]]:
    """Seconds spent in the cycle's read and drain phases, in the connectors' own reads and
    writes (HTTP and, in process, the sandboxes' work included), and in Python's cyclic garbage
    collector (any phase), while the block runs."""
    spent = {"read_phase": 0.0, "drain_phase": 0.0, "connector_reads": 0.0,
             "connector_writes": 0.0, "garbage_collection": 0.0}
    collecting: list[float] = []

    def collector(phase: str, info: dict[str, Any]) -> None:  # noqa: ARG001 - gc's signature
        if phase == "start":
            collecting.append(time.perf_counter())
        elif collecting:
            spent["garbage_collection"] += time.perf_counter() - collecting.pop()

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
    connectors = [rt.connector for rt in runtimes.values()]
    for name, method in saved.items():
        setattr(Cycle, name, timed(name, method))
    for connector in connectors:
        connector.read_changes = timed_pages(connector.read_changes)  # type: ignore[method-assign]
        connector.write_batch = timed("connector_writes", connector.write_batch)  # type: ignore[method-assign]
    gc.callbacks.append(collector)
    try:
        yield spent
    finally:
        gc.callbacks.remove(collector)
        for name, method in saved.items():
            setattr(Cycle, name, method)
        for connector in connectors:
            del connector.read_changes, connector.write_batch


def read_fields(bench: Bench, connection: str) -> tuple[str, tuple[str, ...]]:
    """The object and the field list the connector itself reads."""
    connector: Any = bench.runtimes[connection].connector
    spec = next(iter(connector._objects.values()))
    return spec.name, tuple(spec.read_fields())


def soql_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def floor_sf_read(bench: Bench, t0: datetime, t1: datetime) -> int:
    obj, fields = read_fields(bench, VENDOR)
    soql = (
        f"SELECT {', '.join(fields)} FROM {obj} WHERE SystemModstamp > {soql_time(t0)} "
        f"AND SystemModstamp <= {soql_time(t1)} ORDER BY SystemModstamp, Id"
    )
    return sum(1 for _ in bench.sf.query_all_iter(soql, include_deleted=True))


def floor_hs_read(bench: Bench, t0: datetime, t1: datetime) -> int:
    _, fields = read_fields(bench, PARTNER)
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
        page: Any = bench.hs.crm.deals.search_api.do_search(public_object_search_request=request)
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


def run(n: int, *, in_process: bool, rules: bool = False, repeat: int = 1,
        latency_ms: int = 0) -> None:
    with (together if in_process else apart)(2 * n, rules=rules, latency_ms=latency_ms) as bench:
        initial = bench.sync()[1] + bench.sync()[1]  # the second reads back the engine's writes
        print(json.dumps({"scenario": "initial_sync", "deals": 2 * n, "workflow_rules": rules,
                          "sandboxes_in_process": in_process, "seconds": round(initial, 2),
                          "ms_per_deal": round(1000 * initial / max(1, 2 * n), 2)}), flush=True)
        rounds = []
        for index in range(repeat):
            if index:
                bench.sync()  # read back the last round's writes (unchanged values), untimed
            rounds.append(one_round(bench, n, index, in_process=in_process, rules=rules,
                                    latency_ms=latency_ms))
        if repeat > 1:
            print(json.dumps({
                "scenario": "engine_overhead_rounds", "n": n, "rounds": repeat,
                "engine_seconds": [r["engine_seconds"] for r in rounds],
                "floor_seconds": [r["floor_seconds"] for r in rounds],
                "ratios": [r["ratio"] for r in rounds],
                "median_ratio": round(statistics.median(r["ratio"] for r in rounds), 2),
                "median_engine_seconds": round(
                    statistics.median(r["engine_seconds"] for r in rounds), 3),
                "goal": 1.5,
            }), flush=True)


def one_round(bench: Bench, n: int, index: int, *, in_process: bool,
              rules: bool, latency_ms: int) -> dict[str, Any]:
    """Edit N deals on each side, time one engine cycle, then the bare-client floor."""
    sf_ids, hs_ids = bench.linked()
    vendor_side = sf_ids[:n]
    partner_side = hs_ids[n:2 * n]
    t0 = bench.window_start()
    change_in_salesforce(bench.sf, [rid for _, rid in vendor_side], 50_000 + 1_000 * index)
    change_in_hubspot(bench.hs, [rid for _, rid in partner_side], 70_000 + 1_000 * index)
    t1 = bench.window_end()
    calls_of = bench.counting()
    with phase_timer(bench.runtimes) as phases:
        reports, engine_s = bench.sync()
    calls = calls_of(reports)

    # The floor: the same reads, then the same writes again, with the values now held.
    sf_rows, hs_rows = bench.amounts({key for key, _ in vendor_side},
                                     {key for key, _ in partner_side})
    started = time.perf_counter()
    sf_read = floor_sf_read(bench, t0, t1)
    hs_read = floor_hs_read(bench, t0, t1)
    floor_sf_write(bench.sf, sf_rows)
    floor_hs_write(bench.hs, hs_rows)
    floor_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "scenario": "engine_overhead", "n": n, "round": index + 1,
        "latency_ms": latency_ms,
        "sandboxes_in_process": in_process, "workflow_rules": rules,
        "engine_seconds": round(engine_s, 3),
        "floor_seconds": round(floor_s, 3), "ratio": round(engine_s / floor_s, 2),
        "goal": 1.5, "engine_api_calls": calls,
        "engine_phases": {k: round(v, 3) for k, v in phases.items()},
        "floor_reads": {"sf": sf_read, "hs": hs_read},
        "floor_writes": {"sf": len(sf_rows), "hs": len(hs_rows)},
        "cycle": cycle_summary(reports),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("CHANNEL_SYNC_BENCH_N",
                                                                    "10000")))
    parser.add_argument("--in-process", action="store_true",
                        help="run the sandboxes in this process (their heap and CPU included)")
    parser.add_argument("--rules", action="store_true",
                        help="sync with the registration workflow's rules, as channel-sync run "
                             "does (child-process sandboxes only)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure this many rounds (new edits each) after one initial sync, "
                             "and print the median ratio")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="every sandbox request waits this long before its answer, for the "
                             "engine and the floor alike (child-process sandboxes only)")
    args = parser.parse_args()
    if args.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    if args.latency_ms and args.in_process:
        parser.error("--latency-ms needs the sandboxes in a child process (drop --in-process)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.rules and args.in_process:
        parser.error("--rules needs the sandboxes in a child process (drop --in-process)")
    run(args.n, in_process=args.in_process, rules=args.rules, repeat=args.repeat,
        latency_ms=args.latency_ms)


if __name__ == "__main__":
    main()
