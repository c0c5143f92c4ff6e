"""The emulated portal's deals, in memory.

Deals keep their wire strings; beside them the store keeps one column per property holding the
typed key (number, epoch milliseconds, folded text) of every live deal, so search filters and
sorts run over plain dicts without re-parsing strings, even with 100,000 deals. Live and
archived ids are kept in sorted lists so list paging is a bisect, not a scan; the timestamps
every incremental read filters on are also kept in (key, id) order, so "modified since" is a
bisect too, as it is an index lookup in HubSpot. A version number moves on every write so
search can cache a sorted result until the data changes.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from channel_sync.sandbox.hubspot.errors import HubSpotError
from channel_sync.sandbox.hubspot.pipelines import PIPELINE_ID, STAGES_BY_ID
from channel_sync.sandbox.hubspot.properties import (
    ALWAYS_PROPERTIES,
    DEFAULT_PROPERTIES,
    PROPERTIES_BY_NAME,
    UNIQUE_PROPERTIES,
)
from channel_sync.sandbox.hubspot.values import SortKey, format_ms, key_function

#: Deal ids look like real portal ids (11 digits) and grow by one per deal.
FIRST_ID = 10_000_000_001
#: Properties the free-text ``query`` of a search looks at.
QUERY_PROPERTIES = ("dealname", "description", "dealstage", "pipeline")
#: The column holding each live deal's searchable words as `` word word ...``.
TEXT_COLUMN = "__text__"

#: Properties whose keys are also kept sorted, for range filters without a scan.
RANGE_INDEXED = ("hs_lastmodifieddate", "createdate")
#: Range operators an index answers.
RANGE_OPERATORS = frozenset({"EQ", "LT", "LTE", "GT", "GTE", "BETWEEN"})
#: Sort below and above every deal id, to bisect (key, id) pairs by key alone.
_BELOW_IDS = -1
_ABOVE_IDS = float("inf")


@dataclass(frozen=True)
class KeyRange:
    """Bounds on a typed key; ``None`` leaves a side open-ended, ``*_open`` excludes the bound."""

    low: SortKey | None = None
    low_open: bool = False
    high: SortKey | None = None
    high_open: bool = False

    @classmethod
    def of(cls, op: str, value: SortKey, high: SortKey | None = None) -> KeyRange:
        """The range one filter operator (of ``RANGE_OPERATORS``) selects."""
        return {
            "EQ": lambda: cls(value, False, value, False),
            "GT": lambda: cls(low=value, low_open=True),
            "GTE": lambda: cls(low=value),
            "LT": lambda: cls(high=value, high_open=True),
            "LTE": lambda: cls(high=value),
            "BETWEEN": lambda: cls(value, False, high, False),
        }[op]()

    def narrowed(self, other: KeyRange) -> KeyRange:
        """The keys within both ranges (filters on one property, ANDed)."""
        low, low_open = self.low, self.low_open
        if other.low is not None and (
            low is None or other.low > low or (other.low == low and other.low_open)  # type: ignore[operator]
        ):
            low, low_open = other.low, other.low_open
        high, high_open = self.high, self.high_open
        if other.high is not None and (
            high is None or other.high < high or (other.high == high and other.high_open)  # type: ignore[operator]
        ):
            high, high_open = other.high, other.high_open
        return KeyRange(low, low_open, high, high_open)

_WORD = re.compile(r"[^\W_]+")
_KEYS = {name: key_function(prop) for name, prop in PROPERTIES_BY_NAME.items()}


def words_of(text: str) -> list[str]:
    """Folded alphanumeric words, the unit HubSpot's text matching works on."""
    return _WORD.findall(text.casefold())


