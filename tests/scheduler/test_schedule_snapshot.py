"""The plan file ``status`` reads: round trip, and a dead scheduler's plan is not trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channel_sync.scheduler.snapshot import (
    JobState,
    ScheduleSnapshot,
    read_schedule,
    schedule_path,
    write_snapshot,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def plan(pid: int, *, running: bool = True) -> ScheduleSnapshot:
    return ScheduleSnapshot(
        pid=pid,
        started=NOW,
        updated=NOW,
        running=running,
        jobs=[
            JobState(
                "cycle:vendor",
                "cycle",
                "vendor",
                60.0,
                next_run=NOW + timedelta(seconds=60),
                last_run=NOW,
                last_status="ok",
            ),
            JobState("expiry-sweep", "expiry", None, 3600.0, next_run=NOW),
        ],
    )


def test_a_plan_round_trips_through_the_file(tmp_path: Path) -> None:
    write_snapshot(schedule_path(tmp_path), plan(os.getpid()))
    read = read_schedule(tmp_path)
    assert read == plan(os.getpid())
    assert read is not None
    assert read.live
    assert read.next_run("vendor") == NOW + timedelta(seconds=60)
    assert read.next_run("partner-a") is None


def test_a_stopped_or_vanished_scheduler_plans_nothing(tmp_path: Path) -> None:
    write_snapshot(schedule_path(tmp_path), plan(os.getpid(), running=False))
    stopped = read_schedule(tmp_path)
    assert stopped is not None
    assert stopped.next_run("vendor") is None
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    write_snapshot(schedule_path(tmp_path), plan(finished.pid))
    vanished = read_schedule(tmp_path)
    assert vanished is not None
    assert not vanished.live
    assert vanished.next_run("vendor") is None


def test_a_missing_or_damaged_file_reads_as_no_plan(tmp_path: Path) -> None:
    assert read_schedule(tmp_path) is None
    path = schedule_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert read_schedule(tmp_path) is None
    path.write_text('{"version": 99}')
    assert read_schedule(tmp_path) is None
