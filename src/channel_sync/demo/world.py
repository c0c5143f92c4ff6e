"""The demo's world: sandbox CRMs, a project pointed at them, the scheduler, and the people.

Everything lives in one temporary directory (project files copied from the package, the env
file, the SQLite store, the sandboxes' TLS files), so the demo needs no repository checkout and
leaves nothing behind unless asked to keep it. Sandboxes, connectors and the engine share one
steerable clock, so the story can jump past a registration's protection window.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from channel_sync.connectors.hubspot import HubSpotSettings
from channel_sync.demo.people import HubSpotUser, SalesforceUser
from channel_sync.sandbox import InstanceSpec, SandboxServer, generate_deals
from channel_sync.sandbox.serve import env_lines, write_env_file
from channel_sync.scheduler import JobOutcome, JobPlan, SyncScheduler
from channel_sync.scheduler.service import SyncService, build_service
from channel_sync.store import StoreSettings, open_store
from channel_sync.sync.report import CycleReport
from channel_sync.sync.runtime import load_runtime
from channel_sync.sync.workspace import read_environment
from channel_sync.testing.clock import SteerableClock
from channel_sync.workflow.settings import WorkflowSettings

VENDOR = "vendor-salesforce"
PARTNER_A = "partner-a-hubspot"
PARTNER_B = "partner-b-salesforce"
PARTNERS = (PARTNER_A, PARTNER_B)
ENV_FILE = "sandbox.env"
#: Sandbox instances, named so their env variables are the ones the connection files read.
INSTANCES = (("vendor", "salesforce"), ("partner-a", "hubspot"), ("partner-b", "salesforce"))
#: Generated background deals per instance (seed, count): each CRM has its own customers.
SEEDS = {"vendor": (101, 12), "partner-a": (202, 8), "partner-b": (303, 8)}
PROTECTION_DAYS = 90
#: HubSpot's search index lags writes by a few seconds, so the connector reads only changes
#: older than a minute by default. The sandbox's index never lags; the demo waits one second.
HUBSPOT_SETTLE = timedelta(seconds=1)


def copy_project(target: Path) -> None:
    """The packaged project files (connections and mappings) into ``target``."""
    source = resources.files("channel_sync.demo") / "project"
    for sub in ("connectors", "mappings"):
        folder = target / sub
        folder.mkdir(parents=True, exist_ok=True)
        for item in (source / sub).iterdir():
            if item.name.endswith((".yaml", ".json")):
                (folder / item.name).write_bytes(item.read_bytes())


@dataclass
class DemoWorld:
    root: Path
    server: SandboxServer
    service: SyncService
    scheduler: SyncScheduler
    #: The clock the expiry sweep decides by; the story moves it forward. The CRMs, the
    #: connectors and the store keep real time, so the sandboxes stay usable afterwards.
    sweep_clock: SteerableClock
    channel_manager: SalesforceUser
    rep_a: HubSpotUser
    rep_b: SalesforceUser
    reports: dict[str, list[CycleReport]] = field(default_factory=lambda: defaultdict(list))

    @property
    def env_file(self) -> Path:
        return self.root / ENV_FILE

    def instance(self, name: str) -> Any:
        return self.server.instances[name]

    def cycle(self, connection: str) -> CycleReport:
        outcome = self.scheduler.run_and_wait(f"cycle:{connection}")
        report = outcome.report
        if not isinstance(report, CycleReport):
            msg = f"cycle of {connection} did not run: {outcome.summary}"
            raise RuntimeError(msg)
        return report

    def sync_round(self) -> list[CycleReport]:
        """Partners, then the vendor, then partners again: a change made on either side has
        reached the other when this returns.

        The HubSpot connector leaves changes younger than its settle delay to the next read;
        the round first waits until partner A's last edit is that old.
        """
        age = time.monotonic() - self.rep_a.last_write
        wait = HUBSPOT_SETTLE.total_seconds() + 0.05 - age
        if wait > 0:
            time.sleep(wait)
        order = [*PARTNERS, VENDOR, *PARTNERS]
        return [self.cycle(name) for name in order]

    def run_expiry_sweep(self) -> JobOutcome:
        return self.scheduler.run_and_wait("expiry-sweep")


def _seed(server: SandboxServer) -> None:
    for name, (seed, count) in SEEDS.items():
        server.instances[name].backend.seed(list(generate_deals(seed, count)))


@contextmanager
def open_world(root: Path | None = None, *, keep: bool = False) -> Iterator[DemoWorld]:
    """Start sandboxes, materialize the project and start the scheduler; tear all down after
    (unless ``keep``: then the caller stops the returned world's server itself)."""
    owned = root is None
    root = Path(tempfile.mkdtemp(prefix="channel-sync-demo-")) if root is None else root
    specs = [InstanceSpec(name, kind) for name, kind in INSTANCES]
    server = SandboxServer(specs, workdir=root / "sandbox")
    server.__enter__()
    try:
        _seed(server)
        copy_project(root)
        write_env_file(root / ENV_FILE, env_lines(server.instances[n] for n, _ in INSTANCES))
        env = read_environment(root / ENV_FILE, environ={})
        options = {"hubspot": {"settings": HubSpotSettings(lookback=HUBSPOT_SETTLE)}}
        runtimes = load_runtime(root, env, connector_options=options)
        store = open_store(settings=StoreSettings(project_dir=root))
        service = build_service(
            root,
            runtimes,
            store,
            settings=WorkflowSettings(registration_protection_days=PROTECTION_DAYS),
        )
    except BaseException:
        server.__exit__(None, None, None)
        raise
    reports: dict[str, list[CycleReport]] = defaultdict(list)
    sweep_clock = SteerableClock()

    def record(plan: JobPlan, outcome: JobOutcome) -> None:
        if isinstance(outcome.report, CycleReport) and plan.connection is not None:
            reports[plan.connection].append(outcome.report)

    world = DemoWorld(
        root=root,
        server=server,
        service=service,
        scheduler=service.scheduler(immediate=False, on_outcome=record, clock=sweep_clock),
        sweep_clock=sweep_clock,
        channel_manager=SalesforceUser(
            server.instances["vendor"], "channel.manager@vendor.example"
        ),
        rep_a=HubSpotUser(server.instances["partner-a"]),
        rep_b=SalesforceUser(server.instances["partner-b"], "sales.rep@partner-b.example"),
        reports=reports,
    )
    world.scheduler.start()
    try:
        yield world
    finally:
        world.scheduler.shutdown()
        service.close()
        for person in (world.channel_manager, world.rep_a, world.rep_b):
            person.close()
        if not keep:
            server.__exit__(None, None, None)
            if owned:
                shutil.rmtree(root, ignore_errors=True)
