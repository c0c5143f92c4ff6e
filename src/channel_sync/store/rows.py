"""The deals one transaction has read or written, held as plain values.

A cycle touches each deal from several repositories (records, links, outbox, failures, audit
copy the deal's partner), so a deal's row is read once per transaction and every later look-up
is a dictionary hit. Rows are read with Core statements, not ORM objects: a page of deals costs
one query and no per-row bookkeeping. The cache is emptied when a savepoint or the transaction
rolls back (see ``session_cache``), so it never outlives what it describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from channel_sync.store.errors import ConcurrentUpdateError
from channel_sync.store.session_cache import held_list, holds_writes, lookup_cache, take_held
from channel_sync.store.tables import RecordRow

RECORDS: Table = cast("Table", RecordRow.__table__)
#: The deal's document comes back as its JSON text: equal texts are equal deals, which lets a
#: validated deal be reused without parsing it again (see ``records``).
COLUMNS = (
    RECORDS.c.canonical_id,
    RECORDS.c.partner_id,
    sql_cast(RECORDS.c.data, Text).label("data"),
    RECORDS.c.version,
    RECORDS.c.created_at,
    RECORDS.c.updated_at,
    RECORDS.c.deleted_at,
)
#: One statement object for every deal's data update, so it is compiled once per process.
_UPDATE_DATA = (
    update(RECORDS)
    .where(RECORDS.c.canonical_id == bindparam("cid"), RECORDS.c.version == bindparam("expected"))
    .values(version=bindparam("version"), updated_at=bindparam("updated_at"),
            data=bindparam("data"))
)
#: Rows fetched per ``IN (...)`` query; far below every back-end's parameter limit.
CHUNK = 500
_RECORDS = "records"
_WRITES = "record_writes"


class RecordState:
    """One deal's row as this transaction knows it; ``data`` is the stored JSON text, or the
    document itself when this transaction wrote it."""

    __slots__ = ("canonical_id", "created_at", "data", "deleted_at", "partner_id", "updated_at",
                 "version")

    def __init__(  # noqa: PLR0917 - built from a result row's columns, in order
        self,
        canonical_id: str,
        partner_id: str | None,
        data: str | dict[str, Any],
        version: int,
        created_at: datetime,
        updated_at: datetime,
        deleted_at: datetime | None,
    ) -> None:
        self.canonical_id = canonical_id
        self.partner_id = partner_id
        self.data = data
        self.version = version
        self.created_at = created_at
        self.updated_at = updated_at
        self.deleted_at = deleted_at


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _held(session: Session) -> dict[str, RecordState | None]:
    return lookup_cache(session, _RECORDS)


def hold(session: Session, state: RecordState) -> RecordState:
    """Remember ``state`` for the rest of the transaction; returns it."""
    _held(session)[state.canonical_id] = state
    return state


def forget(session: Session, canonical_id: str) -> None:
    _held(session).pop(canonical_id, None)


def held_writes(session: Session) -> list[dict[str, Any]]:
    """Deal updates made in this transaction and not yet sent (see ``records``)."""
    return held_list(session, _WRITES)


def load_records(
    session: Session, canonical_ids: Iterable[str], *, lock: bool = False
) -> dict[str, RecordState]:
    """Rows of ``canonical_ids`` read from the database (``FOR UPDATE`` with ``lock`` on
    PostgreSQL) and held; absent ids are remembered as absent."""
    flush_records(session)
    held = _held(session)
    ids = sorted(set(canonical_ids))
    found: dict[str, RecordState] = {}
    connection = session.connection()
    for part in chunks(ids):
        query = select(*COLUMNS).where(RECORDS.c.canonical_id.in_(part))
        if lock:
            query = query.with_for_update()
        for row in connection.execute(query):
            state = RecordState(*row)
            held[state.canonical_id] = state
            found[state.canonical_id] = state
        for canonical_id in part:
            held.setdefault(canonical_id, None)
    return found


def record_row(session: Session, canonical_id: str) -> RecordState | None:
    """The deal's row, from what the transaction holds or one query."""
    held = _held(session)
    if canonical_id in held:
        return held[canonical_id]
    return load_records(session, [canonical_id]).get(canonical_id)


@holds_writes
def flush_records(session: Session) -> None:
    """Send the deal updates held in ``session``; every one must still find its version."""
    batch = take_held(session, _WRITES)
    if not batch:
        return
    result = session.connection().execute(_UPDATE_DATA, batch)
    if int(getattr(result, "rowcount", 0) or 0) != len(batch):
        found = dict(
            session.connection().execute(
                select(RECORDS.c.canonical_id, RECORDS.c.version).where(
                    RECORDS.c.canonical_id.in_([w["cid"] for w in batch[:CHUNK]])
                )
            ).all()
        )
        stale = next((w for w in batch if found.get(w["cid"]) != w["version"]), batch[0])
        msg = (
            f"record {stale['cid']!r} is no longer at version {stale['expected']}; "
            "re-read it and merge again"
        )
        raise ConcurrentUpdateError(msg)


def held_ids(session: Session) -> list[str]:
    """Canonical ids of the deals this transaction holds: the page or batch in hand, which the
    repositories read ahead for in one query instead of one per deal."""
    return [cid for cid, state in _held(session).items() if state is not None]


def held_partner(session: Session, canonical_id: str) -> tuple[bool, str | None]:
    """``(known, partner_id)`` of a deal from what the transaction holds, without a query."""
    state = _held(session).get(canonical_id)
    return (state is not None, None if state is None else state.partner_id)
