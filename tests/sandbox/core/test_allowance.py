from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channel_sync.sandbox.core import Allowance

T0 = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


def test_daily_limit_refuses_without_counting_until_midnight() -> None:
    allowance = Allowance(daily_limit=3)
    assert [allowance.consume(T0) for _ in range(3)] == [None, None, None]
    refusal = allowance.consume(T0)
    assert refusal is not None
    assert refusal.kind == "daily"
    assert refusal.retry_after_s == pytest.approx(3600)
    assert allowance.used == 3
    assert allowance.remaining() == 0
    assert allowance.consume(T0 + timedelta(hours=1, seconds=1)) is None
    assert allowance.used == 1


def test_burst_window_rolls() -> None:
    allowance = Allowance(daily_limit=100, burst_limit=2, burst_window_s=10)
    assert allowance.consume(T0) is None
    assert allowance.consume(T0 + timedelta(seconds=4)) is None
    assert allowance.burst_remaining(T0 + timedelta(seconds=4)) == 0
    refusal = allowance.consume(T0 + timedelta(seconds=6))
    assert refusal is not None
    assert refusal.kind == "burst"
    assert refusal.retry_after_s == pytest.approx(4)
    assert allowance.used == 2
    assert allowance.consume(T0 + timedelta(seconds=10)) is None
    assert allowance.burst_remaining(T0 + timedelta(seconds=10)) == 0
    assert allowance.burst_remaining(T0 + timedelta(seconds=14)) == 1


def test_daily_refusal_takes_precedence_over_burst() -> None:
    allowance = Allowance(daily_limit=1, burst_limit=1)
    assert allowance.consume(T0) is None
    refusal = allowance.consume(T0)
    assert refusal is not None
    assert refusal.kind == "daily"


def test_configure_and_reset() -> None:
    allowance = Allowance(daily_limit=5)
    assert allowance.burst_remaining(T0) is None
    allowance.consume(T0)
    allowance.configure(daily_limit=1, burst_limit=3, burst_window_s=1.0)
    assert allowance.consume(T0) is not None
    assert allowance.to_json() == {
        "daily_limit": 1,
        "used": 1,
        "remaining": 0,
        "burst_limit": 3,
        "burst_window_s": 1.0,
    }
    allowance.reset_usage()
    assert allowance.remaining() == 1
    allowance.configure(clear_burst_limit=True)
    assert allowance.burst_limit is None


def test_restore_limits_returns_to_construction_values() -> None:
    allowance = Allowance(daily_limit=10, burst_limit=4, burst_window_s=2.0)
    allowance.configure(daily_limit=1, clear_burst_limit=True, burst_window_s=9.0)
    allowance.restore_limits()
    assert (allowance.daily_limit, allowance.burst_limit, allowance.burst_window_s) == (10, 4, 2.0)


def test_calls_outside_the_burst_window_count_daily_only() -> None:
    allowance = Allowance(daily_limit=3, burst_limit=1)
    assert allowance.consume(T0) is None
    assert allowance.consume(T0, burst=False) is None
    assert allowance.burst_remaining(T0) == 0
    assert allowance.used == 2
    assert allowance.consume(T0, burst=False) is None
    refusal = allowance.consume(T0, burst=False)
    assert refusal is not None
    assert refusal.kind == "daily"
