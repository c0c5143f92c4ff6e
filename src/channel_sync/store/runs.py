"""Runs: one sync cycle of one connection, with what it did and what went wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.errors import MissingRowError
from channel_sync.store.tables import RunRow

MAX_ERROR = 4000


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Stopped on purpose (lease lost, shutdown) before it finished.
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    connection: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    counts: Mapping[str, int] = field(default_factory=dict)
    api_calls: int = 0
    error: str | None = None


def _to_run(row: RunRow) -> Run:
    return Run(
        id=row.id,
        connection=row.connection,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=RunStatus(row.status),
        counts=dict(row.counts),
        api_calls=row.api_calls,
        error=row.error,
    )


class RunRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def start(self, connection: str) -> Run:
        row = RunRow(
            connection=connection,
            started_at=self._clock.now(),
            finished_at=None,
            status=RunStatus.RUNNING,
            counts={},
            api_calls=0,
            error=None,
        )
        self._session.add(row)
        self._session.flush()
        return _to_run(row)

    def finish(
        self,
        run_id: int,
        status: RunStatus,
        *,
        counts: Mapping[str, int] | None = None,
        api_calls: int | None = None,
        error: str | None = None,
    ) -> Run:
        if status is RunStatus.RUNNING:
            msg = "a run finishes as succeeded, failed or aborted"
            raise ValueError(msg)
        row = self._session.get(RunRow, run_id)
        if row is None:
            msg = f"no run {run_id}"
            raise MissingRowError(msg)
        row.status = status
        row.finished_at = self._clock.now()
        if counts is not None:
            row.counts = {key: int(value) for key, value in counts.items()}
        if api_calls is not None:
            row.api_calls = api_calls
        row.error = None if error is None else error[:MAX_ERROR]
        self._session.flush()
        return _to_run(row)

    def get(self, run_id: int) -> Run | None:
        row = self._session.get(RunRow, run_id)
        return None if row is None else _to_run(row)

    def recent(self, connection: str, *, limit: int = 20) -> list[Run]:
        """Newest first."""
        query = (
            select(RunRow)
            .where(RunRow.connection == connection)
            .order_by(RunRow.id.desc())
            .limit(limit)
        )
        return [_to_run(row) for row in self._session.scalars(query)]

    def latest(self, connection: str) -> Run | None:
        runs = self.recent(connection, limit=1)
        return runs[0] if runs else None
