"""Links: which remote record on which connection is which canonical deal, and their base.

The base is what both sides last agreed on, per canonical field; the engine's three-way merge
compares fresh values with it. ``written`` is what the engine itself last wrote to the remote
side, so reading its own write back is not mistaken for a user's change (HubSpot has no origin
tag, so echo suppression must be state-based).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc_or_none
from channel_sync.store.errors import DuplicateLinkError, MissingRowError
from channel_sync.store.records import chunks
from channel_sync.store.rows import held_ids, record_row
from channel_sync.store.session_cache import inserted_here, lookup_cache
from channel_sync.store.tables import LinkRow
from channel_sync.store.values import DELETED, decode_fields, decode_value, encode_fields


class Link:
    """One connection's link to a deal. ``base`` and ``written`` are decoded on first use:
    most look-ups only need the remote id or whether the copy was deleted."""

    __slots__ = (
        "_base",
        "_raw_base",
        "_raw_written",
        "_written",
        "canonical_id",
        "connection",
        "created_at",
        "partner_id",
        "remote_id",
        "remote_modstamp",
        "updated_at",
    )

    def __init__(self, row: LinkRow) -> None:
        self.connection: str = row.connection
        self.canonical_id: str = row.canonical_id
        self.remote_id: str | None = row.remote_id
        self.partner_id: str | None = row.partner_id
        self.remote_modstamp: datetime | None = row.remote_modstamp
        self.created_at: datetime | None = row.created_at
        self.updated_at: datetime | None = row.updated_at
        self._raw_base: Mapping[str, object] = row.base
        self._raw_written: Mapping[str, object] = row.written
        self._base: Mapping[str, object] | None = None
        self._written: Mapping[str, object] | None = None

    @property
    def base(self) -> Mapping[str, object]:
        if self._base is None:
            self._base = decode_fields(self._raw_base)
        return self._base

    @property
    def written(self) -> Mapping[str, object]:
        if self._written is None:
            self._written = decode_fields(self._raw_written)
        return self._written

    def last_known(self, path: str) -> object:
        """What the remote side last held at ``path`` as far as the engine knows: its own last
        write there, else the agreed base (decodes that one value only)."""
        if path in self._raw_written:
            return decode_value(path, self._raw_written[path])
        return decode_value(path, self._raw_base.get(path))

    @property
    def deleted(self) -> bool:
        """Whether this side deleted its copy (read without decoding the base)."""
        return bool(self._raw_base.get(DELETED))

    def __repr__(self) -> str:
        return f"Link({self.connection!r}, {self.canonical_id!r}, remote_id={self.remote_id!r})"


#: The decoded view of a row, kept while the row lives and reused while its columns are the
#: same objects (an update assigns new ones), so a deal touched from several places in a cycle
#: decodes its base once.
_VIEWS: weakref.WeakKeyDictionary[LinkRow, Link] = weakref.WeakKeyDictionary()


def _to_link(row: LinkRow) -> Link:
    link = _VIEWS.get(row)
    if (
        link is not None
        and link._raw_base is row.base
        and link._raw_written is row.written
        and (link.remote_id, link.remote_modstamp, link.updated_at)
        == (row.remote_id, row.remote_modstamp, row.updated_at)
    ):
        return link
    link = Link(row)
    _VIEWS[row] = link
    return link


#: Most deals one cache miss loads the links of (the rest of the page in hand).
READ_AHEAD = 2000
_CANONICAL = "canonical"
_REMOTE = "remote"


class LinkRepository:
    """Rows looked up once in a transaction are remembered (found or known absent), so the
    page look-up, the merge and the drain's settle of the same deal cost one query, not three.
    Only this repository writes links, and it keeps the cache in step with its writes."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._cache = lookup_cache(session, "links")

    def _remember(self, row: LinkRow) -> None:
        self._cache[_CANONICAL, row.connection, row.canonical_id] = row
        if row.remote_id is not None:
            self._cache[_REMOTE, row.connection, row.remote_id] = row

    def by_remote(self, connection: str, remote_id: str) -> Link | None:
        row = self._row_by_remote(connection, remote_id)
        return None if row is None else _to_link(row)

    def by_canonical(self, connection: str, canonical_id: str) -> Link | None:
        row = self._row_by_canonical(connection, canonical_id)
        return None if row is None else _to_link(row)

    def many_by_remote(self, connection: str, remote_ids: Iterable[str]) -> dict[str, Link]:
        """The links of one page of remote records, keyed by remote id, in a few queries."""
        found: dict[str, Link] = {}
        for part in chunks(sorted(set(remote_ids))):
            query = select(LinkRow).where(
                LinkRow.connection == connection, LinkRow.remote_id.in_(part)
            )
            for row in self._session.scalars(query):
                assert row.remote_id is not None
                self._remember(row)
                found[row.remote_id] = _to_link(row)
            for remote_id in part:
                if remote_id not in found:
                    self._cache[_REMOTE, connection, remote_id] = None
        return found

    def many_by_canonical(self, connection: str, canonical_ids: Iterable[str]) -> dict[str, Link]:
        found: dict[str, Link] = {}
        for part in chunks(sorted(set(canonical_ids))):
            query = select(LinkRow).where(
                LinkRow.connection == connection, LinkRow.canonical_id.in_(part)
            )
            for row in self._session.scalars(query):
                self._remember(row)
                found[row.canonical_id] = _to_link(row)
            for canonical_id in part:
                if canonical_id not in found:
                    self._cache[_CANONICAL, connection, canonical_id] = None
        return found

    def for_record(self, canonical_id: str) -> list[Link]:
        """Every connection's link to one deal."""
        query = (
            select(LinkRow).where(LinkRow.canonical_id == canonical_id).order_by(LinkRow.connection)
        )
        return [_to_link(row) for row in self._session.scalars(query)]

    def link(
        self,
        connection: str,
        canonical_id: str,
        remote_id: str | None,
        *,
        base: Mapping[str, object] | None = None,
        written: Mapping[str, object] | None = None,
        remote_modstamp: datetime | None = None,
    ) -> Link:
        """Create the link of a deal on a connection; the deal must exist (same transaction).

        ``partner_id`` is copied from the deal so row-level security can scope links without a
        join, and so no caller can attach a deal to another partner's link.
        """
        record = record_row(self._session, canonical_id)
        if record is None:
            msg = f"cannot link unknown canonical record {canonical_id!r}"
            raise MissingRowError(msg)
        for existing in self._clashes(connection, canonical_id, remote_id):
            if existing.canonical_id == canonical_id:
                msg = f"{canonical_id!r} is already linked on {connection!r}"
            else:
                msg = f"remote id {remote_id!r} on {connection!r} is already linked to another deal"
            raise DuplicateLinkError(msg)
        now = self._clock.now()
        row = LinkRow(
            connection=connection,
            canonical_id=canonical_id,
            remote_id=remote_id,
            partner_id=record.partner_id,
            base=encode_fields(base or {}),
            written=encode_fields(written or {}),
            remote_modstamp=as_utc_or_none(remote_modstamp),
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        self._session.flush()
        self._remember(row)
        return _to_link(row)

    def update(
        self,
        connection: str,
        canonical_id: str,
        *,
        base: Mapping[str, object] | None = None,
        written: Mapping[str, object] | None = None,
        remote_modstamp: datetime | None = None,
        merge: bool = True,
    ) -> Link:
        """Record a new agreement (``base``) and/or the engine's latest write (``written``).

        With ``merge`` the given fields replace those fields only; without it they replace the
        whole map (use it when the full record was compared).
        """
        row = self._require(connection, canonical_id)
        # Stored forms are normalized (one JSON form per value), so merging encoded maps is the
        # same as merging decoded ones and encoding the result, without decoding the rest.
        if base is not None:
            new = encode_fields(base)
            row.base = dict(sorted({**row.base, **new}.items())) if merge else new
        if written is not None:
            new = encode_fields(written)
            row.written = dict(sorted({**row.written, **new}.items())) if merge else new
        if remote_modstamp is not None:
            row.remote_modstamp = as_utc_or_none(remote_modstamp)
        row.updated_at = self._clock.now()
        # No flush: the change goes out with the next query's autoflush or the commit, so a
        # batch of base updates costs one flush rather than one each. The link decodes its
        # maps only when asked.
        return _to_link(row)

    def set_remote_id(self, connection: str, canonical_id: str, remote_id: str) -> Link:
        """Fill in or re-point the remote id (first write confirmed, or a CRM merged records)."""
        row = self._require(connection, canonical_id)
        other = self._row_by_remote(connection, remote_id)
        if other is not None and other.id != row.id:
            msg = f"remote id {remote_id!r} on {connection!r} is already linked to another deal"
            raise DuplicateLinkError(msg)
        if row.remote_id is not None:
            self._cache[_REMOTE, connection, row.remote_id] = None
        row.remote_id = remote_id
        row.updated_at = self._clock.now()
        self._session.flush()
        self._remember(row)
        return _to_link(row)

    def unlink(self, connection: str, canonical_id: str) -> bool:
        row = self._row_by_canonical(connection, canonical_id)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        self._cache[_CANONICAL, connection, canonical_id] = None
        if row.remote_id is not None:
            self._cache[_REMOTE, connection, row.remote_id] = None
        return True

    def _require(self, connection: str, canonical_id: str) -> LinkRow:
        row = self._row_by_canonical(connection, canonical_id)
        if row is None:
            msg = f"{canonical_id!r} is not linked on {connection!r}"
            raise MissingRowError(msg)
        return row

    def _clashes(self, connection: str, canonical_id: str, remote_id: str | None) -> list[LinkRow]:
        """Existing links that would collide with a new one; no query when both are cached."""
        if inserted_here(self._session, canonical_id):
            self._cache.setdefault((_CANONICAL, connection, canonical_id), None)
        keys = [(_CANONICAL, connection, canonical_id)]
        if remote_id is not None:
            keys.append((_REMOTE, connection, remote_id))
        if all(key in self._cache for key in keys):
            return [row for row in (self._cache[key] for key in keys) if row is not None]
        clash = LinkRow.canonical_id == canonical_id
        if remote_id is not None:
            clash = or_(clash, LinkRow.remote_id == remote_id)
        return list(
            self._session.scalars(select(LinkRow).where(LinkRow.connection == connection, clash))
        )

    def _row_by_remote(self, connection: str, remote_id: str) -> LinkRow | None:
        key = (_REMOTE, connection, remote_id)
        if key in self._cache:
            cached: LinkRow | None = self._cache[key]
            return cached
        query = select(LinkRow).where(
            LinkRow.connection == connection, LinkRow.remote_id == remote_id
        )
        row = self._session.scalars(query).first()
        self._cache[key] = row
        if row is not None:
            self._remember(row)
        return row

    def _row_by_canonical(self, connection: str, canonical_id: str) -> LinkRow | None:
        key = (_CANONICAL, connection, canonical_id)
        if key in self._cache:
            cached: LinkRow | None = self._cache[key]
            return cached
        if inserted_here(self._session, canonical_id):
            self._cache[key] = None
            return None
        # Read ahead: the other deals of the page will be asked about next.
        ahead = [
            cid
            for cid in held_ids(self._session)
            if (_CANONICAL, connection, cid) not in self._cache
        ]
        self.many_by_canonical(connection, [canonical_id, *ahead[:READ_AHEAD]])
        found: LinkRow | None = self._cache.get(key)
        return found
