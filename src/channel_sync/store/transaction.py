"""Transactions over the repositories, and the fenced unit of work of a sync cycle.

A :class:`Transaction` bundles every repository over one session: all of it commits or none of
it does. A :class:`UnitOfWork` is a transaction that belongs to a lease holder: it proves its
lease is still current inside the same transaction (and, on PostgreSQL, holds an advisory lock
keyed by the schema and the lease name), so a cycle's canonical changes, new base, outbox
entries, audit events and cursor are committed together or, for a stale holder, not at all.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session, SessionTransaction

from channel_sync.clock import Clock
from channel_sync.store.audit import AuditRepository
from channel_sync.store.conflicts import ConflictRepository
from channel_sync.store.credentials import CredentialCipher, CredentialRepository
from channel_sync.store.cursors import CursorRepository
from channel_sync.store.errors import LeaseContendedError
from channel_sync.store.failures import FailureRepository
from channel_sync.store.leases import Lease, LeaseRepository
from channel_sync.store.links import LinkRepository
from channel_sync.store.outbox import OutboxRepository
from channel_sync.store.records import RecordRepository
from channel_sync.store.runs import RunRepository
from channel_sync.store.session_cache import flush_held


class Transaction:
    """Every repository over one open transaction."""

    def __init__(self, session: Session, clock: Clock, cipher: CredentialCipher | None) -> None:
        self.session = session
        self.clock = clock
        self.records = RecordRepository(session, clock)
        self.links = LinkRepository(session, clock)
        self.cursors = CursorRepository(session, clock)
        self.conflicts = ConflictRepository(session, clock)
        self.outbox = OutboxRepository(session, clock)
        self.audit = AuditRepository(session, clock)
        self.runs = RunRepository(session, clock)
        self.failures = FailureRepository(session, clock)
        self.leases = LeaseRepository(session, clock)
        self.credentials = CredentialRepository(session, clock, cipher)

    def savepoint(self) -> SessionTransaction:
        """A nested transaction (use as a context manager): what happens inside it can be
        rolled back alone. Writes the repositories held back first, so that rollback can not
        take them along."""
        flush_held(self.session)
        return self.session.begin_nested()


#: Takes the advisory lock of one lease name in the session's current schema. Advisory locks
#: belong to the whole database, not to a schema: keyed by the name alone, two stores kept in
#: two schemas of one database (two deployments, two test runs) would refuse each other's units
#: of work for connections of the same name. The key is the first 64 bits of an MD5 of the
#: schema and the name, worked out by the server, which knows the schema in force.
_TRY_LEASE_LOCK = text(
    "SELECT pg_try_advisory_xact_lock(('x' || left(md5("
    "'channel-sync:lease:' || coalesce(current_schema(), '') || ':' || :name), 16))"
    "::bit(64)::bigint)"
)


def advisory_key(schema: str, name: str) -> int:
    """The signed 64-bit key the lease lock of ``name`` takes in ``schema`` (what the server
    works out for :data:`_TRY_LEASE_LOCK`), for looking the lock up in ``pg_locks``."""
    digest = hashlib.md5(f"channel-sync:lease:{schema}:{name}".encode(), usedforsecurity=False)
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


class UnitOfWork(Transaction):
    """A transaction of the holder of ``lease``; see the module docstring."""

    def __init__(
        self, session: Session, clock: Clock, cipher: CredentialCipher | None, lease: Lease
    ) -> None:
        super().__init__(session, clock, cipher)
        self.lease = lease

    def begin_checks(self) -> None:
        """Fail fast: take the advisory lock and verify the epoch before any work is done."""
        if self.session.get_bind().dialect.name == "postgresql":
            locked = self.session.scalar(_TRY_LEASE_LOCK, {"name": self.lease.name})
            if not locked:
                msg = (
                    f"another transaction is committing for {self.lease.name!r}; try again shortly"
                )
                raise LeaseContendedError(msg)
        self.leases.check(self.lease)

    def commit_checks(self) -> None:
        """The authoritative check, last statement before COMMIT."""
        self.session.flush()
        flush_held(self.session)
        self.leases.check(self.lease)
