"""The one place time comes from.

Core code asks a :class:`Clock` for the time instead of calling ``datetime.now`` so tests can
freeze and skew it. Every value is time-zone aware (UTC).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            msg = "FrozenClock needs an aware datetime"
            raise ValueError(msg)
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)


_default: Clock = SystemClock()


def default_clock() -> Clock:
    return _default


def utcnow() -> datetime:
    """Shorthand for ``default_clock().now()``."""
    return _default.now()
