"""Per-transaction look-up caches that stay correct across savepoint rollbacks.

A page touches each deal's link and failure row from several places (the page look-up, the
merge, the drain's settle); without a cache each touch is another query. The cache lives in the
session, so it ends with the transaction, and it is emptied whenever a savepoint or the
transaction rolls back, because the ORM expunges rows created inside the rolled-back scope and
a cached reference to one would then lie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_CACHES = "channel_sync_lookup_caches"
#: Writers of what the repositories hold back, in foreign-key order (deals first): each is
#: registered when its module loads, and modules load deals' first.
_FLUSHERS: list[Callable[[Session], None]] = []


def holds_writes(flush: Callable[[Session], None]) -> Callable[[Session], None]:
    """Register a repository's writer of held-back rows (a decorator)."""
    _FLUSHERS.append(flush)
    return flush


def flush_held(session: Session) -> None:
    """Send every write held back in ``session``: before a savepoint (whose rollback must not
    take them along) and before COMMIT."""
    for flush in _FLUSHERS:
        flush(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush_held(session)


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:  # noqa: ARG001
    caches: dict[str, dict[Any, Any]] | None = session.info.get(_CACHES)
    if caches is not None:
        for cache in caches.values():
            cache.clear()


def lookup_cache(session: Session, name: str) -> dict[Any, Any]:
    """The named cache of ``session``, created (and wired to rollbacks) on first use."""
    caches: dict[str, dict[Any, Any]] | None = session.info.get(_CACHES)
    if caches is None:
        caches = {}
        session.info[_CACHES] = caches
        event.listen(session, "after_soft_rollback", _forget)
    return caches.setdefault(name, {})


def held_list(session: Session, name: str) -> list[Any]:
    """The named list of ``session`` (rows a repository holds back until its next flush),
    created on first use and emptied, like every cache here, when the transaction rolls back."""
    holder = lookup_cache(session, name)
    rows: list[Any] | None = holder.get(name)
    if rows is None:
        rows = holder[name] = []
    return rows


def take_held(session: Session, name: str) -> list[Any]:
    """Empty the named list of ``session`` and return what it held (the batch to send)."""
    rows = held_list(session, name)
    batch = list(rows)
    rows.clear()
    return batch


def mark_inserted(session: Session, canonical_id: str) -> None:
    """Note a deal created in this transaction: nothing outside it can point at the deal yet
    (links and outbox entries reference deals by foreign key), so look-ups for it may skip
    the database."""
    lookup_cache(session, "inserted_records")[canonical_id] = True


def inserted_here(session: Session, canonical_id: str) -> bool:
    return canonical_id in lookup_cache(session, "inserted_records")
