"""The error taxonomy.

One root, and branches named for what the caller should do about the error, not for where it
came from: tell the admin, refresh credentials once, back off, wait for the rate-limit window,
quarantine one record, or stop.
"""

from __future__ import annotations


class ChannelSyncError(Exception):
    """Root of every error channel-sync raises on purpose."""


class ConfigurationError(ChannelSyncError):
    """A mapping, connection or settings problem: an admin must fix a file or a setting."""


class AuthError(ChannelSyncError):
    """Credentials were refused: refresh once, then stop the connection."""


class RetriableError(ChannelSyncError):
    """A transient failure (5xx, timeout, lock contention): back off and try again."""


class RateLimitedError(RetriableError):
    """A burst limit was hit: wait at least ``retry_after`` seconds before the next call."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExhaustedError(ChannelSyncError):
    """A daily API allowance is used up: park the connection until the allowance resets."""


class RecordError(ChannelSyncError):
    """One record was refused: quarantine it with its error and keep syncing the rest."""


class FatalError(ChannelSyncError):
    """Nothing sensible can be retried: stop and report."""
