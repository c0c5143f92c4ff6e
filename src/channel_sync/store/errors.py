"""Errors the state store raises, placed in the product's taxonomy by what the caller should do."""

from __future__ import annotations

from channel_sync.errors import ConfigurationError, FatalError, RecordError, RetriableError


class StaleLeaseError(FatalError):
    """The caller's lease was taken over (its fencing epoch is old) or released.

    The caller's transaction has been rolled back. Stop the cycle: another holder owns the
    connection now, and retrying with the same lease can never succeed.
    """


class LeaseContendedError(RetriableError):
    """Another transaction is committing for the same connection right now; try again later."""


class StoreBusyError(RetriableError):
    """The database was locked, unreachable, or chose this transaction as a deadlock victim."""


class ConcurrentUpdateError(RetriableError):
    """A canonical record changed since the caller read it; re-read and merge again."""


class TenantViolationError(RecordError):
    """A write would move data across partners (e.g. change a record's ``partner_id``)."""


class UnstorableValueError(RecordError, ValueError):
    """A field value has no lossless stored form (naive datetime, float, NUL character...)."""


class DuplicateLinkError(RecordError):
    """A remote id or canonical id is already linked to something else on that connection."""


class CredentialKeyError(ConfigurationError):
    """No secret key is configured, or none of the configured keys opens a stored token."""


class MissingRowError(RecordError):
    """The record, link or entry the caller named does not exist in the store."""


class IntegrityRuleError(FatalError):
    """The database refused a write that breaks one of its rules: an append-only table, an
    immutable column, a foreign key or a check. A bug or tampering, never a transient state."""
