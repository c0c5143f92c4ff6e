"""A vendor Salesforce org and one partner HubSpot portal on loopback, wired to a sync engine.

Shared by the ``engine_*`` benchmarks. The engine reaches the sandboxes through the shipped
connectors (simple-salesforce, hubspot-api-client), built from the shipped connection and
mapping files copied into a scratch project that holds only these two connections. The
sandboxes' burst limits are lifted and the connectors' client-side pacing is opened up: the
benchmarks measure the engine and the clients, not a rate limit both would wait on alike.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from hubspot import HubSpot
from hubspot.crm.deals import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from simple_salesforce import Salesforce
from sqlalchemy import create_engine, make_url

from channel_sync.connectors import ConnectorPlugin, RetryPolicy
from channel_sync.connectors.hubspot import HubSpotSettings
from channel_sync.connectors.hubspot.plugin import plugin as hs_plugin
from channel_sync.connectors.salesforce.connector import SalesforceSettings
from channel_sync.connectors.salesforce.plugin import plugin as sf_plugin
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer, generate_deals
from channel_sync.store import Store, migrate, open_store
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleReport
from channel_sync.sync.runtime import ConnectionRuntime, close_runtime, load_runtime
from channel_sync.testing import SteerableClock
from channel_sync.testing.ledger import settled

ROOT = Path(__file__).resolve().parents[1]
VENDOR = "vendor-salesforce"
PARTNER = "partner-a-hubspot"
LOOKBACK = timedelta(seconds=2)
SETTLE = timedelta(seconds=3)
#: A PostgreSQL URL to keep the store in (a fresh schema per run) instead of a SQLite file.
BENCH_DATABASE_URL = "CHANNEL_SYNC_BENCH_DATABASE_URL"
PLUGINS: dict[str, ConnectorPlugin] = {"salesforce": sf_plugin, "hubspot": hs_plugin}
RETRY = RetryPolicy(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=0.5, max_retry_after_s=2)


def scratch_project(into: Path) -> Path:
    """The shipped vendor and partner-A connection files with their mappings, nothing else."""
    (into / "connectors").mkdir(parents=True)
    (into / "mappings").mkdir()
    for name in (VENDOR, PARTNER):
        shutil.copy(ROOT / "connectors" / f"{name}.yaml", into / "connectors")
    for path in (ROOT / "mappings").glob("*.yaml"):
        shutil.copy(path, into / "mappings")
    return into


def connector_options(clock: SteerableClock) -> dict[str, dict[str, Any]]:
    return {
        "salesforce": {
            "clock": clock,
            "settings": SalesforceSettings(lookback=LOOKBACK, retry=RETRY),
        },
        "hubspot": {
            "clock": clock,
            "settings": HubSpotSettings(
                lookback=LOOKBACK, archive_sweep_every=None, retry=RETRY,
                burst_limit=10**6, search_per_second=10**6,
            ),
        },
    }


def project_env(server: SandboxServer) -> dict[str, str]:
    vendor = server.instances["vendor"]
    backend: Any = vendor.backend
    partner = server.instances["partner"]
    return {
        "VENDOR_SF_CLIENT_ID": backend.client_id,
        "VENDOR_SF_CLIENT_SECRET": backend.client_secret,
        "VENDOR_SF_INSTANCE_URL": vendor.base_url,
        "VENDOR_SF_CA_BUNDLE": str(vendor.ca_bundle),
        "PARTNER_A_HUBSPOT_TOKEN": partner.access_token,
        "PARTNER_A_HUBSPOT_URL": partner.base_url,
    }


def lift_limits(instance: RunningInstance) -> None:
    backend: Any = instance.backend
    backend.allowance.configure(daily_limit=10**9, clear_burst_limit=True)
    search = getattr(backend, "search_allowance", None)
    if search is not None:
        search.configure(daily_limit=10**9, clear_burst_limit=True)


class CallCounter:
    """Billed API calls one sandbox answered between two points."""

    def __init__(self, instance: RunningInstance) -> None:
        backend: Any = instance.backend
        self.ledger: Any = backend.ledger

    def mark(self) -> int:
        return int(settled(self.ledger.last_seq))

    def since(self, seq: int) -> int:
        self.mark()
        return sum(1 for e in self.ledger.entries(seq) if e.counts_against_allowance)


@dataclasses.dataclass
class BenchWorld:
    server: SandboxServer
    clock: SteerableClock
    store: Store
    runtimes: dict[str, ConnectionRuntime]
    engine: SyncEngine
    workdir: Path

    @property
    def vendor(self) -> RunningInstance:
        return self.server.instances["vendor"]

    @property
    def partner(self) -> RunningInstance:
        return self.server.instances["partner"]

    def seed_partner_deals(self, n: int, *, seed: int = 7) -> None:
        """``n`` deals the partner registered with the vendor, loaded straight into HubSpot."""
        deals = [dataclasses.replace(d, register=True) for d in generate_deals(seed, n)]
        backend: Any = self.partner.backend
        backend.seed(deals)

    def sync(self) -> tuple[list[CycleReport], float]:
        """One ``sync_once`` of both connections after the look-back has passed; seconds."""
        self.clock.advance(SETTLE)
        started = time.perf_counter()
        reports = self.engine.sync_once()
        return reports, time.perf_counter() - started


@contextmanager
def open_world() -> Iterator[BenchWorld]:
    """Yield a fresh world (empty CRMs, migrated store: see :func:`store_url`); tear it all
    down after."""
    clock = SteerableClock()
    tmp = tempfile.TemporaryDirectory(prefix="channel-sync-bench-")
    workdir = Path(tmp.name)
    specs = [InstanceSpec("vendor", "salesforce"), InstanceSpec("partner", "hubspot")]
    with SandboxServer(specs, clock=clock, workdir=workdir / "sandbox") as server:
        for instance in server.instances.values():
            lift_limits(instance)
        with store_url(workdir) as url:
            migrate(url)
            store = open_store(url, clock=clock)
            project = scratch_project(workdir / "project")
            runtimes = load_runtime(
                project, project_env(server), connector_options=connector_options(clock),
                plugins=PLUGINS,
            )
            engine = SyncEngine(runtimes, store, clock=clock)
            world = BenchWorld(server, clock, store, runtimes, engine, workdir)
            try:
                yield world
            finally:
                close_runtime(runtimes)
                store.dispose()
    tmp.cleanup()


@dataclasses.dataclass
class EngineParts:
    clock: SteerableClock
    store: Store
    runtimes: dict[str, ConnectionRuntime]
    project: Path


@contextmanager
def engine_parts(env: dict[str, str], workdir: Path) -> Iterator[EngineParts]:
    """A migrated store (see :func:`store_url`) and the shipped connections pointed at
    sandboxes served elsewhere (``env`` names them); the wall clock, as those sandboxes keep
    their own."""
    clock = SteerableClock()
    with store_url(workdir) as url:
        migrate(url)
        store = open_store(url, clock=clock)
        project = scratch_project(workdir / "project")
        runtimes = load_runtime(project, env, connector_options=connector_options(clock),
                                plugins=PLUGINS)
        try:
            yield EngineParts(clock, store, runtimes, project)
        finally:
            close_runtime(runtimes)
            store.dispose()


@contextmanager
def store_url(workdir: Path) -> Iterator[str]:
    """A SQLite file in ``workdir``; with ``CHANNEL_SYNC_BENCH_DATABASE_URL`` (PostgreSQL), a
    new schema there, dropped afterwards."""
    base = os.environ.get(BENCH_DATABASE_URL)
    if not base:
        yield f"sqlite:///{workdir / 'state.db'}"
        return
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def cycle_summary(reports: list[CycleReport]) -> dict[str, Any]:
    """The parts of the cycle reports a benchmark line shows."""
    out: dict[str, Any] = {}
    for report in reports:
        data = report.to_json()
        out[report.connection] = {
            k: data.get(k)
            for k in ("status", "records_read", "created", "updated", "unchanged", "written",
                      "failed", "api_calls", "error")
        }
    return out


# -- the same client libraries, without the engine ---------------------------------------------


def sf_client(instance: RunningInstance) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.verify = instance.verify
    return Salesforce(
        instance_url=instance.base_url, session_id=instance.access_token, session=session,
        version="59.0",
    )


def hs_client(instance: RunningInstance) -> HubSpot:
    return HubSpot(
        access_token=instance.access_token, host=instance.base_url, base_url=instance.base_url
    )


def linked_ids(world: BenchWorld) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(canonical id, remote id) of every linked record: Salesforce, then HubSpot, by key."""
    vendor: Any = world.vendor.backend
    partner: Any = world.partner.backend
    sf = sorted(
        (str(r["Channel_Sync_Id__c"]), str(r["Id"])) for r in vendor.snapshot()["Opportunity"]
        if r.get("Channel_Sync_Id__c") and not r.get("IsDeleted")
    )
    hs = sorted(
        (str(r["properties"]["channel_sync_id"]), str(r["id"]))
        for r in partner.snapshot()["deals"]
        if r["properties"].get("channel_sync_id") and not r["archived"]
    )
    return sf, hs


def change_in_salesforce(sf: Salesforce, ids: list[str], amount: int) -> None:
    """Someone edits these opportunities' amounts (collections of 200, as a data loader does)."""
    for start in range(0, len(ids), 200):
        records = [
            {"attributes": {"type": "Opportunity"}, "Id": rid, "Amount": amount + i}
            for i, rid in enumerate(ids[start:start + 200])
        ]
        sf.restful("composite/sobjects", method="PATCH",
                   json={"allOrNone": False, "records": records})


def change_in_hubspot(hs: HubSpot, ids: list[str], amount: int) -> None:
    """Someone edits these deals' amounts (batches of 100)."""
    for start in range(0, len(ids), 100):
        inputs = [
            SimplePublicObjectBatchInput(id=rid, properties={"amount": str(amount + i)})
            for i, rid in enumerate(ids[start:start + 100])
        ]
        hs.crm.deals.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))


def read_fields(world: BenchWorld, connection: str) -> tuple[str, tuple[str, ...]]:
    """The object and the field list the connector itself reads."""
    connector: Any = world.runtimes[connection].connector
    spec = next(iter(connector._objects.values()))
    return spec.name, tuple(spec.read_fields())
