"""The two-way sync engine: cycles, hub changes, conflict resolution and reconciliation.

A cycle of one connection takes the connection's lease (a fencing epoch every commit checks),
settles writes a crash left in flight, reads pages of changes since the cursor and merges each
page in one transaction with its cursor, then drains the connection's outbox. Record-level
problems never stop a cycle: they are counted and kept in the failed-record index. An exhausted
API allowance parks the connection until the reset.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from channel_sync.clock import Clock, default_clock
from channel_sync.errors import ConfigurationError
from channel_sync.store import Conflict, Store, Transaction
from channel_sync.sync.claims import ClaimsFeed
from channel_sync.sync.cycle import Cycle, DryRunEnd, LeaseHeldError
from channel_sync.sync.cycle_scope import Hub
from channel_sync.sync.hubchange import apply_in, retrying
from channel_sync.sync.reconcile import reconcile_cycle
from channel_sync.sync.report import CycleReport, CycleStatus, ReconcileReport
from channel_sync.sync.resolution import Take, resolve_in
from channel_sync.sync.rules import HubRule
from channel_sync.sync.runtime import ConnectionRuntime

_UNSET: Any = object()


def default_holder() -> str:
    """Who holds a lease: host, process and a random part (two engines in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncEngine:
    def __init__(
        self,
        runtimes: Mapping[str, ConnectionRuntime],
        store: Store,
        *,
        clock: Clock | None = None,
        rules: Sequence[HubRule] = (),
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or default_clock()
        self.hub = Hub.build(runtimes, self.clock, rules, ClaimsFeed(store) if rules else None)
        self.holder = holder or default_holder()
        self._stop = threading.Event()

    @property
    def runtimes(self) -> Mapping[str, ConnectionRuntime]:
        return self.hub.runtimes

    # -- cycles -----------------------------------------------------------------------------

    def run_cycle(self, connection: str, *, dry_run: bool = False) -> CycleReport:
        """One full cycle of one connection (settle, read, drain).

        A report with ``reconcile_needed`` asks the caller (the scheduler, the CLI) to run
        :meth:`reconcile` for the connection: incremental reads may have missed something.
        """
        [report] = self._run([connection], dry_run=dry_run)
        return report

    def sync_once(
        self, connections: Sequence[str] | None = None, *, dry_run: bool = False
    ) -> list[CycleReport]:
        """Every read phase, then every drain phase: one call moves a change end to end."""
        names = list(connections) if connections else list(self.hub.runtimes)
        return self._run(names, dry_run=dry_run)

    def stop(self) -> None:
        """Ask running cycles to stop at the next safe point (between pages or batches).

        The request stays until :meth:`resume`: a cycle that starts after it (one the
        scheduler fired just as SIGTERM arrived) stops before taking its lease.
        """
        self._stop.set()

    def resume(self) -> None:
        """Let cycles run again after :meth:`stop`."""
        self._stop.clear()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self, names: Sequence[str], *, dry_run: bool) -> list[CycleReport]:
        self._check_names(names)
        if not dry_run:
            return self._cycles(names, None)
        reports: list[CycleReport] = []
        try:
            with self.store.transaction() as tx:
                reports = self._cycles(names, tx)
                raise DryRunEnd
        except DryRunEnd:
            pass
        return reports

    def _cycles(self, names: Sequence[str], dry_tx: Transaction | None) -> list[CycleReport]:
        cycles = [
            Cycle(self.hub, self.store, name, holder=self.holder, stop=self._stop,
                  dry_tx=dry_tx)
            for name in dict.fromkeys(names)
        ]
        try:
            for cycle in cycles:
                if not self._stop.is_set():
                    cycle.begin()
            for cycle in cycles:
                if not self._stop.is_set():
                    cycle.read_phase()
            for cycle in cycles:
                if not self._stop.is_set():
                    cycle.drain_phase()
        finally:
            reports = [cycle.finish() for cycle in cycles]
        for cycle in cycles:
            if self._stop.is_set() and cycle.report.status is CycleStatus.OK:
                cycle.report.status = CycleStatus.STOPPED
        return reports

    def _check_names(self, names: Sequence[str]) -> None:
        unknown = [n for n in names if n not in self.hub.runtimes]
        if unknown:
            known = ", ".join(sorted(self.hub.runtimes)) or "none"
            msg = f"unknown connection(s) {', '.join(unknown)} (connections: {known})"
            raise ConfigurationError(msg)

    # -- reconciliation ---------------------------------------------------------------------

    def reconcile(self, connection: str) -> ReconcileReport:
        """Compare the connection's full key set with the hub; repair drift, report the rest.

        Raises :class:`LeaseHeldError` when another runner holds the connection.
        """
        self._check_names([connection])
        report = ReconcileReport(connection=connection)
        if self._stop.is_set():
            report.stopped = True
            return report
        cycle = Cycle(self.hub, self.store, connection, holder=self.holder, stop=self._stop)
        cycle.begin()
        try:
            if cycle.lease is None:
                raise LeaseHeldError(cycle.report.error or "the connection is busy")
            report = reconcile_cycle(cycle)
            cycle.report.records_read = report.remote_records
            cycle.report.created = report.unknown_remote
        finally:
            report.api_calls = cycle.finish().api_calls
        return report

    # -- hub changes ------------------------------------------------------------------------

    def apply_hub_change(
        self,
        canonical_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str,
        decision: str | None = None,
    ) -> None:
        """Change a deal in the hub and queue the change for every connection that sees it."""
        label = decision or reason
        self._write(lambda tx: apply_in(
            tx, self.hub, canonical_id, changes, actor=actor, decision=label
        ))

    def resolve_conflict(
        self, conflict_id: int, take: Take | str, *, value: Any = _UNSET, actor: str
    ) -> Conflict:
        """Decide an open conflict; the chosen value reaches both sides on the next cycles."""
        choice = Take(take)
        if choice is Take.VALUE and value is _UNSET:
            msg = "take 'value' needs the value to use"
            raise ConfigurationError(msg)
        result: Conflict = self._write(
            lambda tx: resolve_in(tx, self.hub, conflict_id, choice, value, actor=actor)
        )
        return result

    def _write(self, work: Callable[[Transaction], Any]) -> Any:
        return retrying(self.store, work)
