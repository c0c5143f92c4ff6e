"""Client-side pacing: stay under a burst limit instead of bouncing off it.

:class:`SlidingWindowLimiter` lets at most ``max_calls`` requests start in any window of
``window_s`` seconds (with a small safety margin for network jitter between our clock and the
server's), and learns the real limit from response headers. :class:`ApiBudget` tracks a daily
allowance from the same headers and refuses to spend the last of it: an exhausted allowance
raises :class:`~channel_sync.errors.BudgetExhaustedError` *before* a request is wasted, and the
engine parks the connection until the reset.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from channel_sync.connectors.protocol import ApiUsage
from channel_sync.errors import BudgetExhaustedError


class SlidingWindowLimiter:
    """At most ``max_calls`` request starts per ``window_s`` seconds, thread-safe."""

    def __init__(
        self,
        max_calls: int,
        window_s: float,
        *,
        margin_s: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or window_s <= 0:
            msg = "a limiter needs max_calls >= 1 and a positive window"
            raise ValueError(msg)
        self.max_calls = max_calls
        self.window_s = window_s
        self._margin = margin_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._hold_until = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> float:
        """Block until a request may start; return how long this call waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._monotonic()
                horizon = now - self.window_s - self._margin
                while self._starts and self._starts[0] <= horizon:
                    self._starts.popleft()
                delay = self._hold_until - now
                if len(self._starts) >= self.max_calls:
                    delay = max(delay, self._starts[0] - horizon)
                if delay <= 0:
                    self._starts.append(now)
                    self.waited_s += waited
                    return waited
            self._sleep(delay)
            waited += delay

    def observe(
        self,
        *,
        max_calls: int | None = None,
        window_s: float | None = None,
        remaining: int | None = None,
    ) -> None:
        """Adopt the limit the server advertised; hold back when it says nothing remains."""
        with self._lock:
            if max_calls is not None and max_calls >= 1:
                self.max_calls = max_calls
            if window_s is not None and window_s > 0:
                self.window_s = window_s
            if remaining is not None and remaining <= 0:
                self._hold_until = max(self._hold_until, self._monotonic() + self.window_s)

    def hold(self, seconds: float) -> None:
        """Start nothing for ``seconds`` (after a 429 with Retry-After)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._monotonic() + max(0.0, seconds))


class ApiBudget:
    """A daily (or rolling 24 h) allowance as the server reports it.

    ``reserve`` calls are kept back for an admin's own tools. Once the allowance is seen
    exhausted, calls are refused without touching the network for ``recheck_s`` seconds;
    after that one probing call is allowed, since the allowance may have reset.
    """

    def __init__(
        self,
        *,
        vendor: str,
        reserve: int = 0,
        recheck_s: float = 900.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vendor = vendor
        self._reserve = max(0, reserve)
        self._recheck = recheck_s
        self._monotonic = monotonic
        self._usage = ApiUsage()
        self._exhausted_at: float | None = None
        self._lock = threading.Lock()

    @property
    def usage(self) -> ApiUsage:
        return self._usage

    def observe(self, usage: ApiUsage) -> None:
        with self._lock:
            self._usage = usage
            remaining = usage.remaining
            if remaining is not None and remaining <= self._reserve:
                if self._exhausted_at is None:
                    self._exhausted_at = self._monotonic()
            else:
                self._exhausted_at = None

    def mark_exhausted(self) -> None:
        """The server refused a call for the daily allowance."""
        with self._lock:
            self._exhausted_at = self._monotonic()

    def check(self) -> None:
        """Raise :class:`BudgetExhaustedError` instead of spending a call that cannot succeed."""
        with self._lock:
            if self._exhausted_at is None:
                return
            if self._monotonic() - self._exhausted_at >= self._recheck:
                self._exhausted_at = None
                return
            usage = self._usage
        detail = (
            f" ({usage.used}/{usage.limit} used)"
            if usage.used is not None and usage.limit is not None
            else ""
        )
        msg = f"{self._vendor} API allowance exhausted{detail}; waiting for the reset"
        raise BudgetExhaustedError(msg)
