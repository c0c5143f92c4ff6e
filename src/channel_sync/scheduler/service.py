"""A project wired for running: connections, store, engine with the workflow rules, scheduler.

``channel-sync run`` and the demo build the same thing, so the demo exercises exactly the code
an installation runs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from channel_sync.clock import Clock, default_clock
from channel_sync.scheduler.jobs import JobOutcome, JobPlan, plan_jobs
from channel_sync.scheduler.runner import SyncScheduler
from channel_sync.scheduler.snapshot import schedule_path
from channel_sync.store import Store
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.runtime import ConnectionRuntime, close_runtime
from channel_sync.workflow.match_alias_file import project_alias_table
from channel_sync.workflow.match_compare import CustomerMatcher
from channel_sync.workflow.numbers import RegistrationNumbers, numbers_in_store
from channel_sync.workflow.rules import workflow_rules
from channel_sync.workflow.settings import WorkflowSettings


@dataclass
class SyncService:
    project_dir: Path
    runtimes: dict[str, ConnectionRuntime]
    store: Store
    engine: SyncEngine
    settings: WorkflowSettings
    clock: Clock
    numbers: RegistrationNumbers = field(repr=False)

    def plans(self) -> list[JobPlan]:
        return plan_jobs(self.runtimes, self.settings)

    def scheduler(
        self,
        *,
        workers: int = 1,
        write_snapshot: bool = True,
        immediate: bool = True,
        on_outcome: Callable[[JobPlan, JobOutcome], None] | None = None,
        clock: Clock | None = None,
    ) -> SyncScheduler:
        """``clock`` is what the expiry sweep decides by (default: the service's clock)."""
        return SyncScheduler(
            self.engine,
            self.store,
            self.plans(),
            snapshot_path=schedule_path(self.project_dir) if write_snapshot else None,
            clock=clock or self.clock,
            misfire_grace_seconds=self.settings.misfire_grace_seconds,
            workers=workers,
            immediate=immediate,
            on_outcome=on_outcome,
        )

    def close(self) -> None:
        close_runtime(self.runtimes)
        self.store.dispose()


def workflow_engine(
    project_dir: Path,
    runtimes: dict[str, ConnectionRuntime],
    store: Store,
    *,
    clock: Clock | None = None,
    settings: WorkflowSettings | None = None,
    role: str = "cli",
) -> tuple[SyncEngine, RegistrationNumbers]:
    """The engine with the registration workflow's rules (numbers continue from the store,
    the customer matcher knows the project's aliases), as every command that syncs uses it."""
    settings = settings or WorkflowSettings()
    numbers = RegistrationNumbers(settings.registration_number_prefix, numbers_in_store(store))
    engine = SyncEngine(
        runtimes,
        store,
        clock=clock or default_clock(),
        rules=workflow_rules(
            settings,
            numbers=numbers,
            matcher=CustomerMatcher(aliases=project_alias_table(project_dir)),
        ),
        holder=f"{socket.gethostname()}:{os.getpid()}:{role}",
    )
    return engine, numbers


def build_service(
    project_dir: Path,
    runtimes: dict[str, ConnectionRuntime],
    store: Store,
    *,
    clock: Clock | None = None,
    settings: WorkflowSettings | None = None,
) -> SyncService:
    """The engine over ``runtimes`` and ``store`` with the registration workflow's rules; the
    service owns (and closes) both from here on."""
    clock = clock or default_clock()
    settings = settings or WorkflowSettings()
    engine, numbers = workflow_engine(
        project_dir, runtimes, store, clock=clock, settings=settings, role="scheduler"
    )
    return SyncService(
        project_dir=project_dir,
        runtimes=runtimes,
        store=store,
        engine=engine,
        settings=settings,
        clock=clock,
        numbers=numbers,
    )
