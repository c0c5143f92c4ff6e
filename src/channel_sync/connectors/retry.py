"""The one retry policy every connector uses.

Configured by data (:class:`RetryPolicy`), built on tenacity: capped exponential backoff with
jitter, ``Retry-After`` honoured (the wait is never shorter than the server asked for), attempts
and total time bounded, and only :class:`~channel_sync.errors.RetriableError` retried - and
only for operations the caller declares idempotent. Everything else surfaces at once. Sleep,
clock and randomness are injectable so tests run instantly and reproducibly.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tenacity import RetryCallState, Retrying, retry_if_exception

from channel_sync.clock import Clock, default_clock
from channel_sync.errors import RateLimitedError, RetriableError

log = logging.getLogger(__name__)

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How hard to try again. The defaults bound a retry chain to 8 attempts or 15 minutes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=8, ge=1, le=100)
    max_elapsed_s: float = Field(default=900.0, gt=0)
    initial_backoff_s: float = Field(default=0.5, ge=0)
    max_backoff_s: float = Field(default=60.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    #: Fraction of each backoff that is randomised (0: none, 1: "full jitter").
    jitter: float = Field(default=0.5, ge=0, le=1)
    #: A longer Retry-After is not slept through: the error surfaces so the caller can park.
    max_retry_after_s: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _backoff_order(self) -> RetryPolicy:
        if self.max_backoff_s < self.initial_backoff_s:
            msg = "max_backoff_s must be at least initial_backoff_s"
            raise ValueError(msg)
        return self

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The jittered backoff after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        return ceiling * (1.0 - self.jitter * rng.random())


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One decision to try again, reported to observers (tests, run statistics)."""

    what: str
    attempt: int
    error: BaseException
    delay_s: float


class Retrier:
    """Runs calls under a :class:`RetryPolicy`."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock or default_clock()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._on_retry = on_retry
        self.retries = 0

    def call(self, fn: Callable[[], T], *, what: str, idempotent: bool) -> T:
        """Call ``fn``, retrying retriable failures if ``idempotent``; return its result."""
        started = self._clock.now()
        policy = self.policy

        def should_retry(exc: BaseException) -> bool:
            if not idempotent or not isinstance(exc, RetriableError):
                return False
            if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
                return exc.retry_after <= policy.max_retry_after_s
            return True

        def wait(state: RetryCallState) -> float:
            delay = policy.backoff(state.attempt_number, self._rng)
            exc = state.outcome.exception() if state.outcome is not None else None
            if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            return delay

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= policy.max_attempts:
                return True
            elapsed = (self._clock.now() - started).total_seconds()
            return elapsed + state.upcoming_sleep > policy.max_elapsed_s

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            assert exc is not None
            self.retries += 1
            event = RetryEvent(what, state.attempt_number, exc, state.upcoming_sleep)
            log.info(
                "retrying %s after attempt %d in %.2fs: %s",
                what,
                event.attempt,
                event.delay_s,
                exc,
            )
            if self._on_retry is not None:
                self._on_retry(event)

        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            wait=wait,
            stop=stop,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
