"""Reading every deal in the hub, a page at a time, for sweeps and reports.

Each page is its own short read transaction, so a sweep or a report over a large hub never holds
a snapshot open for long and never blocks the sync cycles writing next to it.
"""

from __future__ import annotations

from collections.abc import Iterator

from channel_sync.store import Store, StoredRecord

PAGE = 500


def iter_records(
    store: Store, *, include_deleted: bool = False, page: int = PAGE
) -> Iterator[StoredRecord]:
    """Every canonical deal in id order."""
    after: str | None = None
    while True:
        with store.read() as tx:
            ids = tx.records.ids(after=after, limit=page)
            records = tx.records.get_many(ids) if ids else {}
        if not ids:
            return
        for canonical_id in ids:
            record = records.get(canonical_id)
            if record is not None and (include_deleted or not record.is_deleted):
                yield record
        after = ids[-1]
