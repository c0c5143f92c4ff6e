"""The embedded scheduler behind ``channel-sync run`` (APScheduler 3, one process).

* Each connection's cycle runs on its own interval; ``max_instances=1`` means a cycle never
  overlaps the previous one of the same connection in this process, and the store's lease makes
  the same true across processes.
* ``coalesce`` folds runs missed while the process was busy or asleep into one, and runs later
  than ``misfire_grace_time`` are skipped rather than piled up.
* Shutting down (SIGINT/SIGTERM) asks the engine to stop at its next safe point (between pages
  or batches: everything before it is committed, everything after it is picked up by the next
  start) and waits for the job in flight. Jobs that were due but had not started are dropped.
* After every job the plan (next run times) is written to the project's ``schedule.json``.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from channel_sync.clock import Clock, SystemClock, default_clock
from channel_sync.errors import ChannelSyncError
from channel_sync.scheduler.jobs import (
    CYCLE,
    EXPIRY,
    RECONCILE,
    JobOutcome,
    JobPlan,
    SchedulableEngine,
    run_cycle,
    run_expiry,
    run_reconcile,
)
from channel_sync.scheduler.snapshot import (
    JobState,
    ScheduleSnapshot,
    reconcile_job_id,
    write_snapshot,
)
from channel_sync.store import Store

log = logging.getLogger(__name__)

#: APScheduler compares its trigger times with the wall clock, whatever clock the engine uses.
_WALL = SystemClock()
#: A housekeeping chore: write the plan file (any other chore is a job id to run now).
_SNAPSHOT = ""


class SyncScheduler:
    def __init__(
        self,
        engine: SchedulableEngine,
        store: Store,
        plans: Sequence[JobPlan],
        *,
        snapshot_path: Path | None = None,
        clock: Clock | None = None,
        misfire_grace_seconds: float = 300.0,
        workers: int = 1,
        immediate: bool = True,
        on_outcome: Callable[[JobPlan, JobOutcome], None] | None = None,
    ) -> None:
        """With ``immediate`` the cycles and the sweep run at once on start (reconciliations
        one interval later); without it every first run is one interval away, for callers that
        trigger jobs themselves (:meth:`run_and_wait`). ``on_outcome`` sees every job's result.
        """
        self.engine = engine
        self.store = store
        self.clock = clock or default_clock()
        self.plans = list(plans)
        self.snapshot_path = snapshot_path
        self._delays = {CYCLE: 0.0, EXPIRY: 0.0} if immediate else {}
        self._on_outcome = on_outcome
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Held while a plan is taken *and* written, so a plan taken earlier (start() on the
        # caller's thread) can never land on top of a later one (the housekeeper's).
        self._snapshot_lock = threading.Lock()
        self._done = threading.Condition()
        self._running: set[str] = set()
        self._finished: dict[str, tuple[float, JobOutcome]] = {}
        self._chores: queue.Queue[str | None] = queue.Queue()
        self._housekeeper = threading.Thread(
            target=self._housekeep, name="channel-sync-scheduler-housekeeper", daemon=True
        )
        self._states = {
            p.id: JobState(p.id, p.kind, p.connection, p.every_seconds) for p in self.plans
        }
        self._started = _WALL.now()
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(max(1, misfire_grace_seconds)),
            },
        )
        self._scheduler.add_listener(
            self._on_event,
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        now = _WALL.now()
        for plan in self.plans:
            delay = self._delays.get(plan.kind, plan.every_seconds)
            self._scheduler.add_job(
                self._run,
                "interval",
                seconds=plan.every_seconds,
                args=(plan,),
                id=plan.id,
                name=plan.id,
                next_run_time=now + timedelta(seconds=delay),
            )
        self._scheduler.start()
        self._housekeeper.start()
        self._write_snapshot(running=True)
        log.info("scheduler started with %d jobs", len(self.plans))

    def shutdown(self) -> None:
        """Stop at the next safe point and wait for the job in flight."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("stopping: finishing or safely abandoning the job in flight")
        self.engine.stop()
        if self._housekeeper.is_alive():
            self._chores.put(None)
            self._housekeeper.join()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._write_snapshot(running=False)
        log.info("scheduler stopped")

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run_until(self, stop: threading.Event) -> None:
        """Start, block until ``stop`` is set, then shut down."""
        self.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            self.shutdown()

    def run_until_signalled(self, stop: threading.Event | None = None) -> None:
        """:meth:`run_until` with SIGINT and SIGTERM setting the stop event (main thread)."""
        event = stop or threading.Event()

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            event.set()

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.run_until(event)
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    # -- jobs --------------------------------------------------------------------------------

    def run_now(self, job_id: str) -> None:
        """Bring a job's next run forward to now (e.g. a reconciliation a cycle asked for)."""
        job = self._scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=_WALL.now())

    def run_and_wait(self, job_id: str, timeout: float = 120.0) -> JobOutcome:
        """Run a job now (after the run in flight, if any) and wait for its outcome."""
        with self._done:
            if not self._done.wait_for(lambda: job_id not in self._running, timeout):
                msg = f"{job_id} is still running after {timeout:.0f} s"
                raise TimeoutError(msg)
        requested = time.monotonic()
        self.run_now(job_id)

        def finished() -> bool:
            done = self._finished.get(job_id)
            return done is not None and done[0] >= requested

        with self._done:
            if not self._done.wait_for(finished, timeout):
                msg = f"{job_id} did not run within {timeout:.0f} s"
                raise TimeoutError(msg)
            return self._finished[job_id][1]

    def _run(self, plan: JobPlan) -> None:
        if self._stopping.is_set():
            return
        started = time.monotonic()
        with self._done:
            self._running.add(plan.id)
        outcome: JobOutcome | None = None
        try:
            outcome = self._execute(plan)
        finally:
            # An unexpected exception still goes on to APScheduler's error event; waiters learn
            # of it here instead of waiting out their timeout.
            final = outcome or JobOutcome(status="error", summary=f"{plan.id}: unexpected error")
            with self._done:
                self._running.discard(plan.id)
                self._finished[plan.id] = (started, final)
                self._done.notify_all()
        if outcome.reconcile_needed and plan.connection is not None:
            self._chores.put(reconcile_job_id(plan.connection))

    def _execute(self, plan: JobPlan) -> JobOutcome:
        try:
            outcome = self._body(plan)()
        except ChannelSyncError as exc:
            outcome = JobOutcome(status="failed", summary=f"{plan.id}: {exc}", error=str(exc))
        self._record(plan.id, outcome)
        if self._on_outcome is not None:
            self._on_outcome(plan, outcome)
        return outcome

    def _body(self, plan: JobPlan) -> Callable[[], JobOutcome]:
        connection = plan.connection or ""
        if plan.kind == CYCLE:
            return lambda: run_cycle(self.engine, connection)
        if plan.kind == RECONCILE:
            return lambda: run_reconcile(self.engine, connection)
        return lambda: run_expiry(self.engine, self.store, self.clock)

    def _record(self, job_id: str, outcome: JobOutcome) -> None:
        level = logging.WARNING if outcome.status not in ("ok", "lease_held") else logging.INFO
        log.log(level, "%s", outcome.summary)
        if outcome.error:
            log.log(level, "%s: %s", job_id, outcome.error)
        with self._lock:
            state = self._states[job_id]
            state.last_run = _WALL.now()
            state.last_status = outcome.status
            state.last_error = outcome.error

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            exception = getattr(event, "exception", None)
            log.error("%s failed unexpectedly: %r", event.job_id, exception)
            with self._lock:
                state = self._states.get(event.job_id)
                if state is not None:
                    state.last_run = _WALL.now()
                    state.last_status = "error"
                    state.last_error = type(exception).__name__ if exception else None
        elif event.code in (EVENT_JOB_MISSED, EVENT_JOB_MAX_INSTANCES):
            log.info("%s: a run was skipped (still running or too late)", event.job_id)
        self._chores.put(_SNAPSHOT)

    def _housekeep(self) -> None:
        """Runs what job threads and listeners ask for, outside APScheduler's locks.

        APScheduler calls listeners (and its shutdown waits for job threads) while holding its
        job-store lock; calling back into the scheduler from there would deadlock.
        """
        while True:
            chore = self._chores.get()
            if chore is None:
                return
            if chore != _SNAPSHOT:
                try:
                    self.run_now(chore)
                except Exception:  # a failed reschedule must not end housekeeping
                    log.exception("could not bring %s forward", chore)
            self._write_snapshot(running=not self._stopping.is_set())

    # -- snapshot ----------------------------------------------------------------------------

    def snapshot(self, *, running: bool = True) -> ScheduleSnapshot:
        # Next run times are read before taking our own lock: APScheduler calls the listener
        # while holding its job-store lock, so taking the locks in the other order deadlocks.
        next_runs: dict[str, datetime | None] = {}
        for plan in self.plans:
            job = self._scheduler.get_job(plan.id) if self._scheduler.running else None
            next_run = job.next_run_time if job is not None else None
            next_runs[plan.id] = next_run.astimezone(UTC) if next_run is not None else None
        with self._lock:
            jobs = [
                JobState(
                    id=state.id,
                    kind=state.kind,
                    connection=state.connection,
                    every_seconds=state.every_seconds,
                    next_run=next_runs[plan.id],
                    last_run=state.last_run,
                    last_status=state.last_status,
                    last_error=state.last_error,
                )
                for plan in self.plans
                if (state := self._states[plan.id])
            ]
        return ScheduleSnapshot(
            pid=os.getpid(),
            started=self._started,
            updated=_WALL.now(),
            running=running,
            jobs=jobs,
        )

    def _write_snapshot(self, *, running: bool) -> None:
        if self.snapshot_path is None:
            return
        try:
            with self._snapshot_lock:
                write_snapshot(self.snapshot_path, self.snapshot(running=running))
        except OSError as exc:
            log.warning("could not write %s: %s", self.snapshot_path, exc)
