"""Leases: one runner per connection, with a fencing epoch that makes stale holders harmless.

Acquiring a free or expired lease bumps its epoch. Every cycle commit re-reads the lease in the
same transaction and refuses an epoch that is not the current one, so a worker that paused past
its expiry (GC, VM freeze, lost network) and woke up after another worker took over cannot
commit a stale cursor or base, whatever it believes about time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.errors import StaleLeaseError
from channel_sync.store.tables import LeaseRow


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    epoch: int
    acquired_at: datetime
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Lease({self.name!r}, holder={self.holder!r}, epoch={self.epoch})"


def _to_lease(row: LeaseRow) -> Lease:
    assert row.holder is not None
    return Lease(
        name=row.name,
        holder=row.holder,
        epoch=row.epoch,
        acquired_at=row.acquired_at,
        expires_at=row.expires_at,
    )


def _check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0):
        msg = "a lease needs a positive time to live"
        raise ValueError(msg)


class LeaseRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def acquire(self, name: str, holder: str, ttl: timedelta) -> Lease | None:
        """Take the lease if it is free, expired or already ours; ``None`` if someone has it.

        One conditional UPDATE (or an INSERT for a first-ever acquisition) decides, so of two
        concurrent callers exactly one wins on both back-ends.
        """
        _check_ttl(ttl)
        now = self._clock.now()
        statement = (
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                or_(
                    LeaseRow.holder.is_(None),
                    LeaseRow.expires_at <= now,
                    LeaseRow.holder == holder,
                ),
            )
            .values(holder=holder, epoch=LeaseRow.epoch + 1, acquired_at=now, expires_at=now + ttl)
            .returning(LeaseRow.epoch)
            .execution_options(synchronize_session=False)
        )
        epoch = self._session.execute(statement).scalar_one_or_none()
        if epoch is None:
            if not self._insert_first(name, holder, now, now + ttl):
                return None
            epoch = 1
        return Lease(name=name, holder=holder, epoch=epoch, acquired_at=now, expires_at=now + ttl)

    def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        """Extend a lease we still hold; a lost lease raises :class:`StaleLeaseError`."""
        _check_ttl(ttl)
        now = self._clock.now()
        statement = (
            update(LeaseRow)
            .where(
                LeaseRow.name == lease.name,
                LeaseRow.holder == lease.holder,
                LeaseRow.epoch == lease.epoch,
            )
            .values(expires_at=now + ttl)
            .returning(LeaseRow.epoch)
            .execution_options(synchronize_session=False)
        )
        if self._session.execute(statement).scalar_one_or_none() is None:
            raise self._stale(lease)
        return Lease(
            name=lease.name,
            holder=lease.holder,
            epoch=lease.epoch,
            acquired_at=lease.acquired_at,
            expires_at=now + ttl,
        )

    def release(self, lease: Lease) -> bool:
        """Give the lease up early; ``False`` if it was no longer ours (nothing changes then)."""
        statement = (
            update(LeaseRow)
            .where(
                LeaseRow.name == lease.name,
                LeaseRow.holder == lease.holder,
                LeaseRow.epoch == lease.epoch,
            )
            .values(holder=None, expires_at=self._clock.now())
            .returning(LeaseRow.epoch)
            .execution_options(synchronize_session=False)
        )
        return self._session.execute(statement).scalar_one_or_none() is not None

    def current(self, name: str) -> Lease | None:
        """The live lease on ``name``, if any (expired and released leases are not live)."""
        row = self._session.get(LeaseRow, name, populate_existing=True)
        if row is None or row.holder is None or row.expires_at <= self._clock.now():
            return None
        return _to_lease(row)

    def check(self, lease: Lease) -> None:
        """Refuse unless ``lease`` is still the current holding of its name.

        Locks the lease row (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already
        excludes every other writer) so no acquisition can slip in before this transaction
        commits. An expired lease nobody took over still passes: its epoch is still the newest,
        so nothing can have been committed under a newer one.
        """
        query = select(LeaseRow).where(LeaseRow.name == lease.name).with_for_update()
        row = self._session.scalars(query.execution_options(populate_existing=True)).first()
        if row is None or row.epoch != lease.epoch or row.holder != lease.holder:
            raise self._stale(lease)

    def _insert_first(self, name: str, holder: str, now: datetime, expires: datetime) -> bool:
        values = {
            "name": name,
            "holder": holder,
            "epoch": 1,
            "acquired_at": now,
            "expires_at": expires,
        }
        if self._session.get_bind().dialect.name == "postgresql":
            pg = postgresql.insert(LeaseRow).values(values)
            statement = pg.on_conflict_do_nothing(index_elements=["name"]).returning(LeaseRow.epoch)
        else:
            lite = sqlite.insert(LeaseRow).values(values)
            statement = lite.on_conflict_do_nothing(index_elements=["name"]).returning(
                LeaseRow.epoch
            )
        return self._session.execute(statement).scalar_one_or_none() is not None

    @staticmethod
    def _stale(lease: Lease) -> StaleLeaseError:
        return StaleLeaseError(
            f"lease {lease.name!r} epoch {lease.epoch} held by {lease.holder!r} is no longer "
            "current: another holder took over or it was released; the transaction was rolled "
            "back"
        )
