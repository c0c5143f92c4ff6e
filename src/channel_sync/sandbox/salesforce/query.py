"""SOQL query and queryAll with query locators and ``nextRecordsUrl`` paging.

A locator keeps the rows its query matched (the stored record versions at query time), so later
pages show the result as it was, not as it is, and paging stays consistent while writes go on.
Like an org, each user keeps at most ten open locators (the oldest is dropped), a locator
expires after fifteen minutes without use, and it closes once its last page is fetched.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from channel_sync.clock import Clock
from channel_sync.sandbox.salesforce.errors import SalesforceApiError
from channel_sync.sandbox.salesforce.ids import IdFactory
from channel_sync.sandbox.salesforce.schema import FieldSpec
from channel_sync.sandbox.salesforce.soql_eval import Record, lower_bound, project, select
from channel_sync.sandbox.salesforce.soql_parser import parse
from channel_sync.sandbox.salesforce.store import OpportunityStore

DEFAULT_BATCH: Final = 2000
MIN_BATCH: Final = 200
MAX_BATCH: Final = 2000
MAX_OPEN_PER_USER: Final = 10
IDLE_EXPIRY: Final = timedelta(minutes=15)
_BATCH_OPTION: Final = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_LOCATOR: Final = re.compile(r"^(01g[0-9A-Za-z]{15})-(\d+)$")


def _invalid_locator() -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


def batch_size(header: str | None, default: int) -> int:
    """Honour ``Sforce-Query-Options: batchSize=N`` within Salesforce's 200..2000 bounds."""
    if header:
        found = _BATCH_OPTION.search(header)
        if found is not None:
            return max(MIN_BATCH, min(MAX_BATCH, int(found.group(1))))
    return default


@dataclass
class _Cursor:
    user_id: str
    rows: list[Record]
    fields: tuple[FieldSpec, ...]
    batch: int
    touched: datetime


@dataclass(frozen=True)
class QueryPage:
    body: dict[str, Any]
    records_read: int


class QueryService:
    def __init__(self, store: OpportunityStore, clock: Clock, org_name: str) -> None:
        self._store = store
        self._clock = clock
        self._locators = IdFactory("01g", org_name)
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self.default_batch = DEFAULT_BATCH

    def run(
        self, soql: str, *, include_deleted: bool, version: str, batch: int, user_id: str
    ) -> QueryPage:
        if not soql.strip():
            raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        query = parse(soql, self._clock.now())
        since = lower_bound(query.where, "SystemModstamp")
        source = (
            self._store.rows(include_deleted=include_deleted)
            if since is None
            else self._store.rows_since(since, include_deleted=include_deleted)
        )
        rows = select(query, source)
        if query.fields is None:
            return QueryPage({"totalSize": len(rows), "done": True, "records": []}, 0)
        cursor = _Cursor(user_id, rows, query.fields, batch, self._clock.now())
        return self._page(cursor, None, 0, version)

    def more(self, locator: str, version: str, batch: int | None) -> QueryPage:
        found = _LOCATOR.match(locator)
        if found is None:
            raise _invalid_locator()
        key, offset = found.group(1), int(found.group(2))
        self._expire()
        cursor = self._cursors.get(key)
        if cursor is None or offset <= 0 or offset >= len(cursor.rows):
            raise _invalid_locator()
        if batch is not None:
            cursor.batch = batch
        cursor.touched = self._clock.now()
        self._cursors.move_to_end(key)
        return self._page(cursor, key, offset, version)

    def clear(self) -> None:
        self._cursors.clear()

    def _page(self, cursor: _Cursor, key: str | None, offset: int, version: str) -> QueryPage:
        end = offset + cursor.batch
        chunk = cursor.rows[offset:end]
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": end >= len(cursor.rows)}
        if end < len(cursor.rows):
            if key is None:
                key = self._open(cursor)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{key}-{end}"
        elif key is not None:
            self._cursors.pop(key, None)
        body["records"] = [project(r, cursor.fields, version) for r in chunk]
        return QueryPage(body, len(chunk))

    def _open(self, cursor: _Cursor) -> str:
        self._expire()
        mine = [k for k, c in self._cursors.items() if c.user_id == cursor.user_id]
        for stale in mine[: max(0, len(mine) - MAX_OPEN_PER_USER + 1)]:
            del self._cursors[stale]
        key = self._locators.next()
        self._cursors[key] = cursor
        return key

    def _expire(self) -> None:
        horizon = self._clock.now() - IDLE_EXPIRY
        for key in [k for k, c in self._cursors.items() if c.touched < horizon]:
            del self._cursors[key]
