"""sObject Collections: create, update, upsert, delete and retrieve up to 200 records (retrieve:
2,000) in one call, with per-record results in request order and optional all-or-none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.api_rows import requested_fields
from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import (
    ROLLED_BACK_MESSAGE,
    RecordProblem,
    RefusedRecordError,
    SalesforceApiError,
    json_parser_error,
)
from channel_sync.sandbox.salesforce.ids import normalize_id
from channel_sync.sandbox.salesforce.soql_eval import project
from channel_sync.sandbox.salesforce.store import OpportunityStore
from channel_sync.sandbox.salesforce.writes import check_record, decode_fields, no_such_column

MAX_RECORDS: Final = 200
MAX_RETRIEVE: Final = 2000
EXT = schema.EXTERNAL_ID_FIELD
_ROLLED_BACK = RecordProblem("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK_MESSAGE)

Result = dict[str, Any]


def too_many(limit: int = MAX_RECORDS) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


def _failure(problem: RecordProblem, record_id: str | None = None) -> Result:
    result: Result = {"success": False, "errors": [problem.as_item_error()]}
    if record_id is not None:
        result = {"id": record_id, **result}
    return result


def _records(req: ApiRequest) -> tuple[list[dict[str, Any]], bool]:
    body = req.object_payload("SObjectCollectionRequest")
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise json_parser_error(
            "Cannot deserialize the records of the request: expected an array of objects at "
            "[line:1, column:1]"
        )
    if len(records) > MAX_RECORDS:
        raise too_many()
    for record in records:
        attributes = record.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(kind, str) or not kind:
            raise SalesforceApiError(
                400, "INVALID_TYPE", "Must specify a type in the attributes of every record"
            )
        if kind.lower() != schema.OBJECT_NAME.lower():
            raise SalesforceApiError(
                400, "INVALID_TYPE", f"sObject type '{kind}' is not supported."
            )
        # Unknown fields refuse the whole request before anything is written.
        for key in record:
            if key != "attributes" and schema.field(key) is None:
                raise no_such_column(key)
    return records, bool(body.get("allOrNone", False))


class CollectionsApi:
    def __init__(self, store: OpportunityStore) -> None:
        self.store = store

    def _run(
        self,
        items: list[Any],
        all_or_none: bool,
        one: Callable[[Any], Result],
        *,
        keep_ids: bool = False,
    ) -> ApiResponse:
        results: list[Result] = []
        with self.store.transaction() as point:
            for item in items:
                try:
                    results.append(one(item))
                except RefusedRecordError as exc:
                    results.append(_failure(exc.problem, _known_id(item)))
            failed = any(not r["success"] for r in results)
            if all_or_none and failed:
                self.store.rollback(point)
                results = [
                    r if not r["success"] else _failure(_ROLLED_BACK, r["id"] if keep_ids else None)
                    for r in results
                ]
        written = sum(1 for r in results if r["success"])
        return ApiResponse(200, results, records_written=written)

    def create(self, req: ApiRequest) -> ApiResponse:
        records, all_or_none = _records(req)

        def one(record: dict[str, Any]) -> Result:
            fields = decode_fields(record, per_record_types=True)
            created = self.store.create(check_record(fields, "create"), req.user_id)
            return {"id": created["Id"], "success": True, "errors": []}

        return self._run(records, all_or_none, one)

    def update(self, req: ApiRequest) -> ApiResponse:
        records, all_or_none = _records(req)

        def one(record: dict[str, Any]) -> Result:
            fields = decode_fields(record, per_record_types=True)
            raw_id = fields.pop("Id", None)
            if not raw_id:
                raise RefusedRecordError(
                    RecordProblem("MISSING_ARGUMENT", "Id not specified in an update call")
                )
            record_id = normalize_id(str(raw_id))
            if record_id is None:
                raise RefusedRecordError(RecordProblem("MALFORMED_ID", f"malformed id {raw_id}"))
            self.store.update(record_id, check_record(fields, "update"), req.user_id)
            return {"id": record_id, "success": True, "errors": []}

        return self._run(records, all_or_none, one)

    def upsert(self, req: ApiRequest, field_name: str) -> ApiResponse:
        spec = schema.field(field_name)
        if spec is None or not spec.external_id:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"Field name provided, {field_name} is not an External ID or indexed field for "
                f"{schema.OBJECT_NAME}",
            )
        records, all_or_none = _records(req)
        keys = Counter(
            r.get(spec.name, "").casefold() for r in records if isinstance(r.get(spec.name), str)
        )

        def one(record: dict[str, Any]) -> Result:
            fields = decode_fields(record, per_record_types=True)
            value = fields.get(EXT)
            if not value:
                raise RefusedRecordError(
                    RecordProblem("MISSING_ARGUMENT", f"{EXT} not specified", (EXT,))
                )
            if keys[value.casefold()] > 1:
                raise RefusedRecordError(
                    RecordProblem(
                        "DUPLICATE_EXTERNAL_ID",
                        f"Duplicate external id specified: {value}",
                        (EXT,),
                    )
                )
            existing = self.store.by_external_id(value)
            if existing is None:
                created = self.store.create(check_record(fields, "create"), req.user_id)
                return {"id": created["Id"], "success": True, "errors": [], "created": True}
            fields.pop(EXT)
            self.store.update(existing["Id"], check_record(fields, "update"), req.user_id)
            return {"id": existing["Id"], "success": True, "errors": [], "created": False}

        return self._run(records, all_or_none, one)

    def delete(self, req: ApiRequest) -> ApiResponse:
        raw = req.param("ids") or ""
        ids = [part.strip() for part in raw.split(",") if part.strip()]
        if not ids:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "The ids parameter is required")
        if len(ids) > MAX_RECORDS:
            raise too_many()

        def one(given: str) -> Result:
            record_id = normalize_id(given)
            if record_id is None:
                raise RefusedRecordError(RecordProblem("MALFORMED_ID", f"malformed id {given}"))
            self.store.delete(record_id, req.user_id)
            return {"id": record_id, "success": True, "errors": []}

        return self._run(ids, req.flag("allOrNone"), one, keep_ids=True)

    def retrieve(self, req: ApiRequest) -> ApiResponse:
        if req.method == "POST":
            body = req.object_payload("SObjectCollectionRetrieveRequest")
            ids_in, fields_in = body.get("ids"), body.get("fields")
            ids = [str(i) for i in ids_in] if isinstance(ids_in, list) else []
            field_names = ",".join(str(f) for f in fields_in) if isinstance(fields_in, list) else ""
        else:
            ids = [p.strip() for p in (req.param("ids") or "").split(",") if p.strip()]
            field_names = req.param("fields") or ""
        if not ids:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "The ids parameter is required")
        if not field_names.strip():
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "The fields parameter is required")
        if len(ids) > MAX_RETRIEVE:
            raise too_many(MAX_RETRIEVE)
        fields = requested_fields(field_names)
        out: list[dict[str, Any] | None] = []
        for given in ids:
            record_id = normalize_id(given)
            record = self.store.get(record_id) if record_id is not None else None
            if record is None or record["IsDeleted"]:
                out.append(None)
            else:
                out.append(project(record, fields, req.version))
        return ApiResponse(200, out, records_read=sum(1 for r in out if r is not None))


def _known_id(item: Any) -> str | None:
    """Delete results name the id they were given, success or not."""
    return item if isinstance(item, str) else None
