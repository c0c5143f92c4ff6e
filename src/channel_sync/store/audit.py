"""The audit trail: who or what changed which field of which deal, from what to what, and why.

Append-only by construction: this repository has no update or delete, and the database refuses
UPDATE and DELETE on the table itself (triggers), so not even a bug or a hand-typed SQL session
can rewrite history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc, as_utc_or_none
from channel_sync.store.rows import chunks, held_partner
from channel_sync.store.tables import AuditEventRow, RecordRow
from channel_sync.store.values import decode_value, encode_value

AUDIT: Table = cast("Table", AuditEventRow.__table__)


class Direction(StrEnum):
    INBOUND = "inbound"  # remote CRM -> hub
    OUTBOUND = "outbound"  # hub -> remote CRM
    INTERNAL = "internal"  # decided in the hub (conflict resolution, expiry sweep)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One field change. ``field`` is a canonical path; ``None`` for record-level events."""

    actor: str
    source_system: str
    direction: Direction
    canonical_id: str | None = None
    connection: str | None = None
    external_key: str | None = None
    field: str | None = None
    old_value: object = None
    new_value: object = None
    source_ts: datetime | None = None
    engine_ts: datetime | None = None
    run_id: int | None = None
    decision: str | None = None
    #: Filled in by the store from the deal; stored so partner-scoped reads need no join.
    partner_id: str | None = None
    id: int | None = None


def _encode(field: str | None, value: object) -> object:
    return value if field is None else encode_value(field, value)


def _decode(field: str | None, value: object) -> object:
    return value if field is None else decode_value(field, value)


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        actor=row.actor,
        source_system=row.source_system,
        direction=Direction(row.direction),
        canonical_id=row.canonical_id,
        partner_id=row.partner_id,
        connection=row.connection,
        external_key=row.external_key,
        field=row.field,
        old_value=_decode(row.field, row.old_value),
        new_value=_decode(row.field, row.new_value),
        source_ts=row.source_ts,
        engine_ts=row.engine_ts,
        run_id=row.run_id,
        decision=row.decision,
    )


class AuditRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def append(self, events: Iterable[AuditEvent]) -> int:
        """Add events; ``engine_ts`` defaults to now. Returns how many were written."""
        now = self._clock.now()
        events = list(events)
        partners = self._partners({e.canonical_id for e in events if e.canonical_id})
        rows: list[dict[str, object]] = []
        for event in events:
            if event.field is None and (event.old_value is not None or event.new_value is not None):
                msg = "a record-level audit event carries no values; name the field"
                raise ValueError(msg)
            rows.append(
                {
                    "actor": event.actor,
                    "source_system": event.source_system,
                    "direction": str(event.direction),
                    "canonical_id": event.canonical_id,
                    "partner_id": partners.get(event.canonical_id or ""),
                    "connection": event.connection,
                    "external_key": event.external_key,
                    "field": event.field,
                    "old_value": _encode(event.field, event.old_value),
                    "new_value": _encode(event.field, event.new_value),
                    "source_ts": as_utc_or_none(event.source_ts),
                    "engine_ts": as_utc(event.engine_ts) if event.engine_ts else now,
                    "run_id": event.run_id,
                    "decision": event.decision,
                }
            )
        if rows:
            # One Core executemany: a page's events cost one round trip, and the append-only
            # trail never needs the rows back as ORM objects (nor the ORM's flush first).
            self._session.connection().execute(insert(AUDIT), rows)
        return len(rows)

    def for_record(self, canonical_id: str, *, limit: int = 1000) -> list[AuditEvent]:
        query = (
            select(AuditEventRow)
            .where(AuditEventRow.canonical_id == canonical_id)
            .order_by(AuditEventRow.id)
            .limit(limit)
        )
        return [_to_event(row) for row in self._session.scalars(query)]

    def for_run(self, run_id: int, *, limit: int = 10_000) -> list[AuditEvent]:
        query = (
            select(AuditEventRow)
            .where(AuditEventRow.run_id == run_id)
            .order_by(AuditEventRow.id)
            .limit(limit)
        )
        return [_to_event(row) for row in self._session.scalars(query)]

    def _partners(self, canonical_ids: set[str]) -> dict[str, str | None]:
        """Each deal's partner: from rows this transaction holds, the rest in one query that
        reads two columns (not the deals themselves)."""
        found: dict[str, str | None] = {}
        missing: list[str] = []
        for canonical_id in sorted(canonical_ids):
            known, partner_id = held_partner(self._session, canonical_id)
            if known:
                found[canonical_id] = partner_id
            else:
                missing.append(canonical_id)
        for part in chunks(missing):
            query = select(RecordRow.canonical_id, RecordRow.partner_id).where(
                RecordRow.canonical_id.in_(part)
            )
            for canonical_id, partner_id in self._session.execute(query):
                found[str(canonical_id)] = partner_id
        return found
