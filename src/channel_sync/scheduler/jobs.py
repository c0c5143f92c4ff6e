"""The jobs ``channel-sync run`` schedules, and what each one does when it fires.

Three kinds: a sync cycle per connection on that connection's interval, a periodic full
reconciliation per connection, and one registration expiry sweep for the whole hub. Each job body
turns the engine's result into a :class:`JobOutcome` (a status word and a one-line summary with
counts only), so the log and the schedule file never carry deal data or a partner's deals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from channel_sync.clock import Clock
from channel_sync.store import Store
from channel_sync.sync.report import CycleReport, CycleStatus, ReconcileReport
from channel_sync.sync.runtime import ConnectionRuntime
from channel_sync.workflow.expiry import HubChanges, SweepReport, sweep_expired
from channel_sync.workflow.settings import WorkflowSettings

CYCLE = "cycle"
RECONCILE = "reconcile"
EXPIRY = "expiry"


class SchedulableEngine(HubChanges, Protocol):
    """The part of ``SyncEngine`` the scheduler drives."""

    def run_cycle(self, connection: str, *, dry_run: bool = False) -> CycleReport: ...

    def reconcile(self, connection: str) -> ReconcileReport: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class JobPlan:
    id: str
    kind: str
    connection: str | None
    every_seconds: float


@dataclass(frozen=True)
class JobOutcome:
    status: str
    summary: str
    error: str | None = None
    #: Set when the connector asked for a full reconciliation of this connection.
    reconcile_needed: bool = False
    #: The engine's own report (a cycle's, a reconciliation's or the sweep's).
    report: CycleReport | ReconcileReport | SweepReport | None = None


def plan_jobs(
    runtimes: Mapping[str, ConnectionRuntime], settings: WorkflowSettings
) -> list[JobPlan]:
    """Cycles first (vendor, then partners, by name), then reconciliations, then the sweep."""
    ordered = sorted(runtimes.values(), key=lambda r: (not r.is_vendor, r.name))
    plans = [JobPlan(f"{CYCLE}:{r.name}", CYCLE, r.name, r.schedule_seconds) for r in ordered]
    plans += [
        JobPlan(f"{RECONCILE}:{r.name}", RECONCILE, r.name, settings.reconcile_seconds)
        for r in ordered
    ]
    plans.append(JobPlan("expiry-sweep", EXPIRY, None, settings.expiry_sweep_seconds))
    return plans


def run_cycle(engine: SchedulableEngine, connection: str) -> JobOutcome:
    report = engine.run_cycle(connection)
    summary = (
        f"cycle {connection}: {report.status.value}; read {report.records_read}, "
        f"created {report.created}, updated {report.updated}, conflicts {report.conflicts}, "
        f"written {report.written}, failed {report.failed}, api calls {report.api_calls}"
    )
    return JobOutcome(
        status=report.status.value,
        summary=summary,
        error=report.error,
        reconcile_needed=report.reconcile_needed is not None and report.status is CycleStatus.OK,
        report=report,
    )


def run_reconcile(engine: SchedulableEngine, connection: str) -> JobOutcome:
    report = engine.reconcile(connection)
    summary = (
        f"reconcile {connection}: {report.remote_records} remote, {report.linked} linked, "
        f"{len(report.missing_remote)} missing remotely, {len(report.left_scope)} left scope, "
        f"{len(report.drifted)} drifted, {report.requeued} re-queued, "
        f"api calls {report.api_calls}"
    )
    return JobOutcome(status="ok", summary=summary, report=report)


def run_expiry(engine: SchedulableEngine, store: Store, clock: Clock) -> JobOutcome:
    report = sweep_expired(engine, store, clock=clock)
    summary = (
        f"expiry sweep: {report.checked} checked, {len(report.expired)} expired, "
        f"{len(report.failed)} refused"
    )
    return JobOutcome(status="failed" if report.failed else "ok", summary=summary, report=report)
