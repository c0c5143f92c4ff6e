"""Vendor errors translated into the taxonomy of :mod:`channel_sync.errors`.

Each connector declares a table of rules (HTTP status, vendor error code, message pattern ->
our error class) and translates every vendor failure through it at the boundary. The HTTP
status alone lies: Salesforce reports an exhausted daily allowance as 403 and HubSpot uses the
same 429 for a ten-second burst and for the daily cap, so rules look at the code and message
too. The first matching rule wins; a status-class fallback covers anything the table misses.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from channel_sync.errors import (
    AuthError,
    ChannelSyncError,
    FatalError,
    RateLimitedError,
    RecordError,
    RetriableError,
)

_MAX_MESSAGE = 500


@dataclass(frozen=True, slots=True)
class VendorError:
    """The facts of one vendor failure, extracted from whatever shape the vendor used.

    ``status`` is ``None`` for per-record errors inside a successful batch response.
    """

    status: int | None
    code: str | None
    message: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """One row of a vendor error table; unset columns match anything."""

    kind: type[ChannelSyncError]
    statuses: Collection[int] | None = None
    code: str | None = None
    message: re.Pattern[str] | None = None
    note: str = ""

    def matches(self, error: VendorError) -> bool:
        if self.statuses is not None and error.status not in self.statuses:
            return False
        if self.code is not None and (error.code or "").upper() != self.code.upper():
            return False
        return self.message is None or self.message.search(error.message) is not None


def rule(
    kind: type[ChannelSyncError],
    *,
    status: int | Collection[int] | None = None,
    code: str | None = None,
    message: str | None = None,
    note: str = "",
) -> ErrorRule:
    """Shorthand for table rows: ``rule(AuthError, status=401, code="INVALID_SESSION_ID")``."""
    statuses = (status,) if isinstance(status, int) else status
    pattern = re.compile(message, re.IGNORECASE) if message is not None else None
    return ErrorRule(kind, statuses, code, pattern, note)


def fallback_kind(status: int | None) -> type[ChannelSyncError]:
    """What an error no rule names most likely means, judged by its status class."""
    if status is None:
        return RecordError
    if status == 401:
        return AuthError
    if status == 429:
        return RateLimitedError
    if status in (408, 425) or status >= 500:
        return RetriableError
    return FatalError


@dataclass(frozen=True, slots=True)
class ErrorTable:
    """A vendor's error table."""

    vendor: str
    rules: tuple[ErrorRule, ...]

    def kind_of(self, error: VendorError) -> type[ChannelSyncError]:
        for row in self.rules:
            if row.matches(error):
                return row.kind
        return fallback_kind(error.status)

    def classify(self, error: VendorError) -> ChannelSyncError:
        """Build our error for ``error``; the message names vendor, status and code."""
        kind = self.kind_of(error)
        text = describe(self.vendor, error)
        if issubclass(kind, RateLimitedError):
            return kind(text, retry_after=error.retry_after)
        return kind(text)


def describe(vendor: str, error: VendorError) -> str:
    """A one-line, bounded description of a vendor error (vendor messages carry no secrets)."""
    parts = [vendor]
    if error.status is not None:
        parts.append(str(error.status))
    if error.code:
        parts.append(error.code)
    message = " ".join(error.message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return f"{' '.join(parts)}: {message}" if message else " ".join(parts)
