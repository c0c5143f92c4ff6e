"""Per-connection read position: the ``(modstamp, id)`` high-water mark and connector extras.

Saved only inside the cycle's unit of work, with the data it covers, so a crash can never leave
the cursor ahead of the last durable write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc_or_none
from channel_sync.store.tables import CursorRow


@dataclass(frozen=True, slots=True)
class CursorState:
    """``extras`` is JSON the connector owns (page tokens, delete-log positions, replay ids)."""

    modstamp: datetime | None = None
    last_id: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


class CursorRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def get(self, connection: str) -> CursorState | None:
        row = self._session.get(CursorRow, connection)
        if row is None:
            return None
        return CursorState(
            modstamp=row.modstamp,
            last_id=row.last_id,
            extras=dict(row.extras),
            updated_at=row.updated_at,
        )

    def save(self, connection: str, cursor: CursorState) -> CursorState:
        row = self._session.get(CursorRow, connection)
        now = self._clock.now()
        if row is None:
            row = CursorRow(connection=connection)
            self._session.add(row)
        row.modstamp = as_utc_or_none(cursor.modstamp)
        row.last_id = cursor.last_id
        row.extras = dict(cursor.extras)
        row.updated_at = now
        self._session.flush()
        return CursorState(
            modstamp=row.modstamp, last_id=row.last_id, extras=dict(row.extras), updated_at=now
        )

    def reset(self, connection: str) -> bool:
        """Forget the position (the next cycle reads everything: a full reconciliation)."""
        row = self._session.get(CursorRow, connection)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True
