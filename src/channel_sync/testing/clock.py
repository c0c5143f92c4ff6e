"""A clock for conformance runs: real time, until a test freezes or moves it.

Sandboxes and connectors share one clock, so a test can make many writes land on one modstamp
(freeze), jump past a look-back window or a token lifetime (advance), and otherwise let time run
so request timings in the ledger are real (Retry-After checks need that).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class SteerableClock:
    """``channel_sync.clock.Clock`` that runs with wall time plus an offset, or stands still."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta
            if self._frozen is not None:
                self._frozen += delta

    @contextmanager
    def frozen(self) -> Iterator[datetime]:
        """Stand still (at the current time) for the duration of the block."""
        with self._lock:
            real = datetime.now(UTC)
            self._frozen = real + self._offset
            when = self._frozen
        try:
            yield when
        finally:
            with self._lock:
                assert self._frozen is not None
                # Time resumes from where it stood, never jumping back.
                self._offset = max(self._offset, self._frozen - datetime.now(UTC))
                self._frozen = None
