"""The HubSpot change feed: CRM search on the modstamp property, 200 deals per call.

A read covers a closed window of modstamps, from the cursor up to ``until`` (the read's start
minus the settle delay, so everything in it is visible in the search index), sorted ascending
and paged with ``after``. Offset paging has two traps, both handled here:

* a deal leaving the window mid-read (modified again, so its modstamp jumps past ``until``, or
  archived) shifts every later deal one place down, and one would be skipped. Such a departure
  lowers the query's ``total``; when it drops, the page is discarded and the read restarts
  from the last modstamp it handed out (the assembler drops what it sees twice);
* no query may page past 10,000 results: before ``after + limit`` would cross the window,
  a new query restarts from the last modstamp seen, ties included.

A run of equal modstamps longer than a page cannot be restarted from; it is drained by a
second kind of query, ``modstamp EQ t`` sorted by ``hs_object_id`` and paged by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest

from channel_sync.connectors.cursor import Bound
from channel_sync.errors import FatalError, RetriableError

#: HubSpot's largest search page and its per-query result window.
MAX_PAGE = 200
SEARCH_WINDOW = 10_000
#: Restarts allowed in one read before it gives up (the portal changes faster than it reads).
MAX_RESTARTS = 50

Search = Callable[[PublicObjectSearchRequest], dict[str, Any]]


def parse_modstamp(value: Any) -> datetime:
    """A HubSpot datetime property (ISO-8601 ``Z``, or epoch milliseconds) as aware UTC."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    msg = f"HubSpot record without a usable modstamp: {value!r}"
    raise FatalError(msg)


def epoch_ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """Search results in modstamp order; ``run_complete``: the last modstamp's run is whole."""

    results: list[dict[str, Any]]
    run_complete: bool


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """What to read: which property is the modstamp and which properties to return."""

    modstamp_field: str
    id_field: str
    properties: Sequence[str]
    page_size: int = MAX_PAGE
    window: int = SEARCH_WINDOW


class ChangeFeed:
    """Yields batches of raw search results in modstamp order."""

    def __init__(self, search: Search, query: FeedQuery) -> None:
        if not 1 <= query.page_size <= MAX_PAGE or query.window < query.page_size:
            msg = f"search page size must be 1..{MAX_PAGE} and within the window"
            raise ValueError(msg)
        self._search = search
        self._query = query
        self._last: datetime | None = None
        self.queries = 0
        self.restarts = 0

    def _modstamp(self, record: dict[str, Any]) -> datetime:
        return parse_modstamp((record.get("properties") or {}).get(self._query.modstamp_field))

    def batches(self, since: Bound | None, until: datetime) -> Iterator[FeedBatch]:
        """Everything the bound admits up to ``until`` inclusive, in modstamp order."""
        lower = since
        after, total = 0, None
        self._last = None
        page = self._query.page_size
        while True:
            if after + page > self._query.window:
                lower, after, total = self._restart(lower), 0, None
                continue
            body = self._range(lower, until, after)
            results = body["results"]
            if total is not None and body["total"] < total:
                lower, after, total = self._restart(lower), 0, None
                continue
            if after == 0 and results and lower is not None and len(results) == page:
                tie = self._modstamp(results[0])
                if lower.inclusive and tie == lower.value == self._modstamp(results[-1]):
                    # A whole page on the restart modstamp: drain that run by id, move on.
                    yield from self._drain_tie(tie)
                    lower, total = Bound(tie, inclusive=False), None
                    continue
            done = len(results) < page or not (body.get("paging") or {}).get("next")
            if results:
                self._last = self._modstamp(results[-1])
            yield FeedBatch(results, run_complete=done)
            if done:
                return
            after += len(results)
            total = body["total"]

    def _restart(self, lower: Bound | None) -> Bound | None:
        """A new query from the last modstamp handed out, its run included (ties are re-read)."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            msg = "HubSpot deals change faster than they can be read; trying again next cycle"
            raise RetriableError(msg)
        return lower if self._last is None else Bound(self._last, inclusive=True)

    def _range(self, lower: Bound | None, until: datetime, after: int) -> dict[str, Any]:
        field = self._query.modstamp_field
        filters = [Filter(property_name=field, operator="LTE", value=str(epoch_ms(until)))]
        if lower is not None:
            operator = "GTE" if lower.inclusive else "GT"
            filters.append(
                Filter(property_name=field, operator=operator, value=str(epoch_ms(lower.value)))
            )
        return self._run(filters, field, after)

    def _drain_tie(self, modstamp: datetime) -> Iterator[FeedBatch]:
        last_id: str | None = None
        while True:
            filters = [
                Filter(
                    property_name=self._query.modstamp_field,
                    operator="EQ",
                    value=str(epoch_ms(modstamp)),
                )
            ]
            if last_id is not None:
                filters.append(
                    Filter(property_name=self._query.id_field, operator="GT", value=last_id)
                )
            results = self._run(filters, self._query.id_field, 0)["results"]
            done = len(results) < self._query.page_size
            yield FeedBatch(results, run_complete=done)
            if done:
                return
            last_id = str(results[-1].get("id"))

    def _run(self, filters: list[Filter], sort_by: str, after: int) -> dict[str, Any]:
        request = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=filters)],
            sorts=[{"propertyName": sort_by, "direction": "ASCENDING"}],
            properties=list(self._query.properties),
            limit=self._query.page_size,
            after=str(after),
        )
        self.queries += 1
        body = self._search(request)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            msg = "HubSpot search answered without a results list"
            raise FatalError(msg)
        total = body.get("total")
        return {
            "results": results,
            "total": int(total) if isinstance(total, int | str) and str(total).isdigit() else 0,
            "paging": body.get("paging"),
        }
