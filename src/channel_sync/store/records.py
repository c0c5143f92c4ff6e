"""Canonical records: the hub's copy of every deal, versioned for optimistic concurrency.

Two connections' cycles may touch the same deal at once (the vendor's and a partner's), each
under its own lease, so every update names the version it was based on and a stale one is
refused instead of silently overwriting the other cycle's merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.model import Opportunity, canonical_fields, canonical_path_parts, value_at
from channel_sync.store import json_text
from channel_sync.store.errors import (
    ConcurrentUpdateError,
    MissingRowError,
    TenantViolationError,
)
from channel_sync.store.rows import (
    CHUNK,
    COLUMNS,
    RECORDS,
    RecordState,
    chunks,
    flush_records,
    held_writes,
    hold,
    load_records,
    record_row,
)
from channel_sync.store.session_cache import mark_inserted
from channel_sync.store.tables import RecordRow
from channel_sync.store.values import decode_value, encode_value

__all__ = ["CHUNK", "RECORDS", "RecordRepository", "StoredRecord", "chunks",
           "opportunity_document"]

#: Validated deals by the JSON text they were read from (or written as). Equal texts are equal
#: deals and deals are immutable, so a deal read again (the drain reading what the page just
#: wrote, the next cycle reading it back) is not parsed and validated again. Bounded: it is
#: emptied when full.
_VALIDATED: dict[str, Opportunity] = {}
VALIDATED_MAX = 4096


def _validated(text: str) -> Opportunity:
    hit = _VALIDATED.get(text)
    if hit is None:
        hit = Opportunity.model_validate_json(text)
        _remember(text, hit)
    return hit


def _remember(text: str, opportunity: Opportunity) -> None:
    if len(_VALIDATED) >= VALIDATED_MAX:
        _VALIDATED.clear()
    _VALIDATED[text] = opportunity


class StoredRecord:
    """A deal as stored, with its version. The deal itself is validated on first use: a caller
    that only needs the partner, the version or whether it was deleted never pays for it."""

    __slots__ = ("_data", "_opportunity", "canonical_id", "created_at", "deleted_at",
                 "partner_id", "updated_at", "version")

    def __init__(
        self,
        *,
        canonical_id: str,
        partner_id: str | None,
        version: int,
        created_at: datetime,
        updated_at: datetime,
        deleted_at: datetime | None,
        opportunity: Opportunity | None = None,
        data: str | Mapping[str, Any] | None = None,
    ) -> None:
        self.canonical_id = canonical_id
        self.partner_id = partner_id
        self.version = version
        self.created_at = created_at
        self.updated_at = updated_at
        self.deleted_at = deleted_at
        self._opportunity = opportunity
        self._data = data

    @property
    def opportunity(self) -> Opportunity:
        if self._opportunity is None:
            data = self._data
            if isinstance(data, str):
                self._opportunity = _validated(data)
            else:
                self._opportunity = Opportunity.model_validate(data)
        return self._opportunity

    def values(self, paths: Iterable[str] | None = None) -> dict[str, Any]:
        """The canonical ``paths`` (default: all) with their values (``None`` under an absent
        part), read from the stored document: what flattening the deal gives, without
        validating it again."""
        data = self._data
        if data is None:
            data = self._data = opportunity_document(self.opportunity)
        document = json_text.loads(data) if isinstance(data, str) else data
        return document_values(document, paths)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"StoredRecord({self.canonical_id!r}, version={self.version})"


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


@cache
def _path_parts() -> dict[str, tuple[str, ...]]:
    return dict(canonical_path_parts())


def document_values(
    document: Mapping[str, Any], paths: Iterable[str] | None = None
) -> dict[str, Any]:
    """The canonical values a stored document holds at ``paths`` (default: every path), each
    decoded to its type. A path the deal does not have (a link's marker) has no value."""
    values: dict[str, Any] = {}
    every = canonical_path_parts()
    if paths is not None:
        parts_of = _path_parts()
        every = tuple((path, parts_of.get(path, ())) for path in paths)
    for path, parts in every:
        values[path] = decode_value(path, value_at(document, parts)) if parts else None
    return values


def _to_record(state: RecordState, opportunity: Opportunity | None = None) -> StoredRecord:
    return StoredRecord(
        canonical_id=state.canonical_id,
        partner_id=state.partner_id,
        version=state.version,
        created_at=state.created_at,
        updated_at=state.updated_at,
        deleted_at=state.deleted_at,
        opportunity=opportunity,
        data=state.data,
    )


def _written(opportunity: Opportunity, document: dict[str, Any]) -> None:
    """Remember a deal under the text the store keeps for it (the engine's JSON
    serializer), so reading it back costs no validation."""
    _remember(json_text.dumps(document), opportunity)


class RecordRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def get(self, canonical_id: str) -> StoredRecord | None:
        state = record_row(self._session, canonical_id)
        return None if state is None else _to_record(state)

    def get_many(
        self, canonical_ids: Iterable[str], *, lock: bool = False
    ) -> dict[str, StoredRecord]:
        """Records by id; ``lock`` holds them (``FOR UPDATE`` on PostgreSQL) until commit."""
        states = load_records(self._session, canonical_ids, lock=lock)
        return {cid: _to_record(state) for cid, state in states.items()}

    def preload(self, canonical_ids: Iterable[str]) -> None:
        """Hold the rows of a batch in the transaction, so per-deal look-ups that follow (links,
        outbox, failures copy the deal's partner) are dictionary hits, not queries."""
        load_records(self._session, canonical_ids)

    def insert(self, opportunity: Opportunity) -> StoredRecord:
        now = self._clock.now()
        document = opportunity_document(opportunity)
        self._session.connection().execute(
            insert(RECORDS),
            {"canonical_id": opportunity.id, "partner_id": opportunity.partner_id,
             "data": document, "version": 1, "created_at": now, "updated_at": now,
             "deleted_at": None},
        )
        state = hold(self._session, RecordState(
            opportunity.id, opportunity.partner_id, document, 1, now, now, None
        ))
        mark_inserted(self._session, opportunity.id)
        _written(opportunity, document)
        return _to_record(state, opportunity)

    def update(self, opportunity: Opportunity, *, expected_version: int) -> StoredRecord:
        """Replace the deal's data if it is still at ``expected_version``; bumps the version.

        The write is held and sent with the rest of the batch (one executemany before the
        next query on deals, a savepoint or COMMIT); a version found stale then fails the
        whole transaction with ``ConcurrentUpdateError``, as it would have failed here.
        """
        current = record_row(self._session, opportunity.id)
        if current is None:
            msg = f"no canonical record {opportunity.id!r} to update"
            raise MissingRowError(msg)
        if current.partner_id != opportunity.partner_id:
            msg = f"record {opportunity.id!r} belongs to another partner; partner_id is immutable"
            raise TenantViolationError(msg)
        if current.version != expected_version:
            raise self._stale(opportunity.id, expected_version)
        document = opportunity_document(opportunity)
        now = self._clock.now()
        held_writes(self._session).append(
            {"cid": opportunity.id, "expected": expected_version,
             "version": expected_version + 1, "updated_at": now, "data": document}
        )
        current.data = document
        current.version = expected_version + 1
        current.updated_at = now
        _written(opportunity, document)
        return _to_record(current, opportunity)

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
        flush_records(self._session)
        statement = (
            update(RECORDS)
            .where(RECORDS.c.canonical_id == canonical_id, RECORDS.c.version == expected_version)
            .values(version=RECORDS.c.version + 1, updated_at=self._clock.now(), **values)
        )
        result = self._session.connection().execute(statement)
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            raise self._stale(canonical_id, expected_version)
        # Read back, so what the transaction holds is what the database holds.
        state = load_records(self._session, [canonical_id])[canonical_id]
        return _to_record(state)

    def _stale(self, canonical_id: str, expected_version: int) -> Exception:
        if not load_records(self._session, [canonical_id]):
            return MissingRowError(f"no canonical record {canonical_id!r}")
        return ConcurrentUpdateError(
            f"record {canonical_id!r} is no longer at version {expected_version}; "
            "re-read it and merge again"
        )

    def ids(
        self, *, partner_id: str | None = None, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """Canonical ids in order, a page at a time (for full reconciliation)."""
        flush_records(self._session)
        query = select(RecordRow.canonical_id).order_by(RecordRow.canonical_id).limit(limit)
        if partner_id is not None:
            query = query.where(RecordRow.partner_id == partner_id)
        if after is not None:
            query = query.where(RecordRow.canonical_id > after)
        return list(self._session.scalars(query))

    def versions_since(self, since: datetime) -> list[tuple[str, int, datetime]]:
        """``(canonical id, version, updated at)`` of every deal written at or after ``since``,
        oldest first: what changed, without reading the deals themselves."""
        flush_records(self._session)
        query = (
            select(RecordRow.canonical_id, RecordRow.version, RecordRow.updated_at)
            .where(RecordRow.updated_at >= since)
            .order_by(RecordRow.updated_at, RecordRow.canonical_id)
        )
        return [(str(cid), int(version), at) for cid, version, at in self._session.execute(query)]

    def changed_since(self, since: datetime, *, limit: int = 1000) -> list[StoredRecord]:
        flush_records(self._session)
        query = (
            select(*COLUMNS)
            .where(RECORDS.c.updated_at > since)
            .order_by(RECORDS.c.updated_at, RECORDS.c.canonical_id)
            .limit(limit)
        )
        rows = self._session.connection().execute(query)
        return [_to_record(hold(self._session, RecordState(*row))) for row in rows]

    def count(self, *, include_deleted: bool = False) -> int:
        flush_records(self._session)
        query = select(func.count()).select_from(RecordRow)
        if not include_deleted:
            query = query.where(RecordRow.deleted_at.is_(None))
        return int(self._session.scalar(query) or 0)