@dataclass
class Deal:
    id: int
    created_ms: int
    updated_ms: int
    values: dict[str, str] = field(default_factory=dict)
    archived_ms: int | None = None

    @property
    def archived(self) -> bool:
        return self.archived_ms is not None

    def to_wire(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The object as the API returns it; ``names=None`` returns every stored value."""
        if names is None:
            props: dict[str, str | None] = dict(sorted(self.values.items()))
        else:
            values = self.values
            props = {n: values.get(n) for n in names}
        out: dict[str, Any] = {
            "id": str(self.id),
            "properties": props,
            "createdAt": format_ms(self.created_ms),
            "updatedAt": format_ms(self.updated_ms),
            "archived": self.archived_ms is not None,
        }
        if self.archived_ms is not None:
            out["archivedAt"] = format_ms(self.archived_ms)
        return out


def returned_properties(requested: Sequence[str] | None) -> list[str]:
    """Which properties a response carries: known requested ones plus the always-present ones.

    Unknown names are ignored, as HubSpot documents; no request means the default set.
    """
    if not requested:
        return list(DEFAULT_PROPERTIES)
    names = [n for n in dict.fromkeys(requested) if n in PROPERTIES_BY_NAME]
    for name in ALWAYS_PROPERTIES:
        if name not in names:
            names.append(name)
    return names


class DealStore:
    """Thread-safe: handlers run on the server's loop, seeding and snapshots on other threads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._deals: dict[int, Deal] = {}
        self._live: list[int] = []
        self._archived: list[int] = []
        self._unique: dict[str, dict[str, int]] = {name: {} for name in UNIQUE_PROPERTIES}
        #: Typed keys of live deals, per property (and the searchable text column).
        self.columns: dict[str, dict[int, SortKey]] = {n: {} for n in [*_KEYS, TEXT_COLUMN]}
        #: (key, id) of live deals in order, for the properties in RANGE_INDEXED.
        self._ranges: dict[str, list[tuple[SortKey, float]]] = {n: [] for n in RANGE_INDEXED}
        self._next_id = FIRST_ID
        self.version = 0

    def clear(self) -> None:
        with self.lock:
            self._deals.clear()
            self._live.clear()
            self._archived.clear()
            for index in self._unique.values():
                index.clear()
            for column in self.columns.values():
                column.clear()
            for ordered in self._ranges.values():
                ordered.clear()
            self._next_id = FIRST_ID
            self.version += 1

    # -- reads ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._live)

    def get(self, deal_id: int) -> Deal | None:
        return self._deals.get(deal_id)

    def by_unique(self, prop: str, value: str) -> Deal | None:
        """The live deal holding ``value`` in a unique property."""
        deal_id = self._unique[prop].get(value)
        return None if deal_id is None else self._deals[deal_id]

    def live_ids(self) -> list[int]:
        """Ids of live deals, ascending (a copy)."""
        with self.lock:
            return list(self._live)

    def column(self, name: str) -> dict[int, SortKey]:
        return self.columns.get(name, {})

    def indexed(self, name: str) -> bool:
        """Whether ``name`` keeps a sorted index (see :meth:`range_ids`)."""
        return name in self._ranges

    def range_ids(self, name: str, bounds: KeyRange) -> set[int]:
        """Live deals whose ``name`` key lies within ``bounds``, from the sorted index."""
        ordered = self._ranges[name]
        with self.lock:
            start = 0
            if bounds.low is not None:
                if bounds.low_open:
                    start = bisect_right(ordered, (bounds.low, _ABOVE_IDS))
                else:
                    start = bisect_left(ordered, (bounds.low, _BELOW_IDS))
            end = len(ordered)
            if bounds.high is not None:
                if bounds.high_open:
                    end = bisect_left(ordered, (bounds.high, _BELOW_IDS))
                else:
                    end = bisect_right(ordered, (bounds.high, _ABOVE_IDS))
            return {int(deal_id) for _, deal_id in ordered[start:end]}

    def all(self) -> list[Deal]:
        with self.lock:
            return list(self._deals.values())

    def page(self, *, archived: bool, after: int, limit: int) -> tuple[list[Deal], int | None]:
        """Deals with id >= ``after`` in id order, and the id to continue from (if any)."""
        with self.lock:
            ids = self._archived if archived else self._live
            start = bisect_left(ids, after)
            chunk = ids[start : start + limit]
            more = start + limit < len(ids)
            next_after = ids[start + limit] if more else None
            return [self._deals[i] for i in chunk], next_after

    # -- writes --------------------------------------------------------------------------------

    def unique_conflict(self, values: Mapping[str, str | None], deal_id: int | None) -> None:
        """Raise HubSpot's conflict if a unique value is held by another live deal."""
        for prop in UNIQUE_PROPERTIES:
            wire = values.get(prop)
            if wire is None:
                continue
            holder = self._unique[prop].get(wire)
            if holder is not None and holder != deal_id:
                raise HubSpotError(
                    status=409,
                    category="CONFLICT",
                    message=(
                        f"{wire} already has that value on object {holder} for unique "
                        f"property {prop}"
                    ),
                    context={"id": [str(holder)], "propertyName": [prop]},
                )

    def create(self, values: Mapping[str, str | None], now_ms: int) -> Deal:
        with self.lock:
            self.unique_conflict(values, None)
            deal = Deal(id=self._next_id, created_ms=now_ms, updated_ms=now_ms)
            self._next_id += 1
            self._deals[deal.id] = deal
            self._live.append(deal.id)
            values = dict(values)
            values.setdefault("pipeline", PIPELINE_ID)
            self._set(deal, "createdate", format_ms(now_ms), now_ms)
            self._set(deal, "hs_object_id", str(deal.id), Decimal(deal.id))
            self._apply(deal, values, now_ms)
            self.version += 1
            return deal

    def update(self, deal: Deal, values: Mapping[str, str | None], now_ms: int) -> Deal:
        with self.lock:
            self.unique_conflict(values, deal.id)
            self._apply(deal, values, now_ms)
            self.version += 1
            return deal

    def archive(self, deal: Deal, now_ms: int) -> None:
        with self.lock:
            if deal.archived:
                return
            for prop, index in self._unique.items():
                wire = deal.values.get(prop)
                if wire is not None and index.get(wire) == deal.id:
                    del index[wire]
            for name, column in self.columns.items():
                self._unindex(name, deal.id, column.pop(deal.id, None))
            del self._live[bisect_left(self._live, deal.id)]
            insort(self._archived, deal.id)
            deal.archived_ms = now_ms
            deal.updated_ms = now_ms
            self.version += 1

    def _set(self, deal: Deal, name: str, wire: str | None, key: SortKey | None = None) -> None:
        """Store ``wire`` (None clears) and its typed key; ``key`` saves re-parsing it."""
        column = self.columns[name]
        if wire is None:
            deal.values.pop(name, None)
            self._unindex(name, deal.id, column.pop(deal.id, None))
            return
        deal.values[name] = wire
        new = _KEYS[name](wire) if key is None else key
        if name in self._ranges:
            self._unindex(name, deal.id, column.get(deal.id))
            insort(self._ranges[name], (new, deal.id))
        column[deal.id] = new

    def _unindex(self, name: str, deal_id: int, old: SortKey | None) -> None:
        ordered = self._ranges.get(name)
        if ordered is None or old is None:
            return
        at = bisect_left(ordered, (old, deal_id))
        if at < len(ordered) and ordered[at] == (old, deal_id):
            del ordered[at]

    def _apply(self, deal: Deal, values: Mapping[str, str | None], now_ms: int) -> None:
        # The hot path of seeding 100,000 deals: kept flat on purpose.
        columns = self.columns
        stored = deal.values
        deal_id = deal.id
        for name, wire in values.items():
            unique = self._unique.get(name)
            if unique is not None:
                old = stored.get(name)
                if old is not None and unique.get(old) == deal_id:
                    del unique[old]
                if wire is not None:
                    unique[wire] = deal_id
            if name in self._ranges:
                self._set(deal, name, wire)
                continue
            column = columns.get(name)
            if column is None:
                column = columns[name] = {}
            if wire is None:
                stored.pop(name, None)
                column.pop(deal_id, None)
            else:
                stored[name] = wire
                column[deal_id] = _KEYS[name](wire)
        if "dealstage" in values:
            stage = STAGES_BY_ID.get(values["dealstage"] or "")
            self._set(deal, "hs_deal_stage_probability", stage.probability if stage else None)
        if any(name in values for name in QUERY_PROPERTIES):
            text = " ".join(stored.get(n, "") for n in QUERY_PROPERTIES)
            self.columns[TEXT_COLUMN][deal_id] = " " + " ".join(words_of(text))
        deal.updated_ms = now_ms
        self._set(deal, "hs_lastmodifieddate", format_ms(now_ms), now_ms)
