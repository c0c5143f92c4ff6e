"""The scheduler's wiring, against an engine whose cycles the test controls.

The real engine is exercised end to end by the subprocess test (SIGTERM mid-cycle) and the demo
tests; here the engine records what it was asked and can hold a cycle open, so overlap, shutdown
and the plan file can be checked precisely and quickly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from channel_sync.clock import FrozenClock
from channel_sync.model import Opportunity
from channel_sync.scheduler import JobPlan, SyncScheduler, plan_jobs, read_schedule, runner
from channel_sync.scheduler.snapshot import schedule_path
from channel_sync.store import Store, open_store
from channel_sync.sync.merge import Side
from channel_sync.sync.report import CycleReport, CycleStatus, ReconcileReport
from channel_sync.sync.runtime import ConnectionRuntime
from channel_sync.workflow.settings import WorkflowSettings

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class ScriptedEngine:
    """Counts calls, tracks overlap per connection, and can hold cycles until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.changes: list[tuple[str, dict[str, Any]]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.stopped = threading.Event()
        self.running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}
        self.reconcile_needed: str | None = None
        self._lock = threading.Lock()

    def run_cycle(self, connection: str, *, dry_run: bool = False) -> CycleReport:
        with self._lock:
            self.calls.append(("cycle", connection))
            self.running[connection] = self.running.get(connection, 0) + 1
            self.max_running[connection] = max(
                self.max_running.get(connection, 0), self.running[connection]
            )
        self.entered.set()
        try:
            self.hold.wait(10)
            status = CycleStatus.STOPPED if self.stopped.is_set() else CycleStatus.OK
            return CycleReport(
                connection=connection,
                run_id=1,
                started=NOW,
                status=status,
                reconcile_needed=self.reconcile_needed,
            )
        finally:
            with self._lock:
                self.running[connection] -= 1

    def reconcile(self, connection: str) -> ReconcileReport:
        with self._lock:
            self.calls.append(("reconcile", connection))
        return ReconcileReport(connection=connection)

    def apply_hub_change(
        self,
        canonical_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str,
        decision: str | None = None,
    ) -> None:
        self.changes.append((canonical_id, dict(changes)))

    def stop(self) -> None:
        self.stopped.set()
        self.hold.set()

    def count(self, kind: str, connection: str | None = None) -> int:
        with self._lock:
            return sum(1 for k, c in self.calls if k == kind and connection in (None, c))


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}", clock=FrozenClock(NOW))
    yield store
    store.dispose()


def plans(every: float = 0.2) -> list[JobPlan]:
    return [
        JobPlan("cycle:vendor", "cycle", "vendor", every),
        JobPlan("cycle:partner-a", "cycle", "partner-a", every),
        JobPlan("reconcile:vendor", "reconcile", "vendor", 3600),
        JobPlan("expiry-sweep", "expiry", None, 3600),
    ]


def test_plan_jobs_orders_the_vendor_first_and_uses_each_interval() -> None:
    runtimes = {
        name: ConnectionRuntime(
            name=name,
            role=role,
            partner_id=None if role is Side.VENDOR else name,
            mapping=None,  # type: ignore[arg-type]
            connector=None,  # type: ignore[arg-type]
            schedule_seconds=seconds,
        )
        for name, role, seconds in [
            ("partner-b", Side.PARTNER, 300.0),
            ("vendor", Side.VENDOR, 60.0),
            ("partner-a", Side.PARTNER, 120.0),
        ]
    }
    settings = WorkflowSettings(reconcile_seconds=7200, expiry_sweep_seconds=900)
    planned = plan_jobs(runtimes, settings)
    assert [(p.id, p.every_seconds) for p in planned] == [
        ("cycle:vendor", 60.0),
        ("cycle:partner-a", 120.0),
        ("cycle:partner-b", 300.0),
        ("reconcile:vendor", 7200),
        ("reconcile:partner-a", 7200),
        ("reconcile:partner-b", 7200),
        ("expiry-sweep", 900),
    ]


def test_every_connection_cycles_on_its_interval(store: Store, tmp_path: Path) -> None:
    engine = ScriptedEngine()
    scheduler = SyncScheduler(engine, store, plans(), workers=2)
    stop = threading.Event()
    runner = threading.Thread(target=scheduler.run_until, args=(stop,))
    runner.start()
    try:
        wait_for(lambda: engine.count("cycle", "vendor") >= 3)
        wait_for(lambda: engine.count("cycle", "partner-a") >= 3)
    finally:
        stop.set()
        runner.join(10)
    assert engine.stopped.is_set()
    assert engine.count("reconcile") == 0  # first reconciliation is one interval away


