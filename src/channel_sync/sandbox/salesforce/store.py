"""The in-memory Opportunity table of one org, with the recycle bin and the delete log.

Stored records are never changed in place: every write stores a new dict. A query locator can
therefore keep the rows it matched as a snapshot for free, and a rollback only has to put the
old dicts back. Indexes: by Id (the dict itself) and by external id (live records only, folded
to lower case because an org's unique external ids are case-insensitive by default).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from channel_sync.clock import Clock
from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.errors import LOCK_MESSAGE, RecordProblem, RefusedRecordError
from channel_sync.sandbox.salesforce.ids import IdFactory
from channel_sync.sandbox.salesforce.values import truncate_ms

Record = Mapping[str, Any]
LockCheck = Callable[[str | None, str | None], bool]
RECYCLE_BIN_DAYS = 15
EXT = schema.EXTERNAL_ID_FIELD


@dataclass(frozen=True)
class Savepoint:
    undo_len: int
    log_len: int


def _key(value: Any) -> str | None:
    return value.casefold() if isinstance(value, str) and value else None


def _template() -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(schema.FIELD_NAMES)
    record.update(schema.BOOLEAN_DEFAULTS)
    record["IsDeleted"] = False
    record["IsClosed"] = False
    record["IsWon"] = False
    record["CurrencyIsoCode"] = schema.DEFAULT_CURRENCY
    return record


_TEMPLATE = _template()


def _blank() -> dict[str, Any]:
    return _TEMPLATE.copy()


def _derive(record: dict[str, Any], values: Mapping[str, Any]) -> None:
    """IsClosed, IsWon and the default Probability follow the stage, as in an org."""
    stage = schema.STAGE_BY_NAME.get(record.get("StageName") or "")
    if stage is None:
        return
    record["IsClosed"] = stage.is_closed
    record["IsWon"] = stage.is_won
    if "StageName" in values and "Probability" not in values:
        record["Probability"] = Decimal(stage.probability)


class OpportunityStore:
    """Thread-safe record table; callers hold :attr:`lock` across multi-step operations."""

    def __init__(self, org_name: str, clock: Clock, is_locked: LockCheck) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._ids = IdFactory(schema.KEY_PREFIX, org_name)
        self._is_locked = is_locked
        self.records: dict[str, dict[str, Any]] = {}
        self._by_ext: dict[str, str] = {}
        #: (SystemModstamp, Id) of every record in order, as Salesforce indexes it: a query
        #: bounded below on SystemModstamp reads only what is newer, not the whole table.
        self._by_stamp: list[tuple[datetime, str]] = []
        self._deleted: set[str] = set()
        self.delete_log: list[tuple[str, datetime]] = []
        self._undo: list[tuple[str, dict[str, Any] | None]] = []
        self._depth = 0

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Savepoint]:
        """Open a scope whose writes can be undone with :meth:`rollback`."""
        with self.lock:
            self._depth += 1
            try:
                yield Savepoint(len(self._undo), len(self.delete_log))
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._undo.clear()

    def rollback(self, point: Savepoint) -> None:
        with self.lock:
            while len(self._undo) > point.undo_len:
                record_id, old = self._undo.pop()
                self._put(record_id, old)
            del self.delete_log[point.log_len :]

    def _put(self, record_id: str, new: dict[str, Any] | None) -> None:
        current = self.records.get(record_id)
        if current is not None and not current["IsDeleted"]:
            key = _key(current.get(EXT))
            if key is not None and self._by_ext.get(key) == record_id:
                del self._by_ext[key]
        if current is not None:
            entry = (current["SystemModstamp"], record_id)
            at = bisect.bisect_left(self._by_stamp, entry)
            if at < len(self._by_stamp) and self._by_stamp[at] == entry:
                del self._by_stamp[at]
            self._deleted.discard(record_id)
        if new is None:
            self.records.pop(record_id, None)
            return
        bisect.insort(self._by_stamp, (new["SystemModstamp"], record_id))
        if new["IsDeleted"]:
            self._deleted.add(record_id)
        self.records[record_id] = new
        key = _key(new.get(EXT))
        if key is not None and not new["IsDeleted"]:
            self._by_ext[key] = record_id

    def _store(self, record_id: str, new: dict[str, Any] | None) -> None:
        if self._depth:
            self._undo.append((record_id, self.records.get(record_id)))
        self._put(record_id, new)

    # -- reads ---------------------------------------------------------------------------------
    def get(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def by_external_id(self, value: str) -> Record | None:
        key = _key(value)
        found = self._by_ext.get(key) if key is not None else None
        return self.records.get(found) if found is not None else None

    def rows(self, *, include_deleted: bool) -> list[Record]:
        self.purge()
        if include_deleted:
            return list(self.records.values())
        return [r for r in self.records.values() if not r["IsDeleted"]]

    def rows_since(self, since: datetime, *, include_deleted: bool) -> list[Record]:
        """Records whose SystemModstamp is at or after ``since``, oldest first."""
        self.purge()
        start = bisect.bisect_left(self._by_stamp, (since, ""))
        found: list[Record] = [self.records[rid] for _, rid in self._by_stamp[start:]]
        return found if include_deleted else [r for r in found if not r["IsDeleted"]]

    def purge(self) -> None:
        """Empty the recycle bin of records deleted more than 15 days ago."""
        horizon = self._clock.now() - timedelta(days=RECYCLE_BIN_DAYS)
        stale = [
            rid
            for rid in self._deleted
            if self.records[rid]["SystemModstamp"] < horizon
        ]
        for rid in stale:
            self._store(rid, None)

    # -- writes --------------------------------------------------------------------------------
    def now(self) -> datetime:
        return truncate_ms(self._clock.now())

    def create(self, values: Mapping[str, Any], user_id: str) -> Record:
        self._check_unique(values.get(EXT), None)
        if self._is_locked(None, values.get(EXT)):
            raise RefusedRecordError(RecordProblem("UNABLE_TO_LOCK_ROW", LOCK_MESSAGE))
        now = self.now()
        record = _blank()
        record.update(values)
        record_id = self._ids.next()
        record.update(
            Id=record_id,
            CreatedDate=now,
            CreatedById=user_id,
            LastModifiedDate=now,
            LastModifiedById=user_id,
            SystemModstamp=now,
        )
        _derive(record, {k: v for k, v in values.items() if k != "Probability" or v is not None})
        self._store(record_id, record)
        return record

    def update(self, record_id: str, values: Mapping[str, Any], user_id: str) -> Record:
        current = self._live(record_id)
        if EXT in values:
            self._check_unique(values[EXT], record_id)
        if self._is_locked(record_id, current.get(EXT)):
            raise RefusedRecordError(RecordProblem("UNABLE_TO_LOCK_ROW", LOCK_MESSAGE))
        now = self.now()
        record = dict(current)
        record.update(values)
        record.update(LastModifiedDate=now, LastModifiedById=user_id, SystemModstamp=now)
        _derive(record, values)
        self._store(record_id, record)
        return record

    def delete(self, record_id: str, user_id: str) -> Record:
        current = self._live(record_id)
        if self._is_locked(record_id, current.get(EXT)):
            raise RefusedRecordError(RecordProblem("UNABLE_TO_LOCK_ROW", LOCK_MESSAGE))
        now = self.now()
        record = dict(current)
        record.update(
            IsDeleted=True, LastModifiedDate=now, LastModifiedById=user_id, SystemModstamp=now
        )
        self._store(record_id, record)
        self.delete_log.append((record_id, now))
        return record

    def insert_trusted(self, values: Mapping[str, Any], user_id: str) -> None:
        """Bulk-load path for seeding: values are known-good, so no checks run."""
        now = self.now()
        record = _blank()
        record.update(values)
        record_id = self._ids.next()
        record.update(
            Id=record_id,
            CreatedDate=now,
            CreatedById=user_id,
            LastModifiedDate=now,
            LastModifiedById=user_id,
            SystemModstamp=now,
        )
        _derive(record, record)
        self._put(record_id, record)

    def clear(self) -> None:
        with self.lock:
            self.records.clear()
            self._by_ext.clear()
            self._by_stamp.clear()
            self._deleted.clear()
            self.delete_log.clear()
            self._undo.clear()

    def _live(self, record_id: str) -> Record:
        current = self.records.get(record_id)
        if current is None:
            raise RefusedRecordError(
                RecordProblem("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            )
        if current["IsDeleted"]:
            raise RefusedRecordError(RecordProblem("ENTITY_IS_DELETED", "entity is deleted"))
        return current

    def _check_unique(self, value: Any, own_id: str | None) -> None:
        key = _key(value)
        if key is None:
            return
        holder = self._by_ext.get(key)
        if holder is not None and holder != own_id:
            raise RefusedRecordError(
                RecordProblem(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {EXT} duplicates value on record with id: {holder}",
                    (EXT,),
                )
            )
