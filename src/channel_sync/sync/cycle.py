"""One cycle of one connection: lease, settle, read pages, drain, record the run.

Split in phases so :meth:`SyncEngine.sync_once` can run every connection's read before any
drain: a change read from one side is then written to the other within the same call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from channel_sync.connectors import Cursor, Page
from channel_sync.errors import BudgetExhaustedError, ChannelSyncError, RetriableError
from channel_sync.store import (
    ConcurrentUpdateError,
    CursorState,
    Lease,
    LeaseContendedError,
    RunStatus,
    StaleLeaseError,
    Store,
    StoreBusyError,
    Transaction,
)
from channel_sync.sync.collector import collector_paused
from channel_sync.sync.cycle_scope import Hub
from channel_sync.sync.drain import Drainer
from channel_sync.sync.inbound import PageMerger, PageNeedsIsolation, PageOutcome
from channel_sync.sync.metering import api_calls, api_usage
from channel_sync.sync.read_ahead import ReadAhead
from channel_sync.sync.report import CycleReport, CycleStatus

log = logging.getLogger("channel_sync.sync")

LEASE_TTL = timedelta(minutes=10)
#: How often a page transaction is retried when another cycle touched the same deals.
PAGE_ATTEMPTS = 5
CURSOR_EXTRA = "cursor"
#: Set when a connector said incremental reads may have missed data; cleared by a completed
#: reconciliation.
RECONCILE_EXTRA = "reconcile_needed"

_RUN_STATUS = {
    CycleStatus.OK: RunStatus.SUCCEEDED,
    CycleStatus.FAILED: RunStatus.FAILED,
    CycleStatus.PARKED: RunStatus.ABORTED,
    CycleStatus.STOPPED: RunStatus.ABORTED,
}


class LeaseHeldError(RetriableError):
    """Another runner holds the connection's lease; try again after it finishes."""


def lease_name(connection: str) -> str:
    return f"connection:{connection}"


def load_cursor(tx: Transaction, connection: str) -> Cursor | None:
    state = tx.cursors.get(connection)
    if state is None or CURSOR_EXTRA not in state.extras:
        return None
    return Cursor.from_json(state.extras[CURSOR_EXTRA])


def reconcile_flag(tx: Transaction, connection: str) -> str | None:
    """Why a full reconciliation of the connection is due, or ``None`` when none is."""
    state = tx.cursors.get(connection)
    flag = state.extras.get(RECONCILE_EXTRA) if state is not None else None
    return str(flag) if flag else None


def save_cursor(
    tx: Transaction, connection: str, cursor: Cursor, *, reconcile_needed: str | None = None
) -> None:
    """Move the cursor; a pending reconciliation request is kept (or set) alongside it.

    The request lives with the cursor, in the page's transaction, because moving the cursor
    past a gap is exactly what makes the reconciliation necessary: it must survive a restart
    until a full reconciliation has run.
    """
    flag = reconcile_needed or reconcile_flag(tx, connection)
    extras: dict[str, Any] = {CURSOR_EXTRA: cursor.to_json()}
    if flag:
        extras[RECONCILE_EXTRA] = flag
    tx.cursors.save(connection, CursorState(modstamp=cursor.modstamp, last_id=cursor.id,
                                            extras=extras))


def clear_reconcile_flag(tx: Transaction, connection: str) -> None:
    state = tx.cursors.get(connection)
    if state is None or RECONCILE_EXTRA not in state.extras:
        return
    extras = {k: v for k, v in state.extras.items() if k != RECONCILE_EXTRA}
    tx.cursors.save(connection, CursorState(modstamp=state.modstamp, last_id=state.last_id,
                                            extras=extras))


class DryRunEnd(Exception):  # noqa: N818 - control flow, never escapes the engine
    """Ends a dry run's transaction without committing it."""