def test_a_slow_cycle_never_overlaps_itself(store: Store) -> None:
    engine = ScriptedEngine()
    engine.hold.clear()
    scheduler = SyncScheduler(engine, store, plans(every=0.05)[:1], workers=4)
    scheduler.start()
    try:
        assert engine.entered.wait(5)
        time.sleep(0.5)  # ten intervals pass while the first cycle is held
        assert engine.count("cycle", "vendor") == 1
        engine.hold.set()
        wait_for(lambda: engine.count("cycle", "vendor") >= 3)
    finally:
        scheduler.shutdown()
    assert engine.max_running["vendor"] == 1


def test_shutdown_stops_the_engine_and_waits_for_the_cycle_in_flight(store: Store) -> None:
    engine = ScriptedEngine()
    engine.hold.clear()
    scheduler = SyncScheduler(engine, store, plans()[:1])
    scheduler.start()
    assert engine.entered.wait(5)
    started = engine.count("cycle")
    scheduler.shutdown()  # returns only once the held cycle has returned (stopped)
    assert engine.stopped.is_set()
    assert engine.running["vendor"] == 0
    time.sleep(0.3)
    assert engine.count("cycle") == started


def test_the_plan_file_shows_next_runs_and_last_results(store: Store, tmp_path: Path) -> None:
    engine = ScriptedEngine()
    path = schedule_path(tmp_path)
    scheduler = SyncScheduler(engine, store, plans(every=30), snapshot_path=path)
    scheduler.start()
    try:
        wait_for(
            lambda: (
                (s := read_schedule(tmp_path)) is not None
                and s.job("cycle:vendor") is not None
                and s.job("cycle:vendor").last_status == "ok"
            )
        )  # type: ignore[union-attr]
        snapshot = read_schedule(tmp_path)
        assert snapshot is not None
        assert snapshot.running
        next_run = snapshot.next_run("vendor")
        assert next_run is not None
        assert timedelta(seconds=20) < next_run - datetime.now(UTC) <= timedelta(seconds=30)
        reconcile = snapshot.job("reconcile:vendor")
        assert reconcile is not None
        assert reconcile.last_run is None
        assert reconcile.next_run is not None
    finally:
        scheduler.shutdown()
    stopped = read_schedule(tmp_path)
    assert stopped is not None
    assert not stopped.running
    assert stopped.next_run("vendor") is None


def test_a_cycle_asking_for_reconciliation_brings_it_forward(store: Store) -> None:
    engine = ScriptedEngine()
    engine.reconcile_needed = "delete log no longer reaches the cursor"
    scheduler = SyncScheduler(engine, store, plans(every=30))
    scheduler.start()
    try:
        wait_for(lambda: engine.count("reconcile", "vendor") >= 1)
    finally:
        scheduler.shutdown()


def test_the_expiry_sweep_expires_due_registrations(store: Store) -> None:
    def approved(cid: str, expires: datetime, stage: str = "proposal") -> Opportunity:
        return Opportunity.model_validate(
            {
                "id": cid,
                "partner_id": "partner-a",
                "name": cid,
                "stage": stage,
                "registration": {"status": "approved", "expires_at": expires},
            }
        )

    with store.transaction() as tx:
        tx.records.insert(approved("due", NOW - timedelta(minutes=1)))
        tx.records.insert(approved("later", NOW + timedelta(days=1)))
        tx.records.insert(approved("won", NOW - timedelta(days=3), stage="closed_won"))
    engine = ScriptedEngine()
    sweep = [JobPlan("expiry-sweep", "expiry", None, 3600)]
    scheduler = SyncScheduler(engine, store, sweep, clock=FrozenClock(NOW))
    scheduler.start()
    try:
        wait_for(lambda: len(engine.changes) >= 1)
        time.sleep(0.1)
    finally:
        scheduler.shutdown()
    assert engine.changes == [("due", {"registration.status": "expired"})]


def test_a_plan_taken_before_a_job_ends_never_lands_on_top_of_a_later_one(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """start() takes its plan while the first cycle is still running and is slow to write it;
    the housekeeper's plan, taken after the cycle ended, must be the one left on disk."""
    engine = ScriptedEngine()
    engine.hold.clear()
    real_write = runner.write_snapshot
    writes = 0

    def slow_first_write(path: Path, snapshot: Any) -> None:
        nonlocal writes
        writes += 1
        if writes == 1:
            assert engine.entered.wait(5)
            engine.hold.set()  # the cycle ends while this (older) plan is still unwritten
            wait_for(lambda: engine.running.get("vendor") == 0)
            time.sleep(0.2)  # the housekeeper has been asked to write by now
        real_write(path, snapshot)

    monkeypatch.setattr(runner, "write_snapshot", slow_first_write)
    scheduler = SyncScheduler(engine, store, plans(every=30), snapshot_path=schedule_path(tmp_path))
    scheduler.start()
    try:
        wait_for(lambda: engine.count("cycle") >= 2 and writes >= 3)
        time.sleep(0.2)
        snapshot = read_schedule(tmp_path)
        assert snapshot is not None
        vendor = snapshot.job("cycle:vendor")
        assert vendor is not None
        assert vendor.last_status == "ok"
    finally:
        scheduler.shutdown()
