"""Links: which remote record on which connection is which canonical deal, and their base.

The base is what both sides last agreed on, per canonical field; the engine's three-way merge
compares fresh values with it. ``written`` is what the engine itself last wrote to the remote
side, so reading its own write back is not mistaken for a user's change (HubSpot has no origin
tag, so echo suppression must be state-based).

A cycle touches every link of a page several times (the page look-up, the merge, the routing of
the change, the drain's settle), so this repository keeps the rows it read or wrote in the
transaction as plain values and writes with Core statements, not ORM objects. New links and
changed bases are held and written together: one multi-row INSERT and one executemany UPDATE
per batch, before the repository's next query, before a savepoint, and before COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc_or_none
from channel_sync.store.errors import DuplicateLinkError, MissingRowError
from channel_sync.store.records import chunks
from channel_sync.store.rows import held_ids, record_row
from channel_sync.store.session_cache import holds_writes, inserted_here, lookup_cache
from channel_sync.store.tables import LinkRow
from channel_sync.store.values import DELETED, decode_fields, decode_value, encode_fields

LINKS: Table = cast("Table", LinkRow.__table__)
_COLUMNS = (
    LINKS.c.connection,
    LINKS.c.canonical_id,
    LINKS.c.remote_id,
    LINKS.c.partner_id,
    LINKS.c.base,
    LINKS.c.written,
    LINKS.c.remote_modstamp,
    LINKS.c.created_at,
    LINKS.c.updated_at,
)
_WRITE = (
    update(LINKS)
    .where(
        LINKS.c.connection == bindparam("c_connection"),
        LINKS.c.canonical_id == bindparam("c_canonical_id"),
    )
    .values(
        base=bindparam("base"),
        written=bindparam("written"),
        remote_modstamp=bindparam("remote_modstamp"),
        updated_at=bindparam("updated_at"),
    )
)
_INSERT = insert(LINKS)

#: Most deals one cache miss loads the links of (the rest of the page in hand).
READ_AHEAD = 2000
_CANONICAL = "canonical"
_REMOTE = "remote"
_PENDING = "link_writes"


class _State:
    """One link row as this transaction knows it (stored JSON forms, not decoded)."""

    __slots__ = (
        "base",
        "canonical_id",
        "connection",
        "created_at",
        "partner_id",
        "remote_id",
        "remote_modstamp",
        "updated_at",
        "view",
        "written",
    )

    def __init__(  # noqa: PLR0917 - built from a result row's columns, in order
        self,
        connection: str,
        canonical_id: str,
        remote_id: str | None,
        partner_id: str | None,
        base: Mapping[str, object],
        written: Mapping[str, object],
        remote_modstamp: datetime | None,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.connection = connection
        self.canonical_id = canonical_id
        self.remote_id = remote_id
        self.partner_id = partner_id
        self.base = base
        self.written = written
        self.remote_modstamp = remote_modstamp
        self.created_at = created_at
        self.updated_at = updated_at
        self.view: Link | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ROW_FIELDS}

    def link(self) -> Link:
        if self.view is None:
            self.view = Link(self)
        return self.view


_ROW_FIELDS = ("connection", "canonical_id", "remote_id", "partner_id", "base", "written",
               "remote_modstamp", "created_at", "updated_at")


class Link:
    """One connection's link to a deal, as of when it was handed out. ``base`` and ``written``
    are decoded on first use: most look-ups only need the remote id or whether the copy was
    deleted."""

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

    def __init__(self, state: _State) -> None:
        self.connection: str = state.connection
        self.canonical_id: str = state.canonical_id
        self.remote_id: str | None = state.remote_id
        self.partner_id: str | None = state.partner_id
        self.remote_modstamp: datetime | None = state.remote_modstamp
        self.created_at: datetime | None = state.created_at
        self.updated_at: datetime | None = state.updated_at
        self._raw_base: Mapping[str, object] = state.base
        self._raw_written: Mapping[str, object] = state.written
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

    def agrees_on(self, path: str) -> bool:
        """Whether the base holds ``path`` at all (read without decoding it)."""
        return path in self._raw_base

    @property
    def deleted(self) -> bool:
        """Whether this side deleted its copy (read without decoding the base)."""
        return bool(self._raw_base.get(DELETED))

    def __repr__(self) -> str:
        return f"Link({self.connection!r}, {self.canonical_id!r}, remote_id={self.remote_id!r})"


class _Pending:
    """Link writes held until the next flush: new rows and changed rows, by (connection, id)."""

    __slots__ = ("changed", "new")

    def __init__(self) -> None:
        self.new: dict[tuple[str, str], _State] = {}
        self.changed: dict[tuple[str, str], _State] = {}

    def write(self, connection: Connection) -> None:
        if self.new:
            rows = [state.row() for state in self.new.values()]
            self.new.clear()
            connection.execute(_INSERT, rows)
        if self.changed:
            params = [
                {
                    "c_connection": state.connection,
                    "c_canonical_id": state.canonical_id,
                    "base": state.base,
                    "written": state.written,
                    "remote_modstamp": state.remote_modstamp,
                    "updated_at": state.updated_at,
                }
                for state in self.changed.values()
            ]
            self.changed.clear()
            connection.execute(_WRITE, params)


def _pending(session: Session) -> _Pending:
    holder = lookup_cache(session, _PENDING)
    pending: _Pending | None = holder.get(_PENDING)
    if pending is None:
        pending = holder[_PENDING] = _Pending()
    return pending


@holds_writes
def flush_links(session: Session) -> None:
    """Write the links held in ``session`` (called before savepoints, queries and COMMIT)."""
    holder = lookup_cache(session, _PENDING)
    pending: _Pending | None = holder.get(_PENDING)
    if pending is not None and (pending.new or pending.changed):
        pending.write(session.connection())


class LinkRepository:
    """Rows looked up once in a transaction are remembered (found or known absent), so the
    page look-up, the merge and the drain's settle of the same deal cost one query, not three.
    Only this repository reads or writes links, and it keeps the cache in step with its
    writes."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._cache = lookup_cache(session, "links")

    # -- reads ------------------------------------------------------------------------------

    def by_remote(self, connection: str, remote_id: str) -> Link | None:
        state = self._by_remote(connection, remote_id)
        return None if state is None else state.link()

    def by_canonical(self, connection: str, canonical_id: str) -> Link | None:
        state = self._by_canonical(connection, canonical_id)
        return None if state is None else state.link()

    def many_by_remote(self, connection: str, remote_ids: Iterable[str]) -> dict[str, Link]:
        """The links of one page of remote records, keyed by remote id, in a few queries."""
        found: dict[str, Link] = {}
        missing: list[str] = []
        for remote_id in sorted(set(remote_ids)):
            key = (_REMOTE, connection, remote_id)
            if key in self._cache:
                state: _State | None = self._cache[key]
                if state is not None:
                    found[remote_id] = state.link()
            else:
                missing.append(remote_id)
        for part in chunks(missing):
            for state in self._select(LINKS.c.connection == connection,
                                      LINKS.c.remote_id.in_(part)):
                assert state.remote_id is not None
                found[state.remote_id] = state.link()
            for remote_id in part:
                self._cache.setdefault((_REMOTE, connection, remote_id), None)
        return found

    def many_by_canonical(self, connection: str, canonical_ids: Iterable[str]) -> dict[str, Link]:
        found: dict[str, Link] = {}
        missing: list[str] = []
        for canonical_id in sorted(set(canonical_ids)):
            key = (_CANONICAL, connection, canonical_id)
            if key in self._cache:
                state: _State | None = self._cache[key]
                if state is not None:
                    found[canonical_id] = state.link()
            elif inserted_here(self._session, canonical_id):
                self._cache[key] = None
            else:
                missing.append(canonical_id)
        for part in chunks(missing):
            for state in self._select(LINKS.c.connection == connection,
                                      LINKS.c.canonical_id.in_(part)):
                found[state.canonical_id] = state.link()
            for canonical_id in part:
                self._cache.setdefault((_CANONICAL, connection, canonical_id), None)
        return found

    def for_record(self, canonical_id: str) -> list[Link]:
        """Every connection's link to one deal."""
        states = self._select(LINKS.c.canonical_id == canonical_id)
        return [state.link() for state in sorted(states, key=lambda s: s.connection)]

    # -- writes -----------------------------------------------------------------------------

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
        state = _State(
            connection, canonical_id, remote_id, record.partner_id, encode_fields(base or {}),
            encode_fields(written or {}), as_utc_or_none(remote_modstamp), now, now,
        )
        _pending(self._session).new[connection, canonical_id] = state
        self._remember(state)
        return state.link()

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
        state = self._require(connection, canonical_id)
        # Stored forms are normalized (one JSON form per value), so merging encoded maps is the
        # same as merging decoded ones and encoding the result, without decoding the rest.
        if base is not None:
            new = encode_fields(base)
            state.base = dict(sorted({**state.base, **new}.items())) if merge else new
        if written is not None:
            new = encode_fields(written)
            state.written = dict(sorted({**state.written, **new}.items())) if merge else new
        if remote_modstamp is not None:
            state.remote_modstamp = as_utc_or_none(remote_modstamp)
        state.updated_at = self._clock.now()
        state.view = None
        pending = _pending(self._session)
        key = (connection, canonical_id)
        if key not in pending.new:
            pending.changed[key] = state
        return state.link()

    def set_remote_id(self, connection: str, canonical_id: str, remote_id: str) -> Link:
        """Fill in or re-point the remote id (first write confirmed, or a CRM merged records)."""
        state = self._require(connection, canonical_id)
        other = self._by_remote(connection, remote_id)
        if other is not None and other.canonical_id != canonical_id:
            msg = f"remote id {remote_id!r} on {connection!r} is already linked to another deal"
            raise DuplicateLinkError(msg)
        # Written at once, not held: two links trading remote ids in one batched UPDATE could
        # meet the unique key half-way.
        self.flush()
        now = self._clock.now()
        self._session.connection().execute(
            update(LINKS)
            .where(LINKS.c.connection == connection, LINKS.c.canonical_id == canonical_id)
            .values(remote_id=remote_id, updated_at=now)
        )
        if state.remote_id is not None:
            self._cache[_REMOTE, connection, state.remote_id] = None
        state.remote_id = remote_id
        state.updated_at = now
        state.view = None
        self._remember(state)
        return state.link()

    def unlink(self, connection: str, canonical_id: str) -> bool:
        state = self._by_canonical(connection, canonical_id)
        if state is None:
            return False
        self.flush()
        self._session.connection().execute(
            delete(LINKS).where(
                LINKS.c.connection == connection, LINKS.c.canonical_id == canonical_id
            )
        )
        self._cache[_CANONICAL, connection, canonical_id] = None
        if state.remote_id is not None:
            self._cache[_REMOTE, connection, state.remote_id] = None
        return True

    def flush(self) -> None:
        """Write the links held back so far (the next query or COMMIT would anyway)."""
        flush_links(self._session)

    # -- internals --------------------------------------------------------------------------

    def _remember(self, state: _State) -> None:
        self._cache[_CANONICAL, state.connection, state.canonical_id] = state
        if state.remote_id is not None:
            self._cache[_REMOTE, state.connection, state.remote_id] = state

    def _select(self, *where: Any, flush: bool = True) -> list[_State]:
        """Rows matching ``where``; a row this transaction already holds is returned as held
        (it may carry writes not yet flushed). Without ``flush`` held writes stay held: right
        only where the held rows are looked up by the same keys first."""
        if flush:
            self.flush()
        states: list[_State] = []
        for row in self._session.connection().execute(select(*_COLUMNS).where(and_(*where))):
            held: _State | None = self._cache.get((_CANONICAL, row[0], row[1]))
            state = held if held is not None else _State(*row)
            self._remember(state)
            states.append(state)
        return states

    def _require(self, connection: str, canonical_id: str) -> _State:
        state = self._by_canonical(connection, canonical_id)
        if state is None:
            msg = f"{canonical_id!r} is not linked on {connection!r}"
            raise MissingRowError(msg)
        return state

    def _clashes(self, connection: str, canonical_id: str, remote_id: str | None) -> list[_State]:
        """Existing links that would collide with a new one; no query when both are cached."""
        if inserted_here(self._session, canonical_id):
            self._cache.setdefault((_CANONICAL, connection, canonical_id), None)
        keys = [(_CANONICAL, connection, canonical_id)]
        if remote_id is not None:
            keys.append((_REMOTE, connection, remote_id))
        held = [state for state in (self._cache.get(key) for key in keys) if state is not None]
        if held or all(key in self._cache for key in keys):
            return held
        # Every held write is in the cache under both keys, so the rows still held back can
        # not clash unseen: no need to write them first.
        clash = LINKS.c.canonical_id == canonical_id
        if remote_id is not None:
            clash = or_(clash, LINKS.c.remote_id == remote_id)
        return self._select(LINKS.c.connection == connection, clash, flush=False)

    def _by_remote(self, connection: str, remote_id: str) -> _State | None:
        key = (_REMOTE, connection, remote_id)
        if key not in self._cache:
            self._select(LINKS.c.connection == connection, LINKS.c.remote_id == remote_id)
            self._cache.setdefault(key, None)
        found: _State | None = self._cache[key]
        return found

    def _by_canonical(self, connection: str, canonical_id: str) -> _State | None:
        key = (_CANONICAL, connection, canonical_id)
        if key in self._cache:
            cached: _State | None = self._cache[key]
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
        found: _State | None = self._cache.get(key)
        return found