class Cycle:
    def __init__(
        self,
        hub: Hub,
        store: Store,
        name: str,
        *,
        holder: str,
        stop: threading.Event,
        dry_run: bool = False,
        dry_tx: Transaction | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.name = name
        self.rt = hub.runtimes[name]
        self.holder = holder
        self.stop = stop
        self.dry_run = dry_run or dry_tx is not None
        #: A dry run works in one transaction across every connection (rolled back at the end),
        #: so its plan shows what the changes of one side mean for the other.
        self.dry_tx = dry_tx
        self.lease: Lease | None = None
        self.active = False
        self._calls_at_start = api_calls(self.rt.connector)
        self.report = CycleReport(connection=name, run_id=None, started=hub.clock.now())
        self.drainer: Drainer | None = None

    # -- phases -----------------------------------------------------------------------------

    def begin(self) -> None:
        if self.dry_run:
            self.active = True
            return
        lease = self.store.acquire_lease(lease_name(self.name), self.holder, LEASE_TTL)
        if lease is None:
            self.report.status = CycleStatus.LEASE_HELD
            self.report.error = "another runner holds this connection's lease"
            return
        self.lease = lease
        with self.store.transaction() as tx:
            self.report.run_id = tx.runs.start(self.name).id
        self.drainer = Drainer(
            self.hub, self.rt, self.store, lease, run_id=self.report.run_id, stop=self.stop
        )
        self.active = True

    def read_phase(self) -> None:
        if self.active:
            self._guard(self._read)

    def drain_phase(self) -> None:
        if self.active and not self.dry_run and self.report.status is CycleStatus.OK:
            self._guard(self._drain)

    def finish(self) -> CycleReport:
        report = self.report
        report.finished = self.hub.clock.now()
        report.api_calls = api_calls(self.rt.connector) - self._calls_at_start
        if self.report.run_id is not None:
            counts = report.counts()
            usage = api_usage(self.rt.connector)
            if usage.used is not None and usage.limit is not None:
                counts.update(api_used=usage.used, api_limit=usage.limit)
            counts["parked"] = int(report.status is CycleStatus.PARKED)
            try:
                with self.store.transaction() as tx:
                    tx.runs.finish(
                        self.report.run_id,
                        _RUN_STATUS.get(report.status, RunStatus.ABORTED),
                        counts=counts,
                        api_calls=report.api_calls,
                        error=report.error,
                    )
            except ChannelSyncError as exc:
                log.warning("could not record the run of %s: %s", self.name, exc)
        if self.lease is not None:
            try:
                self.store.release_lease(self.lease)
            except ChannelSyncError as exc:
                log.warning("could not release the lease of %s: %s", self.name, exc)
            self.lease = None
        return report

    # -- work -------------------------------------------------------------------------------

    def _guard(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BudgetExhaustedError as exc:
            self.report.status = CycleStatus.PARKED
            self.report.error = str(exc)
        except StaleLeaseError as exc:
            self.report.status = CycleStatus.STOPPED
            self.report.error = str(exc)
        except ChannelSyncError as exc:
            log.warning("cycle of %s failed: %s", self.name, exc)
            self.report.status = CycleStatus.FAILED
            self.report.error = str(exc)

    def _read(self) -> None:
        if self.drainer is not None:
            self.report.settled += self.drainer.settle()
        with self.store.read() as tx:
            cursor = load_cursor(tx, self.name)
            self.report.reconcile_needed = reconcile_flag(tx, self.name)
        pages = self.rt.connector.read_changes(self.rt.mapping.object_name, cursor)
        with ReadAhead(pages) as ahead:
            for page in ahead:
                self._add(self.commit_page(page, save=True))
                if page.reconcile_needed:
                    self.report.reconcile_needed = page.reconcile_needed
                if self.stop.is_set():
                    self.report.status = CycleStatus.STOPPED
                    return
                self._renew()

    def _drain(self) -> None:
        assert self.drainer is not None
        try:
            self.drainer.drain()
        finally:
            # Writes that landed before an error (a spent allowance, say) still count.
            self.report.written += self.drainer.out.written
            self.report.failed += self.drainer.out.failed
        if self.stop.is_set():
            self.report.status = CycleStatus.STOPPED

    def commit_page(self, page: Page, *, save: bool) -> PageOutcome:
        """Merge one page in one transaction (rolled back in a dry run), retrying when another
        cycle changed the same deals meanwhile."""
        for attempt in range(1, PAGE_ATTEMPTS + 1):
            try:
                with collector_paused():
                    return self._page_once(page, save=save)
            except (ConcurrentUpdateError, LeaseContendedError, StoreBusyError):
                if attempt == PAGE_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _page_once(self, page: Page, *, save: bool) -> PageOutcome:
        run_id = self.report.run_id
        if self.dry_tx is not None:
            tx = self.dry_tx
            with tx.savepoint():
                return PageMerger(self.hub, self.rt, tx, run_id=run_id, plan=True).merge(page)
        if self.dry_run:
            outcome = PageOutcome()
            try:
                with self.store.transaction() as own:
                    outcome = PageMerger(self.hub, self.rt, own, run_id=run_id, plan=True).merge(
                        page
                    )
                    raise DryRunEnd
            except DryRunEnd:
                return outcome
        try:
            return self._page_in_unit(page, save=save, isolate=False)
        except PageNeedsIsolation:
            # A record failed half-way: that attempt was rolled back whole; this one gives
            # every record its own savepoint, so only the failing record is left out.
            return self._page_in_unit(page, save=save, isolate=True)

    def _page_in_unit(self, page: Page, *, save: bool, isolate: bool) -> PageOutcome:
        assert self.lease is not None
        with self.store.unit_of_work(self.lease) as uow:
            merger = PageMerger(
                self.hub, self.rt, uow, run_id=self.report.run_id, plan=False, isolate=isolate
            )
            outcome = merger.merge(page)
            if save:
                save_cursor(uow, self.name, page.cursor, reconcile_needed=page.reconcile_needed)
        return outcome

    def _add(self, outcome: PageOutcome) -> None:
        r = self.report
        r.records_read += outcome.read
        r.created += outcome.created
        r.updated += outcome.updated
        r.unchanged += outcome.unchanged
        r.conflicts += outcome.conflicts
        r.failed += outcome.failed
        r.skipped += outcome.skipped
        r.plan.extend(outcome.plan)

    def _renew(self) -> None:
        if self.lease is None:
            return
        self.lease = self.store.renew_lease(self.lease, LEASE_TTL)
        if self.drainer is not None:
            self.drainer.lease = self.lease
