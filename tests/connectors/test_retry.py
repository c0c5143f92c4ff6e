from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from channel_sync.clock import FrozenClock
from channel_sync.connectors.retry import Retrier, RetryEvent, RetryPolicy, parse_retry_after
from channel_sync.errors import (
    AuthError,
    BudgetExhaustedError,
    ChannelSyncError,
    ConfigurationError,
    FatalError,
    RateLimitedError,
    RecordError,
    RetriableError,
)

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


class Harness:
    """A retrier whose sleeps move a frozen clock, recording every wait."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.clock = FrozenClock(NOW)
        self.sleeps: list[float] = []
        self.events: list[RetryEvent] = []
        self.retrier = Retrier(
            policy or RetryPolicy(),
            sleep=self.sleep,
            clock=self.clock,
            rng=random.Random(7),
            on_retry=self.events.append,
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


def failing(errors: list[BaseException], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    calls = [0]

    def fn() -> str:
        calls[0] += 1
        if errors:
            raise errors.pop(0)
        return result

    return fn, calls


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("3", NOW) == 3.0
    assert parse_retry_after(" 1.5 ", NOW) == 1.5
    assert parse_retry_after("-4", NOW) == 0.0
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == pytest.approx(90.0)
    earlier = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("nan", NOW) is None


def test_retriable_errors_are_retried_until_success():
    h = Harness()
    fn, calls = failing([RetriableError("503"), RetriableError("timeout")])
    assert h.retrier.call(fn, what="read", idempotent=True) == "ok"
    assert calls[0] == 3
    assert len(h.sleeps) == 2
    assert h.retrier.retries == 2
    assert [e.attempt for e in h.events] == [1, 2]


@pytest.mark.parametrize(
    "error",
    [
        RecordError("bad picklist"),
        AuthError("invalid_grant"),
        BudgetExhaustedError("daily"),
        ConfigurationError("no such field"),
        FatalError("bug"),
        ValueError("not ours"),
    ],
)
def test_non_retriable_errors_are_never_retried(error: BaseException):
    h = Harness()
    fn, calls = failing([error])
    with pytest.raises(type(error)):
        h.retrier.call(fn, what="write", idempotent=True)
    assert calls[0] == 1
    assert h.sleeps == []


def test_non_idempotent_operations_are_never_retried():
    h = Harness()
    fn, calls = failing([RetriableError("reset by peer")])
    with pytest.raises(RetriableError):
        h.retrier.call(fn, what="create", idempotent=False)
    assert calls[0] == 1


def test_attempts_are_bounded_and_the_last_error_surfaces():
    h = Harness(RetryPolicy(max_attempts=4, initial_backoff_s=0.1, max_backoff_s=1))
    errors: list[BaseException] = [RetriableError(f"fail {n}") for n in range(10)]
    fn, calls = failing(errors)
    with pytest.raises(RetriableError, match="fail 3"):
        h.retrier.call(fn, what="read", idempotent=True)
    assert calls[0] == 4


def test_total_time_is_bounded():
    policy = RetryPolicy(
        max_attempts=50, max_elapsed_s=10, initial_backoff_s=2, max_backoff_s=4, jitter=0
    )
    h = Harness(policy)
    fn, calls = failing([RetriableError("x") for _ in range(50)])
    with pytest.raises(RetriableError):
        h.retrier.call(fn, what="read", idempotent=True)
    assert sum(h.sleeps) <= 10
    assert calls[0] < 50


def test_retry_after_is_a_floor_for_the_wait():
    h = Harness(RetryPolicy(initial_backoff_s=0.1, max_backoff_s=0.2))
    fn, _ = failing([RateLimitedError("429", retry_after=7.0), RateLimitedError("429")])
    assert h.retrier.call(fn, what="search", idempotent=True) == "ok"
    assert h.sleeps[0] >= 7.0
    assert h.sleeps[1] <= 0.2


def test_a_retry_after_beyond_the_policy_surfaces_instead_of_sleeping():
    h = Harness(RetryPolicy(max_retry_after_s=60))
    fn, calls = failing([RateLimitedError("429", retry_after=3600.0)])
    with pytest.raises(RateLimitedError) as info:
        h.retrier.call(fn, what="search", idempotent=True)
    assert info.value.retry_after == 3600.0
    assert calls[0] == 1
    assert h.sleeps == []


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(initial_backoff_s=1, max_backoff_s=8, multiplier=2, jitter=0.5)
    rng = random.Random(3)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        values = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling * 0.5 <= v <= ceiling for v in values)
        assert max(values) - min(values) > 0


def test_policy_is_validated_data():
    assert RetryPolicy.model_validate({"max_attempts": 3}).max_attempts == 3
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate({"max_attempts": 0})
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate({"initial_backoff_s": 5, "max_backoff_s": 1})
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate({"retries": 3})


def test_errors_keep_their_taxonomy_branch_through_retries():
    h = Harness(RetryPolicy(max_attempts=2, initial_backoff_s=0))
    fn, _ = failing([RateLimitedError("a", retry_after=0.0), RateLimitedError("b", 0.0)])
    with pytest.raises(ChannelSyncError) as info:
        h.retrier.call(fn, what="x", idempotent=True)
    assert isinstance(info.value, RateLimitedError)
