"""Canonical records: the hub's copy of every deal, versioned for optimistic concurrency.

Two connections' cycles may touch the same deal at once (the vendor's and a partner's), each
under its own lease, so every update names the version it was based on and a stale one is
refused instead of silently overwriting the other cycle's merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from channel_sync.clock import Clock
from channel_sync.model import Opportunity, canonical_fields
from channel_sync.store.errors import (
    ConcurrentUpdateError,
    MissingRowError,
    TenantViolationError,
)
from channel_sync.store.rows import hold, record_row
from channel_sync.store.session_cache import mark_inserted
from channel_sync.store.tables import RecordRow
from channel_sync.store.values import encode_value

#: The records table for Core statements (no ORM bookkeeping on the per-deal write path).
RECORDS: Table = cast("Table", RecordRow.__table__)
#: One statement object for every deal's data update, so it is compiled once per process.
_UPDATE_DATA = (
    update(RECORDS)
    .where(RECORDS.c.canonical_id == bindparam("cid"), RECORDS.c.version == bindparam("expected"))
    .values(version=bindparam("version"), updated_at=bindparam("updated_at"),
            data=bindparam("data"))
)
#: Rows fetched per ``IN (...)`` query; far below every back-end's parameter limit.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredRecord:
    opportunity: Opportunity
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @property
    def canonical_id(self) -> str:
        return self.opportunity.id

    @property
    def partner_id(self) -> str | None:
        return self.opportunity.partner_id

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def opportunity_document(opportunity: Opportunity) -> dict[str, Any]:
    """The stored JSON of a deal, every leaf in its normalized form (see ``values``).

    Pydantic's JSON mode keeps ``"10.50"`` and the sender's UTC offset; re-encoding those leaves
    makes equal deals store equal documents.
    """
    document: dict[str, Any] = opportunity.model_dump(mode="json")
    for path, field in canonical_fields().items():
        if field.type not in (Decimal, datetime):
            continue
        *parents, leaf = path.split(".")
        node: Any = document
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(leaf) is not None:
            raw = node[leaf]
            value = Decimal(raw) if field.type is Decimal else datetime.fromisoformat(raw)
            node[leaf] = encode_value(path, value)
    return document


def _to_record(row: RecordRow) -> StoredRecord:
    return StoredRecord(
        opportunity=Opportunity.model_validate(row.data),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


class RecordRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def get(self, canonical_id: str) -> StoredRecord | None:
        row = record_row(self._session, canonical_id)
        return None if row is None else _to_record(row)

    def get_many(
        self, canonical_ids: Iterable[str], *, lock: bool = False
    ) -> dict[str, StoredRecord]:
        """Records by id; ``lock`` holds them (``FOR UPDATE`` on PostgreSQL) until commit."""
        ids = sorted(set(canonical_ids))
        found: dict[str, StoredRecord] = {}
        for part in chunks(ids):
            query = select(RecordRow).where(RecordRow.canonical_id.in_(part))
            if lock:
                query = query.with_for_update()
            for row in self._session.scalars(query):
                found[row.canonical_id] = _to_record(hold(self._session, row))
        return found

    def preload(self, canonical_ids: Iterable[str]) -> None:
        """Hold the rows of a batch in the session, so per-deal look-ups that follow (links,
        outbox, failures copy the deal's partner) are dictionary hits, not queries."""
        for part in chunks(sorted(set(canonical_ids))):
            for row in self._session.scalars(
                select(RecordRow).where(RecordRow.canonical_id.in_(part))
            ):
                hold(self._session, row)

    def insert(self, opportunity: Opportunity) -> StoredRecord:
        now = self._clock.now()
        row = RecordRow(
            canonical_id=opportunity.id,
            partner_id=opportunity.partner_id,
            data=opportunity_document(opportunity),
            version=1,
            created_at=now,
            updated_at=now,
            deleted_at=None,
        )
        self._session.add(hold(self._session, row))
        self._session.flush()
        mark_inserted(self._session, opportunity.id)
        return _to_record(row)

    def update(self, opportunity: Opportunity, *, expected_version: int) -> StoredRecord:
        """Replace the deal's data if it is still at ``expected_version``; bumps the version."""
        current = record_row(self._session, opportunity.id)
        if current is None:
            msg = f"no canonical record {opportunity.id!r} to update"
            raise MissingRowError(msg)
        if current.partner_id != opportunity.partner_id:
            msg = f"record {opportunity.id!r} belongs to another partner; partner_id is immutable"
            raise TenantViolationError(msg)
        data = opportunity_document(opportunity)
        now = self._clock.now()
        # A Core statement on the session's connection: no ORM round trip per deal. The held
        # row is brought in step by hand, so later look-ups in this transaction see the write.
        result = self._session.connection().execute(
            _UPDATE_DATA,
            {"cid": opportunity.id, "expected": expected_version, "version": expected_version + 1,
             "updated_at": now, "data": data},
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            raise self._stale(opportunity.id, expected_version)
        set_committed_value(current, "data", data)
        set_committed_value(current, "version", expected_version + 1)
        set_committed_value(current, "updated_at", now)
        return StoredRecord(
            opportunity=opportunity,
            version=expected_version + 1,
            created_at=current.created_at,
            updated_at=now,
            deleted_at=current.deleted_at,
        )

    def save(self, opportunity: Opportunity, *, expected_version: int | None) -> StoredRecord:
        """Insert when ``expected_version`` is ``None``, update otherwise."""
        if expected_version is None:
            return self.insert(opportunity)
        return self.update(opportunity, expected_version=expected_version)

    def mark_deleted(self, canonical_id: str, *, expected_version: int) -> StoredRecord:
        """Keep the deal but mark it deleted, so a late echo can not revive it silently."""
        return self._write(canonical_id, expected_version, deleted_at=self._clock.now())

    def restore(self, canonical_id: str, *, expected_version: int) -> StoredRecord:
        return self._write(canonical_id, expected_version, deleted_at=None)

    def _write(self, canonical_id: str, expected_version: int, **values: Any) -> StoredRecord:
        statement = (
            update(RecordRow)
            .where(RecordRow.canonical_id == canonical_id, RecordRow.version == expected_version)
            .values(version=RecordRow.version + 1, updated_at=self._clock.now(), **values)
            .returning(RecordRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        # RETURNING the whole row refreshes the held object in the same round trip.
        row = self._session.scalars(statement).first()
        if row is None:
            raise self._stale(canonical_id, expected_version)
        return _to_record(row)

    def _stale(self, canonical_id: str, expected_version: int) -> Exception:
        if self._session.get(RecordRow, canonical_id) is None:
            return MissingRowError(f"no canonical record {canonical_id!r}")
        return ConcurrentUpdateError(
            f"record {canonical_id!r} is no longer at version {expected_version}; "
            "re-read it and merge again"
        )

    def ids(
        self, *, partner_id: str | None = None, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """Canonical ids in order, a page at a time (for full reconciliation)."""
        query = select(RecordRow.canonical_id).order_by(RecordRow.canonical_id).limit(limit)
        if partner_id is not None:
            query = query.where(RecordRow.partner_id == partner_id)
        if after is not None:
            query = query.where(RecordRow.canonical_id > after)
        return list(self._session.scalars(query))

    def versions_since(self, since: datetime) -> list[tuple[str, int, datetime]]:
        """``(canonical id, version, updated at)`` of every deal written at or after ``since``,
        oldest first: what changed, without reading the deals themselves."""
        query = (
            select(RecordRow.canonical_id, RecordRow.version, RecordRow.updated_at)
            .where(RecordRow.updated_at >= since)
            .order_by(RecordRow.updated_at, RecordRow.canonical_id)
        )
        return [(str(cid), int(version), at) for cid, version, at in self._session.execute(query)]

    def changed_since(self, since: datetime, *, limit: int = 1000) -> list[StoredRecord]:
        query = (
            select(RecordRow)
            .where(RecordRow.updated_at > since)
            .order_by(RecordRow.updated_at, RecordRow.canonical_id)
            .limit(limit)
        )
        return [_to_record(row) for row in self._session.scalars(query)]

    def count(self, *, include_deleted: bool = False) -> int:
        query = select(func.count()).select_from(RecordRow)
        if not include_deleted:
            query = query.where(RecordRow.deleted_at.is_(None))
        return int(self._session.scalar(query) or 0)
