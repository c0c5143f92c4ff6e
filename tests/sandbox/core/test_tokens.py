from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channel_sync.clock import FrozenClock
from channel_sync.sandbox.core import TokenBook

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_issued_token_expires_after_its_ttl() -> None:
    clock = FrozenClock(T0)
    book = TokenBook(clock, prefix="00D!")
    token = book.issue(60)
    assert token.access_token.startswith("00D!")
    assert token.expires_in(clock.now()) == 60
    assert book.check(token.access_token, clock.now()) == "ok"
    clock.advance(timedelta(seconds=60))
    assert book.check(token.access_token, clock.now()) == "expired"


def test_missing_and_unknown_tokens() -> None:
    book = TokenBook(FrozenClock(T0))
    assert book.check(None, T0) == "missing"
    assert book.check("", T0) == "missing"
    assert book.check("made-up", T0) == "invalid"


def test_static_token_lives_until_everything_is_expired() -> None:
    clock = FrozenClock(T0)
    book = TokenBook(clock)
    clock.advance(timedelta(days=365))
    assert book.check(book.static_token, clock.now()) == "ok"
    issued = book.issue(3600)
    book.expire_all()
    assert book.check(book.static_token, clock.now()) == "expired"
    assert book.check(issued.access_token, clock.now()) == "expired"
    fresh = book.issue(3600)
    assert book.check(fresh.access_token, clock.now()) == "ok"


def test_default_ttl_applies_when_none_given() -> None:
    clock = FrozenClock(T0)
    book = TokenBook(clock, default_ttl_s=30)
    token = book.issue()
    assert token.expires_at == T0 + timedelta(seconds=30)
    book.default_ttl_s = 5
    assert book.issue().expires_at == T0 + timedelta(seconds=5)


def test_refresh_tokens_are_single_use() -> None:
    clock = FrozenClock(T0)
    book = TokenBook(clock)
    first = book.issue(10, refresh=True)
    assert first.refresh_token is not None
    assert book.issue(10).refresh_token is None
    second = book.refresh(first.refresh_token)
    assert second is not None
    assert second.refresh_token not in (None, first.refresh_token)
    assert book.check(second.access_token, clock.now()) == "ok"
    assert book.refresh(first.refresh_token) is None
    assert book.refresh("never-issued") is None


def test_refresh_survives_expiry_of_access_tokens() -> None:
    book = TokenBook(FrozenClock(T0))
    issued = book.issue(10, refresh=True)
    book.expire_all()
    assert issued.refresh_token is not None
    assert book.refresh(issued.refresh_token) is not None


def test_reprs_hide_secrets() -> None:
    book = TokenBook(FrozenClock(T0))
    issued = book.issue(10, refresh=True)
    assert issued.access_token not in repr(issued)
    assert str(issued.refresh_token) not in repr(issued)
    assert book.static_token not in repr(book)


def test_restore_revives_only_the_static_token() -> None:
    book = TokenBook(FrozenClock(T0), default_ttl_s=100)
    issued = book.issue()
    book.default_ttl_s = 1
    book.expire_all()
    book.restore()
    assert book.check(book.static_token, T0) == "ok"
    assert book.check(issued.access_token, T0) == "expired"
    assert book.default_ttl_s == 100
