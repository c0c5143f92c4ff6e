"""The failed-record index: records quarantined per connection, with their latest error.

A record lands here when a connector or the merge refuses it (a ``RecordError``); the rest of the
page keeps syncing. The row goes away when the record finally syncs (``clear``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.records import chunks
from channel_sync.store.rows import record_row
from channel_sync.store.session_cache import lookup_cache
from channel_sync.store.tables import FailedRecordRow

MAX_MESSAGE = 4000


@dataclass(frozen=True, slots=True)
class FailedRecord:
    connection: str
    remote_id: str | None
    canonical_id: str | None
    partner_id: str | None
    error_class: str
    message: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


def _to_failure(row: FailedRecordRow) -> FailedRecord:
    return FailedRecord(
        connection=row.connection,
        remote_id=row.remote_id,
        canonical_id=row.canonical_id,
        partner_id=row.partner_id,
        error_class=row.error_class,
        message=row.message,
        attempts=row.attempts,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _key(remote_id: str | None, canonical_id: str | None) -> tuple[str, str]:
    if remote_id is not None:
        return "remote", remote_id
    if canonical_id is not None:
        return "canonical", canonical_id
    msg = "a failed record needs a remote id or a canonical id"
    raise ValueError(msg)


class FailureRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        #: Per connection: may it have quarantined records? Asked once per transaction, so a
        #: page of healthy records costs no DELETE per record when nothing is quarantined.
        self._present = lookup_cache(session, "failures_present")

    def record(
        self,
        connection: str,
        error: BaseException | tuple[str, str],
        *,
        remote_id: str | None = None,
        canonical_id: str | None = None,
    ) -> FailedRecord:
        """Note one more failure of a record (by remote id when known, else canonical id).

        ``error`` is the exception, or ``(error class, message)``; the caller is responsible
        for the message holding no secret (connectors' errors never carry tokens).
        """
        kind, key = _key(remote_id, canonical_id)
        if isinstance(error, BaseException):
            error_class, message = type(error).__name__, str(error)
        else:
            error_class, message = error
        now = self._clock.now()
        row = self._row(connection, kind, key)
        if row is None:
            record = record_row(self._session, canonical_id) if canonical_id else None
            row = FailedRecordRow(
                connection=connection,
                key_kind=kind,
                record_key=key,
                partner_id=None if record is None else record.partner_id,
                attempts=0,
                first_seen=now,
            )
            self._session.add(row)
        row.remote_id = remote_id if remote_id is not None else row.remote_id
        row.canonical_id = canonical_id if canonical_id is not None else row.canonical_id
        row.error_class = error_class[:255]
        row.message = message[:MAX_MESSAGE]
        row.attempts += 1
        row.last_seen = now
        self._session.flush()
        self._present[connection] = True
        return _to_failure(row)

    def clear(
        self, connection: str, *, remote_id: str | None = None, canonical_id: str | None = None
    ) -> bool:
        """The record synced: take it out of quarantine. Returns whether it was there."""
        kind, key = _key(remote_id, canonical_id)
        return self._delete(connection, kind, [key]) > 0

    def clear_many(
        self,
        connection: str,
        *,
        canonical_ids: Iterable[str] = (),
        remote_ids: Iterable[str] = (),
    ) -> int:
        """Take a whole batch of synced records out of quarantine; returns how many were there."""
        removed = self._delete(connection, "canonical", sorted(set(canonical_ids)))
        return removed + self._delete(connection, "remote", sorted(set(remote_ids)))

    def _delete(self, connection: str, kind: str, keys: list[str]) -> int:
        """One DELETE per chunk instead of a look-up, an ORM delete and a flush per record."""
        if not keys or not self._any(connection):
            return 0
        removed = 0
        for part in chunks(keys):
            result = self._session.execute(
                delete(FailedRecordRow)
                .where(
                    FailedRecordRow.connection == connection,
                    FailedRecordRow.key_kind == kind,
                    FailedRecordRow.record_key.in_(part),
                )
                .execution_options(synchronize_session="evaluate")
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed

    def for_connection(self, connection: str, *, limit: int = 1000) -> list[FailedRecord]:
        query = (
            select(FailedRecordRow)
            .where(FailedRecordRow.connection == connection)
            .order_by(FailedRecordRow.last_seen.desc(), FailedRecordRow.id)
            .limit(limit)
        )
        return [_to_failure(row) for row in self._session.scalars(query)]

    def counts(self) -> dict[str, int]:
        query = select(FailedRecordRow.connection, func.count()).group_by(
            FailedRecordRow.connection
        )
        return {connection: int(count) for connection, count in self._session.execute(query)}

    def _any(self, connection: str) -> bool:
        if connection not in self._present:
            query = select(FailedRecordRow.id).where(FailedRecordRow.connection == connection)
            self._present[connection] = self._session.scalars(query.limit(1)).first() is not None
        present: bool = self._present[connection]
        return present

    def _row(self, connection: str, kind: str, key: str) -> FailedRecordRow | None:
        query = select(FailedRecordRow).where(
            FailedRecordRow.connection == connection,
            FailedRecordRow.key_kind == kind,
            FailedRecordRow.record_key == key,
        )
        return self._session.scalars(query).first()
