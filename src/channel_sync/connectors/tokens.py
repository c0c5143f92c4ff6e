"""Access tokens with proactive, single-flight refresh.

A refresh token may be single-use (Salesforce rotation), so two threads refreshing at once can
lock a connection out for good. :class:`TokenManager` therefore lets exactly one caller fetch a
new token per expiry while the others wait for it, and refreshes *before* the token runs out
(at 90% of its lifetime by default) so a long sync never stalls on a 401 mid-run. A token the
server refused is invalidated only if it is still the current one, so a burst of 401s from
requests that used the same old token causes one refresh, not one per request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr

from channel_sync.clock import Clock, default_clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and what the server said about it; the value never prints."""

    value: SecretStr
    issued_at: datetime
    expires_at: datetime | None = None
    instance_url: str | None = None

    def bearer(self) -> str:
        """The ``Authorization`` header value (only ever handed to the HTTP layer)."""
        return f"Bearer {self.value.get_secret_value()}"


class TokenSource(Protocol):
    """Obtains a fresh token: a login, a JWT assertion, or a refresh-token grant."""

    def fetch(self) -> AccessToken:
        """Return a new token; raise :class:`~channel_sync.errors.AuthError` if refused."""
        ...


class StaticTokenSource:
    """A long-lived token (HubSpot private app, a pre-issued Salesforce session)."""

    def __init__(self, token: SecretStr, *, clock: Clock | None = None) -> None:
        self._token = token
        self._clock = clock or default_clock()

    def fetch(self) -> AccessToken:
        return AccessToken(self._token, issued_at=self._clock.now())


class TokenManager:
    """The current token of one connection, refreshed once per expiry whatever the concurrency."""

    def __init__(
        self,
        source: TokenSource,
        *,
        clock: Clock | None = None,
        refresh_fraction: float = 0.9,
        default_lifetime: timedelta | None = None,
    ) -> None:
        if not 0 < refresh_fraction <= 1:
            msg = "refresh_fraction must be in (0, 1]"
            raise ValueError(msg)
        self._source = source
        self._clock = clock or default_clock()
        self._fraction = refresh_fraction
        self._default_lifetime = default_lifetime
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetches = 0

    def token(self) -> AccessToken:
        """A token that is not due for refresh; fetches one if needed (single-flight)."""
        current = self._token
        if current is not None and not self._due(current):
            return current
        with self._lock:
            current = self._token
            if current is None or self._due(current):
                current = self._source.fetch()
                self.fetches += 1
                self._token = current
                log.debug("obtained a new access token (fetch %d)", self.fetches)
            return current

    def invalidate(self, refused: AccessToken) -> None:
        """Forget ``refused`` if it is still current, so the next caller fetches a new one."""
        with self._lock:
            if self._token is refused:
                self._token = None

    def refresh_due_at(self, token: AccessToken) -> datetime | None:
        """When ``token`` will be refreshed proactively (``None``: only when refused)."""
        expires = token.expires_at
        if expires is None and self._default_lifetime is not None:
            expires = token.issued_at + self._default_lifetime
        if expires is None:
            return None
        return token.issued_at + (expires - token.issued_at) * self._fraction

    def _due(self, token: AccessToken) -> bool:
        due = self.refresh_due_at(token)
        return due is not None and self._clock.now() >= due
