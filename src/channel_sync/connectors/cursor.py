"""The incremental-read cursor and the page assembler that keeps it honest.

A cursor is a high-water mark ``(modstamp, id)``, the time the read that produced it started,
and the ``(id, modstamp)`` pairs already delivered inside the look-back window.

The look-back exists because a record can become visible *after* a read that should have seen
it: a long transaction commits with an older modstamp, a search index lags, two clocks disagree.
If visibility lags by at most ``lookback``, a record the previous read missed has a modstamp
later than ``read_started - lookback``; so the next read starts at the earlier of that instant
and the mark, and the remembered pairs drop what was delivered already. A read that started
well after the last change restarts exactly after the mark and re-reads nothing.

Two traps shape the assembler (both cost other sync tools data):

* a page boundary inside a run of equal modstamps: resuming after the mark would skip the rest
  of the run. The assembler holds back the trailing run of every batch until the run is known to
  be complete, so a cursor never points into the middle of a tie;
* the cursor moving backwards when late records arrive: the mark only ever moves forward.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from channel_sync.errors import FatalError

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Both CRMs stamp modifications to the millisecond.
_MODSTAMP_PRECISION = timedelta(milliseconds=1)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        msg = f"{what} must be time-zone aware, got {value!r}"
        raise ValueError(msg)
    return value.astimezone(UTC)


def _optional(value: datetime | None, what: str) -> datetime | None:
    return None if value is None else _aware(value, what)


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where an incremental read stopped.

    ``seen`` holds, per record id, the newest modstamp already delivered at or after the next
    read's lower bound; anything read again with a modstamp no newer is a duplicate.
    ``read_started`` is when the read that produced this cursor began (connector clock).
    ``checked_deletes_at`` records when deletions were last swept, for connectors whose change
    feed does not carry deletes. ``complete`` says the read that produced the cursor ran to the
    end of the feed (a cursor saved after one page of an interrupted read does not).
    """

    modstamp: datetime
    id: str
    seen: tuple[tuple[str, datetime], ...] = ()
    read_started: datetime | None = None
    checked_deletes_at: datetime | None = None
    complete: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "modstamp", _aware(self.modstamp, "cursor modstamp"))
        object.__setattr__(
            self, "seen", tuple(sorted((i, _aware(m, "seen modstamp")) for i, m in self.seen))
        )
        object.__setattr__(self, "read_started", _optional(self.read_started, "read_started"))
        object.__setattr__(
            self, "checked_deletes_at", _optional(self.checked_deletes_at, "checked_deletes_at")
        )

    @property
    def position(self) -> tuple[datetime, str]:
        """The total order of cursors: by modstamp, then id."""
        return (self.modstamp, self.id)

    def seen_map(self) -> dict[str, datetime]:
        return dict(self.seen)

    def with_deletes_checked(self, when: datetime) -> Cursor:
        return Cursor(self.modstamp, self.id, self.seen, self.read_started, when, self.complete)

    def read_again(self, when: datetime) -> Cursor:
        """The same mark after a read that began at ``when`` and found nothing after it."""
        return Cursor(self.modstamp, self.id, self.seen, when, self.checked_deletes_at, True)

    def completed(self) -> Cursor:
        """This cursor, marked as left by a read that ran to the end of the feed."""
        return Cursor(
            self.modstamp, self.id, self.seen, self.read_started, self.checked_deletes_at, True
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, stored by the engine next to the data the cursor covers."""
        data: dict[str, Any] = {
            "modstamp": self.modstamp.isoformat(),
            "id": self.id,
            "seen": [[i, m.isoformat()] for i, m in self.seen],
        }
        if self.read_started is not None:
            data["read_started"] = self.read_started.isoformat()
        if self.checked_deletes_at is not None:
            data["checked_deletes_at"] = self.checked_deletes_at.isoformat()
        if self.complete:
            data["complete"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        try:
            return cls(
                modstamp=datetime.fromisoformat(str(data["modstamp"])),
                id=str(data["id"]),
                seen=tuple(
                    (str(i), datetime.fromisoformat(str(m))) for i, m in data.get("seen", ())
                ),
                read_started=_parse(data.get("read_started")),
                checked_deletes_at=_parse(data.get("checked_deletes_at")),
                complete=data.get("complete") is True,
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"stored cursor is not valid: {exc}"
            raise FatalError(msg) from exc


@dataclass(frozen=True, slots=True)
class Bound:
    """The lower bound of a read: ``modstamp >= value`` or, when not inclusive, ``> value``."""

    value: datetime
    inclusive: bool

    def admits(self, modstamp: datetime) -> bool:
        return modstamp >= self.value if self.inclusive else modstamp > self.value


@dataclass(frozen=True, slots=True)
class CursorPolicy:
    """How far reads look back, and how coarse the remote modstamp filter is.

    ``lookback`` bounds how late a record may become visible (commit delay, index lag, clock
    skew between this process and the CRM). ``resolution`` is the granularity the remote filter
    can express: Salesforce SOQL datetime literals as rendered by ``format_soql`` carry whole
    seconds, HubSpot filters take milliseconds. Bounds are rounded *down* to it, never up.
    """

    lookback: timedelta = timedelta(minutes=2)
    resolution: timedelta = timedelta(milliseconds=1)

    def __post_init__(self) -> None:
        if self.lookback < timedelta(0):
            msg = "lookback must not be negative"
            raise ValueError(msg)
        if self.resolution <= timedelta(0):
            msg = "resolution must be positive"
            raise ValueError(msg)

    def floor(self, value: datetime) -> datetime:
        return _EPOCH + ((value - _EPOCH) // self.resolution) * self.resolution

    def lower_bound(self, cursor: Cursor | None) -> Bound | None:
        """Where the next read starts (``None``: read everything).

        The bound only ever rises as the mark and the read start advance, which is what lets
        ``seen`` forget entries below it. "Strictly after the mark" is used only when the
        filter is as fine as the modstamps themselves (millisecond resolution); a coarser filter
        re-reads the mark's own interval and ``seen`` drops the repeats.
        """
        if cursor is None:
            return None
        horizon = self._horizon(cursor)
        exact = self.resolution <= _MODSTAMP_PRECISION
        if exact and horizon >= cursor.modstamp + self.resolution:
            return Bound(self.floor(cursor.modstamp), inclusive=False)
        return Bound(self.floor(min(horizon, cursor.modstamp)), inclusive=True)

    def settled(self, cursor: Cursor) -> bool:
        """Whether the next read may start right after the mark (no look-back needed).

        True when the read that produced ``cursor`` began more than ``lookback`` after the mark:
        anything it missed must be newer than the mark.
        """
        return self._horizon(cursor) >= cursor.modstamp + _MODSTAMP_PRECISION

    def _horizon(self, cursor: Cursor) -> datetime:
        reference = cursor.read_started if cursor.read_started is not None else cursor.modstamp
        return reference - self.lookback


@dataclass(frozen=True, slots=True)
class Stamped(Generic[T]):
    """An item of a change feed with the two values the cursor needs."""

    id: str
    modstamp: datetime
    item: T


@dataclass(frozen=True, slots=True)
class Chunk(Generic[T]):
    """Items ready to hand to the engine, and the cursor that covers them."""

    items: tuple[T, ...]
    cursor: Cursor


@dataclass
class PageAssembler(Generic[T]):
    """Turns batches of a change feed into chunks whose cursors never split a tie run.

    Feed batches in ascending modstamp order (within and across batches). Each ``push`` returns
    the chunk that is safe to commit, if any; ``finish`` returns the held-back tail once the feed
    is exhausted. Items already delivered (per the start cursor's ``seen`` or earlier in this
    read) are dropped. ``read_started`` is the time this read began; every cursor carries it.
    """

    start: Cursor | None
    policy: CursorPolicy = field(default_factory=CursorPolicy)
    read_started: datetime | None = None
    _seen: dict[str, datetime] = field(init=False)
    #: (modstamp, id) of everything in ``_seen``, kept sorted (late records land mid-way).
    _timeline: list[tuple[datetime, str]] = field(init=False)
    _pending: list[Stamped[T]] = field(init=False, default_factory=list)
    _pending_ids: dict[str, datetime] = field(init=False, default_factory=dict)
    _position: tuple[datetime, str] | None = field(init=False)
    _last_input: datetime | None = field(init=False, default=None)
    _dropped: int = field(init=False, default=0)
    _last: Cursor | None = field(init=False)

    def __post_init__(self) -> None:
        self._seen = self.start.seen_map() if self.start is not None else {}
        self._timeline = sorted((m, i) for i, m in self._seen.items())
        self._position = self.start.position if self.start is not None else None
        self._last = self.start
        self.read_started = _optional(self.read_started, "read_started")

    @property
    def dropped(self) -> int:
        """How many re-read duplicates were dropped so far."""
        return self._dropped

    @property
    def cursor(self) -> Cursor | None:
        """The cursor of the last chunk handed out (the start cursor before any)."""
        return self._last

    def push(self, batch: Sequence[Stamped[T]], *, run_complete: bool = False) -> Chunk[T] | None:
        """Add a batch; ``run_complete`` says no later item shares the batch's last modstamp."""
        for entry in batch:
            self._accept(entry)
        if not self._pending:
            return None
        if run_complete:
            return self._emit(self._take(len(self._pending)))
        last = self._pending[-1].modstamp
        split = len(self._pending)
        while split > 0 and self._pending[split - 1].modstamp == last:
            split -= 1
        return self._emit(self._take(split)) if split else None

    def finish(self) -> Chunk[T] | None:
        """The held-back tail once the feed is exhausted.

        With nothing held back, an empty chunk still records that this read completed (its
        start time moves the next read's look-back forward); ``None`` when nothing changed.
        """
        if self._pending:
            return self._emit(self._take(len(self._pending)))
        if self._position is None:
            return None
        cursor = self._pruned_cursor()
        if cursor == self._last:
            return None
        self._last = cursor
        return Chunk((), cursor)

    def _take(self, count: int) -> list[Stamped[T]]:
        ready, self._pending = self._pending[:count], self._pending[count:]
        self._pending_ids = {e.id: e.modstamp for e in self._pending}
        return ready

    def _accept(self, entry: Stamped[T]) -> None:
        modstamp = _aware(entry.modstamp, "modstamp")
        if self._last_input is not None and modstamp < self._last_input:
            msg = (
                f"change feed out of order: {entry.id} at {modstamp.isoformat()} after "
                f"{self._last_input.isoformat()}"
            )
            raise FatalError(msg)
        self._last_input = modstamp
        known = self._seen.get(entry.id)
        pending = self._pending_ids.get(entry.id)
        if (known is not None and modstamp <= known) or (
            pending is not None and modstamp <= pending
        ):
            self._dropped += 1
            return
        if pending is not None:
            # A newer version of a held-back record: keep only the newest.
            self._pending = [e for e in self._pending if e.id != entry.id]
        self._pending.append(Stamped(entry.id, modstamp, entry.item))
        self._pending_ids[entry.id] = modstamp

    def _emit(self, ready: Iterable[Stamped[T]]) -> Chunk[T]:
        items: list[T] = []
        for entry in ready:
            items.append(entry.item)
            previous = self._seen.get(entry.id)
            if previous is None or entry.modstamp > previous:
                self._seen[entry.id] = entry.modstamp
                bisect.insort(self._timeline, (entry.modstamp, entry.id))
            position = (entry.modstamp, entry.id)
            if self._position is None or position > self._position:
                self._position = position
        self._last = self._pruned_cursor()
        return Chunk(tuple(items), self._last)

    def _pruned_cursor(self) -> Cursor:
        """The cursor at the current position; its ``seen`` keeps what the next read may re-read.

        The assembler's own memory is not pruned: the rest of *this* read started at the old
        bound and can still bring back records that the new cursor no longer needs to remember.
        """
        assert self._position is not None
        modstamp, last_id = self._position
        checked = self.start.checked_deletes_at if self.start is not None else None
        draft = Cursor(modstamp, last_id, (), self.read_started, checked)
        bound = self.policy.lower_bound(draft)
        assert bound is not None
        start = bisect.bisect_left(self._timeline, (bound.value,))
        kept = tuple(
            (i, m)
            for m, i in self._timeline[start:]
            if self._seen.get(i) == m and bound.admits(m)
        )
        return Cursor(modstamp, last_id, kept, self.read_started, checked)
