from __future__ import annotations

import bisect
import threading
import time

import pytest

from channel_sync.connectors.protocol import ApiUsage
from channel_sync.connectors.ratelimit import ApiBudget, SlidingWindowLimiter
from channel_sync.errors import BudgetExhaustedError


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    return max(
        (bisect.bisect_left(starts, s + window) - i for i, s in enumerate(starts)), default=0
    )


def test_never_more_than_the_burst_in_any_window_and_close_to_the_allowed_rate():
    t = FakeTime()
    limiter = SlidingWindowLimiter(100, 10.0, margin_s=0.05, monotonic=t.monotonic, sleep=t.sleep)
    starts = []
    for _ in range(450):
        limiter.acquire()
        starts.append(t.now)
    assert max_in_window(starts, 10.0) <= 100
    elapsed = starts[-1] - starts[0]
    # 450 calls at 100 per 10 s need just over 40 s; pacing must not waste more than 10%.
    assert 40.0 <= elapsed <= 44.0


def test_server_advertised_limits_are_adopted():
    t = FakeTime()
    limiter = SlidingWindowLimiter(100, 10.0, monotonic=t.monotonic, sleep=t.sleep)
    limiter.observe(max_calls=5, window_s=1.0)
    starts = []
    for _ in range(20):
        limiter.acquire()
        starts.append(t.now)
    assert max_in_window(starts, 1.0) <= 5


def test_nothing_remaining_holds_back_for_a_window():
    t = FakeTime()
    limiter = SlidingWindowLimiter(100, 10.0, monotonic=t.monotonic, sleep=t.sleep)
    limiter.acquire()
    limiter.observe(remaining=0)
    waited = limiter.acquire()
    assert waited >= 10.0


def test_hold_after_retry_after():
    t = FakeTime()
    limiter = SlidingWindowLimiter(5, 1.0, monotonic=t.monotonic, sleep=t.sleep)
    limiter.hold(3.5)
    assert limiter.acquire() == pytest.approx(3.5)


def test_real_threads_respect_the_window():
    limiter = SlidingWindowLimiter(5, 0.2, margin_s=0.01)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(starts) == 30
    assert max_in_window(starts, 0.2) <= 5


def test_budget_refuses_once_exhausted_and_probes_after_the_recheck_interval():
    t = FakeTime()
    budget = ApiBudget(vendor="Salesforce", reserve=10, recheck_s=60, monotonic=t.monotonic)
    budget.observe(ApiUsage(used=500, limit=1000))
    budget.check()
    budget.observe(ApiUsage(used=995, limit=1000))
    with pytest.raises(BudgetExhaustedError, match=r"995/1000"):
        budget.check()
    t.now += 61
    budget.check()  # one probe is allowed: the rolling allowance may have freed up
    budget.mark_exhausted()
    with pytest.raises(BudgetExhaustedError):
        budget.check()
    budget.observe(ApiUsage(used=10, limit=1000))
    budget.check()
