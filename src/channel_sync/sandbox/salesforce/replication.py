"""The replication resources ``updated/`` and ``deleted/`` of an sObject.

Like an org, they ignore the seconds of ``start`` and ``end``, cover changes keyed on
SystemModstamp in ``[start, end)``, reach back 30 days (updated) and 15 days (deleted), and
report ``latestDateCovered`` no later than the current minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from channel_sync.clock import Clock
from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import SalesforceApiError
from channel_sync.sandbox.salesforce.store import OpportunityStore
from channel_sync.sandbox.salesforce.values import format_datetime, parse_datetime

UPDATED_HORIZON: Final = timedelta(days=30)
DELETED_HORIZON: Final = timedelta(days=15)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _bad_date(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_REPLICATION_DATE", message)


class ReplicationApi:
    def __init__(self, store: OpportunityStore, clock: Clock, born: datetime) -> None:
        self.store = store
        self.clock = clock
        self.born = born

    def _window(self, req: ApiRequest, horizon: timedelta) -> tuple[datetime, datetime, datetime]:
        raw_start, raw_end = req.param("start"), req.param("end")
        if raw_start is None or raw_end is None:
            raise SalesforceApiError(
                400, "MISSING_ARGUMENT", "Both start and end parameters are required"
            )
        start = parse_datetime(raw_start.replace(" ", "+"))
        end = parse_datetime(raw_end.replace(" ", "+"))
        if start is None or end is None:
            bad = raw_start if start is None else raw_end
            raise SalesforceApiError(400, "INVALID_REPLICATION_DATE", f"Invalid date format: {bad}")
        now = self.clock.now()
        start, end = _minute(start), _minute(end)
        if end < start:
            raise _bad_date("EndDate can not be before StartDate")
        if start < _minute(now - horizon):
            days = horizon.days
            raise _bad_date(f"startDate cannot be more than {days} days ago")
        covered = min(end, _minute(now))
        return start, end, covered

    def updated(self, req: ApiRequest) -> ApiResponse:
        start, _, covered = self._window(req, UPDATED_HORIZON)
        ids = [
            r["Id"]
            for r in self.store.rows(include_deleted=False)
            if start <= r["SystemModstamp"] < covered
        ]
        return ApiResponse(200, {"ids": ids, "latestDateCovered": format_datetime(covered)})

    def deleted(self, req: ApiRequest) -> ApiResponse:
        start, _, covered = self._window(req, DELETED_HORIZON)
        earliest = max(_minute(self.born), _minute(self.clock.now() - DELETED_HORIZON))
        body: dict[str, Any] = {
            "deletedRecords": [
                {"id": rid, "deletedDate": format_datetime(when)}
                for rid, when in self.store.delete_log
                if start <= when < covered and when >= earliest
            ],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(covered),
        }
        return ApiResponse(200, body)
