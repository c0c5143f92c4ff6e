"""Row lookups shared by the repositories within one transaction.

The ORM's identity map holds rows weakly, so a row a repository created and stopped referencing
is forgotten at once and the next lookup of the same deal costs a query. A cycle touches each
deal from several repositories (record, links, outbox, audit), so rows are held for the life
of the transaction: every later lookup is a dictionary hit.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from channel_sync.store.tables import Base, RecordRow

_HELD = "channel_sync_held_rows"

RowT = TypeVar("RowT", bound=Base)


def hold(session: Session, row: RowT) -> RowT:
    """Keep ``row`` alive until the session ends; returns it for chaining."""
    held: list[Base] = session.info.setdefault(_HELD, [])
    held.append(row)
    return row


def held_ids(session: Session) -> list[str]:
    """Canonical ids of the deals this transaction holds: the page or batch in hand, which the
    repositories read ahead for in one query instead of one per deal."""
    held: list[Base] = session.info.get(_HELD, [])
    return list(dict.fromkeys(row.canonical_id for row in held if isinstance(row, RecordRow)))


def record_row(session: Session, canonical_id: str) -> RecordRow | None:
    row = session.get(RecordRow, canonical_id)
    return None if row is None else hold(session, row)
