from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from channel_sync.clock import FrozenClock
from channel_sync.connectors.tokens import AccessToken, StaticTokenSource, TokenManager

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


class CountingSource:
    """Issues numbered tokens; slow enough that concurrent callers overlap."""

    def __init__(self, clock: FrozenClock, lifetime: timedelta, delay: float = 0.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def fetch(self) -> AccessToken:
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        now = self.clock.now()
        return AccessToken(SecretStr(f"tok-{n}"), issued_at=now, expires_at=now + self.lifetime)


def run_threads(n: int, target) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)

    def body() -> None:
        barrier.wait()
        target()

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_32_concurrent_callers_cause_exactly_one_fetch():
    clock = FrozenClock(NOW)
    source = CountingSource(clock, timedelta(minutes=30), delay=0.05)
    manager = TokenManager(source, clock=clock)
    seen: list[str] = []
    run_threads(32, lambda: seen.append(manager.token().value.get_secret_value()))
    assert source.calls == 1
    assert set(seen) == {"tok-1"}


def test_refresh_is_proactive_at_ninety_percent_of_the_lifetime():
    clock = FrozenClock(NOW)
    source = CountingSource(clock, timedelta(seconds=1800))
    manager = TokenManager(source, clock=clock)
    first = manager.token()
    assert manager.refresh_due_at(first) == NOW + timedelta(seconds=1620)
    clock.advance(timedelta(seconds=1619))
    assert manager.token() is first
    clock.advance(timedelta(seconds=1))
    second = manager.token()
    assert second is not first
    assert source.calls == 2
    # Still before the old token's expiry: a long request never runs on an expired token.
    assert clock.now() < first.expires_at  # type: ignore[operator]


def test_expiry_under_concurrency_refreshes_once_per_expiry():
    clock = FrozenClock(NOW)
    source = CountingSource(clock, timedelta(minutes=30), delay=0.02)
    manager = TokenManager(source, clock=clock)
    for round_no in range(1, 6):
        run_threads(32, manager.token)
        assert source.calls == round_no
        clock.advance(timedelta(minutes=28))


def test_a_burst_of_refusals_of_the_same_token_causes_one_fetch():
    clock = FrozenClock(NOW)
    source = CountingSource(clock, timedelta(hours=2), delay=0.01)
    manager = TokenManager(source, clock=clock)
    old = manager.token()

    def refused() -> None:
        manager.invalidate(old)
        manager.token()

    run_threads(32, refused)
    assert source.calls == 2
    # A refusal of a token that is no longer current changes nothing.
    current = manager.token()
    manager.invalidate(old)
    assert manager.token() is current


def test_default_lifetime_applies_when_the_server_gives_none():
    clock = FrozenClock(NOW)
    manager = TokenManager(
        StaticTokenSource(SecretStr("pat-1"), clock=clock),
        clock=clock,
        default_lifetime=timedelta(hours=2),
    )
    token = manager.token()
    assert manager.refresh_due_at(token) == NOW + timedelta(minutes=108)
    static = TokenManager(StaticTokenSource(SecretStr("pat-1"), clock=clock), clock=clock)
    assert static.refresh_due_at(static.token()) is None


def test_token_values_never_print():
    token = AccessToken(SecretStr("super-secret-value"), issued_at=NOW)
    assert "super-secret-value" not in repr(token)
    assert "super-secret-value" not in str(token)
    assert token.bearer() == "Bearer super-secret-value"
