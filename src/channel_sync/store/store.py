"""The store facade: opens the database, migrates it, and hands out transactions.

Three kinds of transaction, all context managers:

* ``read()`` -- a read-only snapshot (a deferred ``BEGIN`` on SQLite, so it never waits for or
  blocks the writer under WAL);
* ``transaction()`` -- a write transaction with no lease (admin actions, lease bookkeeping);
* ``unit_of_work(lease)`` -- the fenced write transaction of a sync cycle.

Short one-statement helpers (``acquire_lease``, ``claim_outbox``...) run in their own write
transaction, so callers outside a cycle need no transaction code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from channel_sync.clock import Clock, default_clock
from channel_sync.errors import ConfigurationError
from channel_sync.store.credentials import CredentialCipher
from channel_sync.store.engine import ALL_TENANTS, READ_ONLY, TENANT, display_url, make_engine
from channel_sync.store.errors import (
    ConcurrentUpdateError,
    IntegrityRuleError,
    StoreBusyError,
    TenantViolationError,
)
from channel_sync.store.leases import Lease
from channel_sync.store.migrate import upgrade
from channel_sync.store.outbox import Batch, OutboxEntry, OutboxStatus
from channel_sync.store.settings import StoreSettings
from channel_sync.store.transaction import Transaction, UnitOfWork


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What ``channel-sync status`` shows about the store, from indexed counts only."""

    database: str
    outbox: dict[str, dict[OutboxStatus, int]] = field(default_factory=dict)
    failed_records: dict[str, int] = field(default_factory=dict)
    open_conflicts: int = 0


def _driver_summary(exc: DBAPIError) -> str:
    # Only the driver's error class and first line: SQL parameters (deal data) stay out of it.
    first_line = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
    return f"{type(exc.orig).__name__}: {first_line[:200]}"


def _is_unique_violation(exc: IntegrityError) -> bool:
    # psycopg: UniqueViolation (SQLSTATE 23505); sqlite3: "UNIQUE constraint failed: ...".
    return getattr(exc.orig, "sqlstate", None) == "23505" or str(exc.orig).startswith(
        "UNIQUE constraint failed"
    )


def _constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return f" ({name})" if name else ""


class Store:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        cipher: CredentialCipher | None = None,
        tenant: str = ALL_TENANTS,
    ) -> None:
        self.engine = engine
        self.clock = clock or default_clock()
        self._cipher = cipher
        self._tenant = tenant
        self._write_bind = engine.execution_options(**{TENANT: tenant})
        self._read_bind = engine.execution_options(**{TENANT: tenant, READ_ONLY: True})

    def __repr__(self) -> str:
        return f"Store({display_url(self.engine)!r}, tenant={self._tenant!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def for_partner(self, partner_id: str) -> Store:
        """A view that sees only ``partner_id``'s rows, enforced by the database.

        PostgreSQL only (row-level security). Connect as a role that is neither superuser nor
        ``BYPASSRLS``, or the policies do not apply; see ``docs/store.md``.
        """
        if self.dialect != "postgresql":
            msg = "partner-scoped store access needs PostgreSQL row-level security"
            raise ConfigurationError(msg)
        if not partner_id or partner_id == ALL_TENANTS:
            msg = f"not a partner id: {partner_id!r}"
            raise ConfigurationError(msg)
        return Store(self.engine, clock=self.clock, cipher=self._cipher, tenant=partner_id)

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._translated(), Session(self._read_bind, expire_on_commit=False) as session:
            try:
                yield Transaction(session, self.clock, self._cipher)
            finally:
                session.rollback()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with (
            self._translated(),
            Session(self._write_bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield Transaction(session, self.clock, self._cipher)

    @contextmanager
    def unit_of_work(self, lease: Lease) -> Iterator[UnitOfWork]:
        """The cycle's single transaction; raises ``StaleLeaseError`` for a superseded lease."""
        with (
            self._translated(),
            Session(self._write_bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            uow = UnitOfWork(session, self.clock, self._cipher, lease)
            uow.begin_checks()
            yield uow
            uow.commit_checks()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            msg = f"the state store is busy or unreachable ({_driver_summary(exc)})"
            raise StoreBusyError(msg) from None
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                msg = (
                    "a concurrent transaction wrote the same key"
                    f"{_constraint(exc)}; re-read and try again"
                )
                raise ConcurrentUpdateError(msg) from None
            msg = f"the database refused the write ({_driver_summary(exc)})"
            raise IntegrityRuleError(msg) from None
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501" and "row-level security" in str(
                exc.orig
            ):
                msg = f"the write is outside this session's partner scope ({self._tenant!r})"
                raise TenantViolationError(msg) from None
            raise

    # -- one-transaction helpers ------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> Lease | None:
        with self.transaction() as tx:
            return tx.leases.acquire(name, holder, ttl)

    def renew_lease(self, lease: Lease, ttl: timedelta) -> Lease:
        with self.transaction() as tx:
            return tx.leases.renew(lease, ttl)

    def release_lease(self, lease: Lease) -> bool:
        with self.transaction() as tx:
            return tx.leases.release(lease)

    def claim_outbox(self, target_connection: str, max_size: int) -> Batch:
        with self.transaction() as tx:
            return tx.outbox.claim(target_connection, max_size)

    def in_flight(self, target_connection: str) -> list[OutboxEntry]:
        with self.read() as tx:
            return tx.outbox.in_flight(target_connection)

    def rotate_credentials(self) -> int:
        with self.transaction() as tx:
            return tx.credentials.rotate()

    def status(self) -> StoreStatus:
        with self.read() as tx:
            return StoreStatus(
                database=display_url(self.engine),
                outbox=tx.outbox.counts(),
                failed_records=tx.failures.counts(),
                open_conflicts=tx.conflicts.count_open(),
            )

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(
    url: str | None = None,
    *,
    settings: StoreSettings | None = None,
    clock: Clock | None = None,
    cipher: CredentialCipher | None = None,
    migrate: bool = True,
) -> Store:
    """Open (and by default migrate to the newest schema) the store at ``url``.

    Without ``url`` the settings decide (``CHANNEL_SYNC_DATABASE_URL``, else the project's
    SQLite file). Without ``cipher`` one is built from ``CHANNEL_SYNC_SECRET_KEY`` if set;
    credentials then raise a clear configuration error only when used.
    """
    settings = settings or StoreSettings()
    engine = make_engine(
        url or settings.resolved_database_url(), busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    if cipher is None and settings.secret_keys():
        cipher = CredentialCipher(settings.secret_keys())
    store = Store(engine, clock=clock, cipher=cipher)
    if migrate:
        try:
            with store._translated():
                upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return store
