"""What the running scheduler plans next, in a small JSON file ``status`` can read.

``channel-sync run`` and ``channel-sync status`` are separate processes; the scheduler writes its
plan (every job's next and last run) to ``<project>/.channel-sync/schedule.json`` after each job
and on shutdown, so ``status`` can show next run times without talking to the running process.
The file is replaced atomically (write a sibling, then rename), so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from channel_sync.store.settings import STATE_DIR

SCHEDULE_FILE = "schedule.json"
FORMAT_VERSION = 1


@dataclass
class JobState:
    id: str
    #: ``cycle``, ``reconcile`` or ``expiry``.
    kind: str
    connection: str | None
    every_seconds: float
    next_run: datetime | None = None
    last_run: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None


@dataclass
class ScheduleSnapshot:
    #: The process running the scheduler (so ``status`` can tell a stale file).
    pid: int
    started: datetime
    updated: datetime
    running: bool
    jobs: list[JobState] = field(default_factory=list)

    def job(self, job_id: str) -> JobState | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    @property
    def live(self) -> bool:
        """The scheduler that wrote this is still running (on this host; a process killed
        without a chance to say so leaves ``running`` set, so its pid is checked too)."""
        if not self.running:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def next_run(self, connection: str) -> datetime | None:
        """When ``connection``'s next sync cycle is due (``None`` when nothing runs it)."""
        job = self.job(cycle_job_id(connection))
        return job.next_run if job is not None and self.live else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = FORMAT_VERSION
        converted: dict[str, Any] = _dates_to_text(data)
        return converted


def cycle_job_id(connection: str) -> str:
    return f"cycle:{connection}"


def reconcile_job_id(connection: str) -> str:
    return f"reconcile:{connection}"


EXPIRY_JOB_ID = "expiry-sweep"


def schedule_path(project_dir: Path) -> Path:
    return project_dir / STATE_DIR / SCHEDULE_FILE


def _dates_to_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    return value


def _date(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def write_snapshot(path: Path, snapshot: ScheduleSnapshot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".schedule-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(snapshot.to_json(), out, indent=2)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_snapshot(path: Path) -> ScheduleSnapshot | None:
    """The last plan written, or ``None`` when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION:
            return None
        return ScheduleSnapshot(
            pid=int(data["pid"]),
            started=datetime.fromisoformat(data["started"]),
            updated=datetime.fromisoformat(data["updated"]),
            running=bool(data["running"]),
            jobs=[
                JobState(
                    id=str(j["id"]),
                    kind=str(j["kind"]),
                    connection=j.get("connection"),
                    every_seconds=float(j["every_seconds"]),
                    next_run=_date(j.get("next_run")),
                    last_run=_date(j.get("last_run")),
                    last_status=j.get("last_status"),
                    last_error=j.get("last_error"),
                )
                for j in data["jobs"]
            ],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_schedule(project_dir: Path) -> ScheduleSnapshot | None:
    """The running (or last) scheduler's plan for the project at ``project_dir``."""
    return read_snapshot(schedule_path(project_dir))
