"""Access and refresh tokens of one emulated instance.

Tokens are random, opaque strings; the book remembers when each access token expires and lets a
refresh token be used exactly once, which is how both CRMs rotate them and what a connector's
refresh logic must cope with.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from channel_sync.clock import Clock, SystemClock

TokenState = Literal["ok", "missing", "invalid", "expired"]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime | None
    refresh_token: str | None = None

    def expires_in(self, now: datetime) -> int | None:
        """Whole seconds left, the way OAuth token responses report ``expires_in``."""
        if self.expires_at is None:
            return None
        return max(int((self.expires_at - now).total_seconds()), 0)

    def __repr__(self) -> str:
        has_refresh = self.refresh_token is not None
        return f"IssuedToken(expires_at={self.expires_at!r}, refresh={has_refresh})"


class TokenBook:
    """Issues and checks tokens (thread-safe).

    ``static_token`` never expires on its own (like a HubSpot private-app token or a session a
    test hands to simple-salesforce directly); :meth:`expire_all` expires it too, so tests can
    drive a connector's re-authentication path.
    """

    def __init__(
        self, clock: Clock | None = None, *, prefix: str = "", default_ttl_s: float = 7200.0
    ) -> None:
        self._lock = threading.Lock()
        self._clock: Clock = clock or SystemClock()
        self._prefix = prefix
        self.default_ttl_s = default_ttl_s
        self._initial_ttl_s = default_ttl_s
        self._access: dict[str, datetime | None] = {}
        self._refresh: set[str] = set()
        self._expired: set[str] = set()
        self.static_token = self._new_access(None)

    def issue(self, ttl_s: float | None = None, refresh: bool = False) -> IssuedToken:
        """A new access token living ``ttl_s`` seconds (``default_ttl_s`` when None)."""
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        expires_at = self._clock.now() + timedelta(seconds=ttl)
        with self._lock:
            access = self._new_access(expires_at)
            refresh_token = None
            if refresh:
                refresh_token = self._prefix + secrets.token_urlsafe(32)
                self._refresh.add(refresh_token)
        return IssuedToken(access, expires_at, refresh_token)

    def check(self, token: str | None, now: datetime) -> TokenState:
        if not token:
            return "missing"
        with self._lock:
            if token in self._expired:
                return "expired"
            if token not in self._access:
                return "invalid"
            expires_at = self._access[token]
        if expires_at is not None and now >= expires_at:
            return "expired"
        return "ok"

    def refresh(self, refresh_token: str, ttl_s: float | None = None) -> IssuedToken | None:
        """Swap a refresh token for a new pair; the old refresh token is spent either way."""
        with self._lock:
            if refresh_token not in self._refresh:
                return None
            self._refresh.discard(refresh_token)
        return self.issue(ttl_s, refresh=True)

    def expire_all(self) -> None:
        """Expire every access token issued so far (refresh tokens stay usable)."""
        with self._lock:
            self._expired.update(self._access)

    def restore(self) -> None:
        """Make ``static_token`` valid again and restore the default lifetime.

        Tokens issued by the OAuth endpoints stay as they are; only the instance's own
        long-lived token comes back, so a test that expired it does not poison the next one.
        """
        with self._lock:
            self._expired.discard(self.static_token)
            self.default_ttl_s = self._initial_ttl_s

    def _new_access(self, expires_at: datetime | None) -> str:
        token = self._prefix + secrets.token_urlsafe(32)
        self._access[token] = expires_at
        return token

    def __repr__(self) -> str:
        return f"TokenBook(tokens={len(self._access)}, default_ttl_s={self.default_ttl_s})"
