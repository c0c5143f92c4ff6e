"""The embedded scheduler: sync cycles, reconciliations and the expiry sweep on their intervals
(``channel-sync run``), and the plan it leaves for ``channel-sync status``."""

from channel_sync.scheduler.jobs import JobOutcome, JobPlan, SchedulableEngine, plan_jobs
from channel_sync.scheduler.runner import SyncScheduler
from channel_sync.scheduler.snapshot import (
    JobState,
    ScheduleSnapshot,
    read_schedule,
    schedule_path,
)

__all__ = [
    "JobOutcome",
    "JobPlan",
    "JobState",
    "SchedulableEngine",
    "ScheduleSnapshot",
    "SyncScheduler",
    "plan_jobs",
    "read_schedule",
    "schedule_path",
]
