"""API allowances: a daily quota and an optional rolling burst window.

Both CRMs meter integrations this way (Salesforce: a rolling 24 h total; HubSpot: a daily total
and a ten-second burst limit, plus a separate per-second limit for search). The allowance only
counts and decides; each backend turns a :class:`Refusal` into its own error shape.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal


@dataclass(frozen=True)
class Refusal:
    kind: Literal["burst", "daily"]
    retry_after_s: float


class Allowance:
    """Counts API calls of one instance against its limits (thread-safe).

    Refused calls are not counted: the CRMs do not bill a request they turned away for quota.
    The daily window resets at midnight UTC.
    """

    def __init__(
        self,
        daily_limit: int = 100_000,
        burst_limit: int | None = None,
        burst_window_s: float = 10.0,
    ) -> None:
        self._lock = threading.Lock()
        self.daily_limit = daily_limit
        self.burst_limit = burst_limit
        self.burst_window_s = burst_window_s
        self.used = 0
        self._recent: deque[datetime] = deque()
        self._day: datetime | None = None
        self._initial = (daily_limit, burst_limit, burst_window_s)

    def configure(
        self,
        *,
        daily_limit: int | None = None,
        burst_limit: int | None = None,
        burst_window_s: float | None = None,
        clear_burst_limit: bool = False,
    ) -> None:
        with self._lock:
            if daily_limit is not None:
                self.daily_limit = daily_limit
            if burst_limit is not None:
                self.burst_limit = burst_limit
            if clear_burst_limit:
                self.burst_limit = None
            if burst_window_s is not None:
                self.burst_window_s = burst_window_s

    def consume(self, now: datetime, *, burst: bool = True) -> Refusal | None:
        """Count one call at ``now``, or say why it is refused (and then count nothing).

        ``burst=False`` checks and counts the daily quota only, for calls the CRM meters by a
        separate window (HubSpot search has its own per-second limit).
        """
        with self._lock:
            self._roll_day(now)
            if self.used >= self.daily_limit:
                midnight = _next_midnight(now)
                return Refusal("daily", max((midnight - now).total_seconds(), 0.0))
            if burst and self.burst_limit is not None:
                self._trim(now)
                if len(self._recent) >= self.burst_limit:
                    oldest = self._recent[0]
                    wait = (oldest + timedelta(seconds=self.burst_window_s) - now).total_seconds()
                    return Refusal("burst", max(wait, 0.0))
                self._recent.append(now)
            self.used += 1
            return None

    def remaining(self) -> int:
        with self._lock:
            return max(self.daily_limit - self.used, 0)

    def burst_remaining(self, now: datetime) -> int | None:
        """Calls left in the current burst window, or None when there is no burst limit."""
        with self._lock:
            if self.burst_limit is None:
                return None
            self._trim(now)
            return max(self.burst_limit - len(self._recent), 0)

    def reset_usage(self) -> None:
        with self._lock:
            self.used = 0
            self._recent.clear()
            self._day = None

    def restore_limits(self) -> None:
        """Back to the limits the allowance was created with."""
        with self._lock:
            self.daily_limit, self.burst_limit, self.burst_window_s = self._initial

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "daily_limit": self.daily_limit,
                "used": self.used,
                "remaining": max(self.daily_limit - self.used, 0),
                "burst_limit": self.burst_limit,
                "burst_window_s": self.burst_window_s,
            }

    def _trim(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=self.burst_window_s)
        while self._recent and self._recent[0] <= horizon:
            self._recent.popleft()

    def _roll_day(self, now: datetime) -> None:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if self._day is not None and day > self._day:
            self.used = 0
        self._day = day if self._day is None or day > self._day else self._day


def _next_midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
