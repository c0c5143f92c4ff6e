"""The outbox: remote writes decided in a cycle's transaction, delivered afterwards.

PENDING -> IN_FLIGHT (claimed in a batch) -> CONFIRMED, or back to PENDING after a retriable
failure (with the error and a not-before time), or FAILED for good. An IN_FLIGHT entry found
after a crash may or may not have reached the target: the engine settles it by reading the
target by key before anything is re-sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc
from channel_sync.store.errors import MissingRowError
from channel_sync.store.records import chunks
from channel_sync.store.rows import held_ids, record_row
from channel_sync.store.session_cache import (
    held_list,
    holds_writes,
    inserted_here,
    lookup_cache,
    take_held,
)
from channel_sync.store.tables import OutboxRow
from channel_sync.store.values import decode_fields, encode_fields

#: Longest error text kept per entry; remote error bodies can be large.
MAX_ERROR = 4000
#: Most deals one look-up of pending entries reads ahead for (the rest of the page in hand).
READ_AHEAD = 2000
#: Ids per bulk UPDATE; well inside every back-end's bound-parameter limit.
CONFIRM_CHUNK = 500


class OutboxOp(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    target_connection: str
    canonical_id: str
    partner_id: str | None
    op: OutboxOp
    fields: Mapping[str, object]
    status: OutboxStatus
    attempts: int
    last_error: str | None
    batch_id: str | None
    available_at: datetime
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    target_connection: str
    entries: tuple[OutboxEntry, ...]


OUTBOX: Table = cast("Table", OutboxRow.__table__)
_HELD = "outbox_writes"
_PENDING = "outbox_pending"


@holds_writes
def flush_outbox(session: Session) -> None:
    """Insert the entries :meth:`OutboxRepository.queue` held back, in the order queued."""
    batch = take_held(session, _HELD)
    if not batch:
        return
    session.connection().execute(insert(OUTBOX), batch)
    pending = lookup_cache(session, _PENDING)
    for row in batch:
        key = (row["target_connection"], row["canonical_id"])
        if pending.get(key) is row:
            del pending[key]  # now a database row: the next look-up reads it back


def _to_entry(row: OutboxRow | Row[Any]) -> OutboxEntry:
    """The entry of an ORM row or of a Core row of the same columns."""
    return OutboxEntry(
        id=row.id,
        target_connection=row.target_connection,
        canonical_id=row.canonical_id,
        partner_id=row.partner_id,
        op=OutboxOp(row.op),
        fields=decode_fields(row.fields),
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        batch_id=row.batch_id,
        available_at=row.available_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class OutboxRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        #: Newest PENDING row per (target, deal) seen or made in this transaction, so folding
        #: a page's changes does not cost a query per deal.
        self._pending = lookup_cache(session, _PENDING)

    def enqueue(
        self,
        target_connection: str,
        canonical_id: str,
        fields: Mapping[str, object],
        *,
        op: OutboxOp = OutboxOp.UPSERT,
    ) -> OutboxEntry:
        """Queue a write; folds into a still-PENDING upsert of the same deal and target.

        Folding keeps one remote write per deal per drain however many cycles changed it before
        the drain ran; an entry already IN_FLIGHT is never touched (its write may be on the
        wire). ``partner_id`` is copied from the deal, for the drain's last-step tenant check.
        """
        flush_outbox(self._session)
        row = self._queue(target_connection, canonical_id, fields, op)
        self._session.flush()
        return _to_entry(row)

    def queue(
        self,
        target_connection: str,
        canonical_id: str,
        fields: Mapping[str, object],
        *,
        op: OutboxOp = OutboxOp.UPSERT,
    ) -> None:
        """:meth:`enqueue` without reading the entry back: a new row is held and goes out with
        the rest of the page (one executemany before the next outbox query, a savepoint or
        COMMIT) rather than one INSERT per deal."""
        record = record_row(self._session, canonical_id)
        if record is None:
            msg = f"cannot queue a write for unknown canonical record {canonical_id!r}"
            raise MissingRowError(msg)
        if op is not OutboxOp.UPSERT:  # rare: sent at once, in order with what was held before
            flush_outbox(self._session)
            self._queue(target_connection, canonical_id, fields, op)
            self._session.flush()
            return
        now = self._clock.now()
        key = (target_connection, canonical_id)
        held = self._pending.get(key)
        if isinstance(held, dict):  # queued earlier in this transaction, not yet sent
            held["fields"] = encode_fields({**decode_fields(held["fields"]), **fields})
            held["updated_at"] = now
            return
        existing = self._newest_pending(target_connection, canonical_id)
        if existing is not None and existing.op == OutboxOp.UPSERT:
            existing.fields = encode_fields({**decode_fields(existing.fields), **fields})
            existing.updated_at = now
            return
        row: dict[str, Any] = {
            "target_connection": target_connection,
            "canonical_id": canonical_id,
            "partner_id": record.partner_id,
            "op": str(op),
            "fields": encode_fields(fields),
            "status": str(OutboxStatus.PENDING),
            "attempts": 0,
            "last_error": None,
            "batch_id": None,
            "available_at": now,
            "created_at": now,
            "updated_at": now,
        }
        held_list(self._session, _HELD).append(row)
        self._pending[key] = row

    def _queue(
        self,
        target_connection: str,
        canonical_id: str,
        fields: Mapping[str, object],
        op: OutboxOp,
    ) -> OutboxRow:
        record = record_row(self._session, canonical_id)
        if record is None:
            msg = f"cannot queue a write for unknown canonical record {canonical_id!r}"
            raise MissingRowError(msg)
        now = self._clock.now()
        if op is OutboxOp.UPSERT:
            row = self._newest_pending(target_connection, canonical_id)
            if row is not None and row.op == OutboxOp.UPSERT:
                row.fields = encode_fields({**decode_fields(row.fields), **fields})
                row.updated_at = now
                return row
        row = OutboxRow(
            target_connection=target_connection,
            canonical_id=canonical_id,
            partner_id=record.partner_id,
            op=op,
            fields=encode_fields(fields),
            status=OutboxStatus.PENDING,
            attempts=0,
            last_error=None,
            batch_id=None,
            available_at=now,
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        if op is OutboxOp.UPSERT:
            self._pending[target_connection, canonical_id] = row
        else:
            self._pending.pop((target_connection, canonical_id), None)
        return row

    def claim(self, target_connection: str, max_size: int, *, batch_id: str | None = None) -> Batch:
        """Move up to ``max_size`` due PENDING entries of one target to IN_FLIGHT, oldest first.

        Per deal and target, entries go out one at a time and in order: an entry waits while an
        older one of the same deal is IN_FLIGHT or still PENDING (e.g. backing off), so two
        writes of one deal are never on the wire at once and never land out of order. On
        PostgreSQL rows another drainer has locked are skipped rather than waited for.
        """
        flush_outbox(self._session)
        if max_size < 1:
            msg = "max_size must be at least 1"
            raise ValueError(msg)
        now = self._clock.now()
        batch_id = batch_id or uuid.uuid4().hex
        other = aliased(OutboxRow)
        blocked = (
            select(other.id)
            .where(
                other.target_connection == OutboxRow.target_connection,
                other.canonical_id == OutboxRow.canonical_id,
                or_(
                    other.status == OutboxStatus.IN_FLIGHT,
                    and_(other.status == OutboxStatus.PENDING, other.id < OutboxRow.id),
                ),
            )
            .exists()
        )
        query = (
            select(*OUTBOX.c)
            .where(
                OUTBOX.c.target_connection == target_connection,
                OUTBOX.c.status == OutboxStatus.PENDING,
                OUTBOX.c.available_at <= now,
                ~blocked,
            )
            .order_by(OUTBOX.c.id)
            .limit(max_size)
            .with_for_update(skip_locked=True)
        )
        # Core rows, not ORM objects: a claim of a thousand entries builds the entries alone.
        self._session.flush()
        connection = self._session.connection()
        rows = list(connection.execute(query))
        ids = [row.id for row in rows]
        # One UPDATE per chunk for the whole claim rather than one per entry.
        for start in range(0, len(ids), CONFIRM_CHUNK):
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids[start : start + CONFIRM_CHUNK]))
                .values(
                    status=OutboxStatus.IN_FLIGHT,
                    batch_id=batch_id,
                    attempts=OUTBOX.c.attempts + 1,
                    updated_at=now,
                )
            )
        self._forget_rows(ids)
        claimed = []
        for row in rows:
            self._pending.pop((row.target_connection, row.canonical_id), None)
            claimed.append(replace(
                _to_entry(row), status=OutboxStatus.IN_FLIGHT, attempts=row.attempts + 1,
                batch_id=batch_id, updated_at=now,
            ))
        return Batch(batch_id=batch_id, target_connection=target_connection, entries=tuple(claimed))

    def _forget_rows(self, ids: Iterable[int]) -> None:
        """Expire ORM copies of rows a Core statement just changed (after a flush, so they hold
        no pending change), so a later look-up in this transaction reads them again."""
        wanted = set(ids)
        for row in list(self._session.identity_map.values()):
            if isinstance(row, OutboxRow) and row.id in wanted:
                self._session.expire(row)

    def confirm(self, entry_id: int) -> OutboxEntry:
        row = self._in_flight(entry_id)
        row.status = OutboxStatus.CONFIRMED
        row.last_error = None
        row.updated_at = self._clock.now()
        self._session.flush()
        return _to_entry(row)

    def confirm_many(self, entry_ids: Iterable[int]) -> int:
        """Confirm a whole settled batch in one UPDATE per chunk; every id must be IN_FLIGHT.

        Raises ``MissingRowError`` (and the caller's transaction rolls back) when any of them is
        not, exactly as :meth:`confirm` would for that one entry.
        """
        flush_outbox(self._session)
        ids = sorted(set(entry_ids))
        now = self._clock.now()
        done = 0
        for start in range(0, len(ids), CONFIRM_CHUNK):
            part = ids[start : start + CONFIRM_CHUNK]
            result = self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(part), OutboxRow.status == OutboxStatus.IN_FLIGHT)
                .values(status=OutboxStatus.CONFIRMED, last_error=None, updated_at=now)
                .execution_options(synchronize_session="evaluate")
            )
            done += int(getattr(result, "rowcount", 0) or 0)
        if done != len(ids):
            msg = f"{len(ids) - done} of {len(ids)} outbox entries are not in flight"
            raise MissingRowError(msg)
        return done

    def fail(
        self,
        entry_id: int,
        error: str,
        *,
        retriable: bool,
        retry_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> OutboxEntry:
        """Settle a failed write: back to PENDING (not before ``retry_at``) or FAILED for good.

        A retriable failure becomes permanent once ``max_attempts`` deliveries were tried.
        """
        row = self._in_flight(entry_id)
        now = self._clock.now()
        exhausted = max_attempts is not None and row.attempts >= max_attempts
        if retriable and not exhausted:
            row.status = OutboxStatus.PENDING
            row.available_at = as_utc(retry_at) if retry_at is not None else now
        else:
            row.status = OutboxStatus.FAILED
        row.batch_id = None if row.status == OutboxStatus.PENDING else row.batch_id
        row.last_error = error[:MAX_ERROR]
        row.updated_at = now
        self._session.flush()
        return _to_entry(row)

    def release(self, entry_id: int) -> OutboxEntry:
        """Put an IN_FLIGHT entry back to PENDING unchanged (it was never sent)."""
        row = self._in_flight(entry_id)
        row.status = OutboxStatus.PENDING
        row.batch_id = None
        row.attempts = max(0, row.attempts - 1)
        row.updated_at = self._clock.now()
        self._session.flush()
        return _to_entry(row)

    def retry_failed(self, entry_id: int) -> OutboxEntry:
        """An admin's "try again" on a FAILED entry."""
        flush_outbox(self._session)
        row = self._session.get(OutboxRow, entry_id)
        if row is None or row.status != OutboxStatus.FAILED:
            msg = f"no failed outbox entry {entry_id}"
            raise MissingRowError(msg)
        self._pending.pop((row.target_connection, row.canonical_id), None)
        now = self._clock.now()
        row.status = OutboxStatus.PENDING
        row.batch_id = None
        row.available_at = now
        row.updated_at = now
        self._session.flush()
        return _to_entry(row)

    def get(self, entry_id: int) -> OutboxEntry | None:
        flush_outbox(self._session)
        row = self._session.get(OutboxRow, entry_id)
        return None if row is None else _to_entry(row)

    def in_flight(self, target_connection: str) -> list[OutboxEntry]:
        """Entries a crashed drain left IN_FLIGHT, for settling by a read of the target."""
        return self._list(target_connection, OutboxStatus.IN_FLIGHT)

    def pending(self, target_connection: str, *, limit: int = 1000) -> list[OutboxEntry]:
        return self._list(target_connection, OutboxStatus.PENDING, limit)

    def failed(self, target_connection: str, *, limit: int = 1000) -> list[OutboxEntry]:
        return self._list(target_connection, OutboxStatus.FAILED, limit)

    def counts(self) -> dict[str, dict[OutboxStatus, int]]:
        """PENDING, IN_FLIGHT and FAILED counts per target (confirmed history is not counted)."""
        flush_outbox(self._session)
        open_statuses = (OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT, OutboxStatus.FAILED)
        query = (
            select(OutboxRow.target_connection, OutboxRow.status, func.count())
            .where(OutboxRow.status.in_(open_statuses))
            .group_by(OutboxRow.status, OutboxRow.target_connection)
        )
        counts: dict[str, dict[OutboxStatus, int]] = {}
        for target, status, count in self._session.execute(query):
            counts.setdefault(target, dict.fromkeys(open_statuses, 0))[OutboxStatus(status)] = count
        return counts

    def purge_confirmed(self, before: datetime, *, limit: int = 10_000) -> int:
        """Delete confirmed entries settled before ``before``; returns how many went."""
        flush_outbox(self._session)
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.CONFIRMED, OutboxRow.updated_at < as_utc(before)
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        rows = list(self._session.scalars(query))
        for row in rows:
            self._session.delete(row)
        self._session.flush()
        return len(rows)

    def _list(
        self, target_connection: str, status: OutboxStatus, limit: int | None = None
    ) -> list[OutboxEntry]:
        flush_outbox(self._session)
        query = (
            select(OutboxRow)
            .where(OutboxRow.target_connection == target_connection, OutboxRow.status == status)
            .order_by(OutboxRow.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_to_entry(row) for row in self._session.scalars(query)]

    def _in_flight(self, entry_id: int) -> OutboxRow:
        flush_outbox(self._session)
        row = self._session.get(OutboxRow, entry_id)
        if row is None or row.status != OutboxStatus.IN_FLIGHT:
            msg = f"outbox entry {entry_id} is not in flight"
            raise MissingRowError(msg)
        # It may turn PENDING again (fail, release): the cached newest pending row is stale.
        self._pending.pop((row.target_connection, row.canonical_id), None)
        return row

    def _newest_pending(self, target_connection: str, canonical_id: str) -> OutboxRow | None:
        key = (target_connection, canonical_id)
        if key in self._pending:
            cached: OutboxRow | None = self._pending[key]
            if cached is None or cached.status == OutboxStatus.PENDING:
                return cached
        elif inserted_here(self._session, canonical_id):
            return None
        # Read ahead for the rest of the page in hand: one query instead of one per deal.
        ahead = [
            cid
            for cid in held_ids(self._session)
            if (target_connection, cid) not in self._pending and cid != canonical_id
        ]
        wanted = sorted({canonical_id, *ahead[:READ_AHEAD]})
        newest: dict[str, OutboxRow] = {}
        for part in chunks(wanted):
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.target_connection == target_connection,
                    OutboxRow.canonical_id.in_(part),
                    OutboxRow.status == OutboxStatus.PENDING,
                )
                .order_by(OutboxRow.id)
            )
            for row in self._session.scalars(query):
                newest[row.canonical_id] = row
        for cid in wanted:
            self._pending[target_connection, cid] = newest.get(cid)
        return newest.get(canonical_id)
