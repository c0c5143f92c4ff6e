"""Conflicts: one field changed on two sides to different values since the base.

An open conflict holds the field for review: the engine writes neither side until someone
decides. Conflicts the field's authority settled on the spot are kept too, already resolved, so
the trail shows what was overwritten and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.errors import MissingRowError
from channel_sync.store.records import chunks
from channel_sync.store.rows import record_row
from channel_sync.store.tables import ConflictRow
from channel_sync.store.values import decode_value, encode_value


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class ConflictSide:
    """One side of a disagreement: the value, the system it came from, and the connection."""

    value: object
    source: str
    connection: str


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    canonical_id: str
    partner_id: str | None
    field: str
    base: object
    a: ConflictSide
    b: ConflictSide
    detected_at: datetime
    status: ConflictStatus
    decision: str | None
    resolved_value: object
    resolved_by: str | None
    resolved_at: datetime | None


def _to_conflict(row: ConflictRow) -> Conflict:
    return Conflict(
        id=row.id,
        canonical_id=row.canonical_id,
        partner_id=row.partner_id,
        field=row.field,
        base=decode_value(row.field, row.base_value),
        a=ConflictSide(decode_value(row.field, row.value_a), row.source_a, row.connection_a),
        b=ConflictSide(decode_value(row.field, row.value_b), row.source_b, row.connection_b),
        detected_at=row.detected_at,
        status=ConflictStatus(row.status),
        decision=row.decision,
        resolved_value=decode_value(row.field, row.resolved_value),
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


class ConflictRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def open(
        self, canonical_id: str, field: str, *, base: object, a: ConflictSide, b: ConflictSide
    ) -> Conflict:
        """Queue a field for review; a field already under review gets the newest values."""
        row = self._open_row(canonical_id, field)
        if row is None:
            row = self._new_row(canonical_id, field)
            row.status = ConflictStatus.OPEN
            row.detected_at = self._clock.now()
            row.decision = None
            row.resolved_value = None
            row.resolved_by = None
            row.resolved_at = None
            self._session.add(row)
        self._fill(row, base, a, b)
        self._session.flush()
        return _to_conflict(row)

    def refresh_side(
        self, canonical_id: str, field: str, side: ConflictSide, *, base: object,
        other: ConflictSide,
    ) -> Conflict:
        """A side of a field under review changed again: that side gets its newest value.

        Only the side of ``side.connection`` is replaced; the other side keeps the value it last
        reported, which is not necessarily what the hub holds (after a decision the hub holds
        the decided value, and a side may have moved on before it was delivered). With no open
        conflict on the field, one is opened with ``other`` as the other side.
        """
        row = self._open_row(canonical_id, field)
        if row is None:
            return self.open(canonical_id, field, base=base, a=other, b=side)
        value = encode_value(field, side.value)
        if row.connection_a == side.connection:
            if row.value_a == value:
                return _to_conflict(row)
            row.value_a, row.source_a = value, side.source
        elif row.connection_b == side.connection:
            if row.value_b == value:
                return _to_conflict(row)
            row.value_b, row.source_b = value, side.source
        else:
            # The conflict was raised by neither connection (e.g. a rule): the newest value
            # from outside takes the place of the side that is not the hub's.
            row.value_b, row.source_b, row.connection_b = value, side.source, side.connection
        self._session.flush()
        return _to_conflict(row)

    def record_decided(
        self,
        canonical_id: str,
        field: str,
        *,
        base: object,
        a: ConflictSide,
        b: ConflictSide,
        decision: str,
        value: object,
        decided_by: str,
    ) -> Conflict:
        """Keep a conflict the field's authority settled at once (e.g. ``vendor`` wins)."""
        now = self._clock.now()
        row = self._new_row(canonical_id, field)
        self._fill(row, base, a, b)
        row.detected_at = now
        row.status = ConflictStatus.RESOLVED
        row.decision = decision
        row.resolved_value = encode_value(field, value)
        row.resolved_by = decided_by
        row.resolved_at = now
        self._session.add(row)
        self._session.flush()
        return _to_conflict(row)

    def resolve(
        self, conflict_id: int, *, decision: str, value: object, resolved_by: str
    ) -> Conflict:
        """Settle an open conflict; ``value`` is what both sides should now hold."""
        row = self._session.get(ConflictRow, conflict_id)
        if row is None or row.status != ConflictStatus.OPEN:
            msg = f"no open conflict {conflict_id}"
            raise MissingRowError(msg)
        row.status = ConflictStatus.RESOLVED
        row.decision = decision
        row.resolved_value = encode_value(row.field, value)
        row.resolved_by = resolved_by
        row.resolved_at = self._clock.now()
        self._session.flush()
        return _to_conflict(row)

    def get(self, conflict_id: int) -> Conflict | None:
        row = self._session.get(ConflictRow, conflict_id)
        return None if row is None else _to_conflict(row)

    def list_open(self, *, canonical_id: str | None = None, limit: int = 100) -> list[Conflict]:
        query = (
            select(ConflictRow)
            .where(ConflictRow.status == ConflictStatus.OPEN)
            .order_by(ConflictRow.id)
            .limit(limit)
        )
        if canonical_id is not None:
            query = query.where(ConflictRow.canonical_id == canonical_id)
        return [_to_conflict(row) for row in self._session.scalars(query)]

    def history(self, canonical_id: str) -> list[Conflict]:
        query = (
            select(ConflictRow)
            .where(ConflictRow.canonical_id == canonical_id)
            .order_by(ConflictRow.id)
        )
        return [_to_conflict(row) for row in self._session.scalars(query)]

    def open_fields(self, canonical_ids: Iterable[str]) -> dict[str, set[str]]:
        """The fields under review per deal, for one page of deals: the merge skips them."""
        found: dict[str, set[str]] = {}
        for part in chunks(sorted(set(canonical_ids))):
            query = select(ConflictRow.canonical_id, ConflictRow.field).where(
                ConflictRow.status == ConflictStatus.OPEN, ConflictRow.canonical_id.in_(part)
            )
            for canonical_id, field in self._session.execute(query):
                found.setdefault(canonical_id, set()).add(field)
        return found

    def count_open(self) -> int:
        query = select(func.count()).where(ConflictRow.status == ConflictStatus.OPEN)
        return int(self._session.scalar(query) or 0)

    def _open_row(self, canonical_id: str, field: str) -> ConflictRow | None:
        query = select(ConflictRow).where(
            ConflictRow.canonical_id == canonical_id,
            ConflictRow.field == field,
            ConflictRow.status == ConflictStatus.OPEN,
        )
        return self._session.scalars(query).first()

    def _new_row(self, canonical_id: str, field: str) -> ConflictRow:
        record = record_row(self._session, canonical_id)
        if record is None:
            msg = f"no canonical record {canonical_id!r} to hold a conflict"
            raise MissingRowError(msg)
        return ConflictRow(canonical_id=canonical_id, partner_id=record.partner_id, field=field)

    @staticmethod
    def _fill(row: ConflictRow, base: object, a: ConflictSide, b: ConflictSide) -> None:
        row.base_value = encode_value(row.field, base)
        row.value_a = encode_value(row.field, a.value)
        row.source_a = a.source
        row.connection_a = a.connection
        row.value_b = encode_value(row.field, b.value)
        row.source_b = b.source
        row.connection_b = b.connection
