"""Routes a request under ``/services/data/vXX.X/`` to the resource that serves it.

Every refusal leaves here as a Salesforce-shaped response; nothing below raises past
:meth:`Router.dispatch`, so neither top-level requests nor Composite subrequests can turn into a
500 by accident of input.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Final

from channel_sync.clock import Clock
from channel_sync.sandbox.core.allowance import Allowance
from channel_sync.sandbox.salesforce import describe, schema
from channel_sync.sandbox.salesforce.api_collections import CollectionsApi
from channel_sync.sandbox.salesforce.api_composite import CompositeApi
from channel_sync.sandbox.salesforce.api_rows import RowsApi
from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import SalesforceApiError, not_found
from channel_sync.sandbox.salesforce.query import QueryService, batch_size
from channel_sync.sandbox.salesforce.replication import ReplicationApi
from channel_sync.sandbox.salesforce.store import OpportunityStore

_RESOURCES: Final = (
    "tooling",
    "metadata",
    "eclair",
    "folders",
    "prechatForms",
    "contact-tracing",
    "jsonxform",
    "chatter",
    "tabs",
    "appMenu",
    "quickActions",
    "queryAll",
    "commerce",
    "wave",
    "iot",
    "analytics",
    "search",
    "identity",
    "composite",
    "parameterizedSearch",
    "fingerprint",
    "theme",
    "nouns",
    "event",
    "serviceTemplates",
    "recent",
    "connect",
    "licensing",
    "limits",
    "process",
    "asyncQueries",
    "query",
    "match",
    "emailConnect",
    "compactLayouts",
    "knowledgeManagement",
    "sobjects",
    "actions",
    "support",
)


def _not_allowed(method: str, allowed: str) -> SalesforceApiError:
    return SalesforceApiError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )


class Router:
    def __init__(
        self,
        store: OpportunityStore,
        queries: QueryService,
        allowance: Allowance,
        clock: Clock,
        born: datetime,
    ) -> None:
        self.store = store
        self.queries = queries
        self.allowance = allowance
        self.clock = clock
        self.born = born
        self.rows = RowsApi(store)
        self.collections = CollectionsApi(store)
        self.composite = CompositeApi(store, self.dispatch)
        self.replication = ReplicationApi(store, clock, born)

    def dispatch(self, req: ApiRequest) -> ApiResponse:
        try:
            return self._route(req)
        except SalesforceApiError as exc:
            return ApiResponse(exc.status, exc.body())

    def _route(self, req: ApiRequest) -> ApiResponse:
        parts = req.parts
        head = parts[0] if parts else ""
        if not parts:
            self._only(req, "GET")
            base = f"/services/data/v{req.version}"
            return ApiResponse(200, {name: f"{base}/{name}" for name in _RESOURCES})
        if head == "limits" and len(parts) == 1:
            self._only(req, "GET")
            return ApiResponse(200, self.limits())
        if head in ("query", "queryAll") and len(parts) <= 2:
            self._only(req, "GET")
            return self._query(req)
        if head == "sobjects":
            return self._sobjects(req)
        if head == "composite":
            return self._composite(req)
        raise not_found()

    @staticmethod
    def _only(req: ApiRequest, *methods: str) -> None:
        if req.method not in methods:
            raise _not_allowed(req.method, ",".join(methods))

    def limits(self) -> dict[str, dict[str, int]]:
        daily = self.allowance.daily_limit
        return {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
            "DailyApiRequests": {"Max": daily, "Remaining": self.allowance.remaining()},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        }

    def _query(self, req: ApiRequest) -> ApiResponse:
        header = req.headers.get("sforce-query-options")
        if len(req.parts) == 2:
            batch = batch_size(header, 0) or None
            page = self.queries.more(req.parts[1], req.version, batch)
        else:
            page = self.queries.run(
                req.param("q") or "",
                include_deleted=req.parts[0] == "queryAll",
                version=req.version,
                batch=batch_size(header, self.queries.default_batch),
                user_id=req.user_id,
            )
        return ApiResponse(200, page.body, records_read=page.records_read)

    def _sobjects(self, req: ApiRequest) -> ApiResponse:
        parts = req.parts
        if len(parts) == 1:
            self._only(req, "GET")
            return ApiResponse(200, describe.global_describe(req.version))
        if parts[1].lower() != schema.OBJECT_NAME.lower():
            raise not_found()
        rest = parts[2:]
        if not rest:
            self._only(req, "GET", "POST")
            if req.method == "POST":
                return self.rows.create(req)
            return ApiResponse(200, describe.basic_info(req.version))
        if len(rest) == 1 and rest[0] in ("describe", "updated", "deleted"):
            self._only(req, "GET")
            return self._object_resource(req, rest[0])
        return self._record(req, rest)

    def _object_resource(self, req: ApiRequest, name: str) -> ApiResponse:
        if name == "describe":
            return self._describe(req)
        if name == "updated":
            return self.replication.updated(req)
        return self.replication.deleted(req)

    def _record(self, req: ApiRequest, rest: tuple[str, ...]) -> ApiResponse:
        if len(rest) == 1:
            self._only(req, "GET", "PATCH", "DELETE")
            if req.method == "GET":
                return self.rows.get(req, rest[0])
            if req.method == "PATCH":
                return self.rows.update(req, rest[0])
            return self.rows.delete(req, rest[0])
        if len(rest) == 2:
            self._only(req, "GET", "PATCH", "DELETE")
            if req.method == "GET":
                return self.rows.get_by_external(req, rest[0], rest[1])
            if req.method == "PATCH":
                return self.rows.upsert(req, rest[0], rest[1])
            return self.rows.delete_by_external(req, rest[0], rest[1])
        raise not_found()

    def _describe(self, req: ApiRequest) -> ApiResponse:
        since = req.headers.get("if-modified-since")
        if since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                raise SalesforceApiError(
                    400, "INVALID_HEADER_TYPE", f"Invalid If-Modified-Since: {since}"
                ) from None
            if when.tzinfo is not None and when >= self.born.replace(microsecond=0):
                return ApiResponse(304)
        return ApiResponse(200, describe.object_describe(req.version))

    def _composite(self, req: ApiRequest) -> ApiResponse:
        parts = req.parts
        if len(parts) == 1:
            self._only(req, "POST")
            if req.in_composite:
                raise SalesforceApiError(400, "INVALID_INPUT", "Composite cannot be nested")
            return self.composite.handle(req)
        if parts[1] != "sobjects":
            raise not_found()
        if len(parts) == 2:
            self._only(req, "POST", "PATCH", "DELETE")
            if req.method == "POST":
                return self.collections.create(req)
            if req.method == "PATCH":
                return self.collections.update(req)
            return self.collections.delete(req)
        if parts[2].lower() != schema.OBJECT_NAME.lower():
            raise not_found()
        if len(parts) == 3:
            self._only(req, "GET", "POST")
            return self.collections.retrieve(req)
        if len(parts) == 4:
            self._only(req, "PATCH")
            return self.collections.upsert(req, parts[3])
        raise not_found()
