"""sObject Rows: create, read, update and delete one record, and the by-external-id variants
(read, upsert, delete)."""

from __future__ import annotations

from typing import Any, Final

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import (
    RecordProblem,
    RefusedRecordError,
    SalesforceApiError,
    not_found,
)
from channel_sync.sandbox.salesforce.ids import normalize_id
from channel_sync.sandbox.salesforce.schema import FieldSpec
from channel_sync.sandbox.salesforce.soql_eval import Record, project
from channel_sync.sandbox.salesforce.store import OpportunityStore
from channel_sync.sandbox.salesforce.writes import check_record, decode_fields

UPSERT_RESULT_SINCE: Final = 46.0  # older versions answer an upsert-update with 204


def bad_external_field(value: str) -> SalesforceApiError:
    return not_found(f"Provided external ID field does not exist or is not accessible: {value}")


def refused(problem: RecordProblem) -> SalesforceApiError:
    """A record-level refusal of a single-record request, with the status an org uses."""
    if problem.code == "ENTITY_IS_DELETED":
        return SalesforceApiError.from_problem(problem, 404)
    if problem.code == "INVALID_CROSS_REFERENCE_KEY":
        return not_found()
    return SalesforceApiError.from_problem(problem, 400)


def requested_fields(raw: str | None) -> tuple[FieldSpec, ...]:
    if raw is None or not raw.strip():
        return schema.FIELDS
    specs: list[FieldSpec] = []
    for name in (part.strip() for part in raw.split(",")):
        spec = schema.field(name)
        if spec is None:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{schema.OBJECT_NAME}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        if spec not in specs:
            specs.append(spec)
    return tuple(specs)


class RowsApi:
    def __init__(self, store: OpportunityStore) -> None:
        self.store = store

    # -- by Id ---------------------------------------------------------------------------------
    def create(self, req: ApiRequest) -> ApiResponse:
        body = req.object_payload(schema.OBJECT_NAME)
        fields = decode_fields(body, raw=req.raw)
        try:
            record = self.store.create(check_record(fields, "create"), req.user_id)
        except RefusedRecordError as exc:
            raise refused(exc.problem) from None
        location = f"/services/data/v{req.version}/sobjects/{schema.OBJECT_NAME}/{record['Id']}"
        return ApiResponse(
            201,
            {"id": record["Id"], "success": True, "errors": []},
            headers={"Location": location},
            records_written=1,
        )

    def _record(self, segment: str) -> Record:
        record_id = normalize_id(segment)
        if record_id is None:
            raise bad_external_field(segment)
        record = self.store.get(record_id)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    def get(self, req: ApiRequest, segment: str) -> ApiResponse:
        fields = requested_fields(req.param("fields"))
        record = self._record(segment)
        return ApiResponse(200, project(record, fields, req.version), records_read=1)

    def update(self, req: ApiRequest, segment: str) -> ApiResponse:
        record = self._record(segment)
        return self._update(req, record)

    def _update(self, req: ApiRequest, record: Record) -> ApiResponse:
        body = req.object_payload(schema.OBJECT_NAME)
        fields = decode_fields(body, raw=req.raw)
        body_id = fields.pop("Id", None)
        if body_id not in (None, record["Id"]) and normalize_id(str(body_id)) != record["Id"]:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Unable to create/update fields: Id. Please check the security settings of this "
                "field and verify that it is read/write for your profile or permission set.",
                ("Id",),
            )
        try:
            self.store.update(record["Id"], check_record(fields, "update"), req.user_id)
        except RefusedRecordError as exc:
            raise refused(exc.problem) from None
        return ApiResponse(204, records_written=1)

    def delete(self, req: ApiRequest, segment: str) -> ApiResponse:
        record = self._record(segment)
        return self._delete(req, record)

    def _delete(self, req: ApiRequest, record: Record) -> ApiResponse:
        try:
            self.store.delete(record["Id"], req.user_id)
        except RefusedRecordError as exc:
            raise refused(exc.problem) from None
        return ApiResponse(204, records_written=1)

    # -- by external id ------------------------------------------------------------------------
    def _by_external(self, field_name: str, value: str) -> Record | None:
        spec = schema.field(field_name)
        if spec is None or not spec.external_id:
            raise bad_external_field(field_name)
        return self.store.by_external_id(value)

    def get_by_external(self, req: ApiRequest, field_name: str, value: str) -> ApiResponse:
        fields = requested_fields(req.param("fields"))
        record = self._by_external(field_name, value)
        if record is None:
            raise not_found()
        return ApiResponse(200, project(record, fields, req.version), records_read=1)

    def delete_by_external(self, req: ApiRequest, field_name: str, value: str) -> ApiResponse:
        record = self._by_external(field_name, value)
        if record is None:
            raise not_found()
        return self._delete(req, record)

    def upsert(self, req: ApiRequest, field_name: str, value: str) -> ApiResponse:
        existing = self._by_external(field_name, value)
        body = req.object_payload(schema.OBJECT_NAME)
        fields = decode_fields(body, raw=req.raw)
        ext = schema.EXTERNAL_ID_FIELD
        if ext in fields and (fields[ext] or "").casefold() != value.casefold():
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"The value of {ext} in the request body does not match the value in the URL",
                (ext,),
            )
        fields[ext] = value if existing is None else existing[ext]
        newer = float(req.version) >= UPSERT_RESULT_SINCE
        try:
            if existing is None:
                if req.flag("updateOnly"):
                    raise not_found()
                record = self.store.create(check_record(fields, "create"), req.user_id)
                body_out: dict[str, Any] = {"id": record["Id"], "success": True, "errors": []}
                if newer:
                    body_out["created"] = True
                return ApiResponse(201, body_out, records_written=1)
            fields.pop(ext)
            self.store.update(existing["Id"], check_record(fields, "update"), req.user_id)
        except RefusedRecordError as exc:
            raise refused(exc.problem) from None
        if not newer:
            return ApiResponse(204, records_written=1)
        return ApiResponse(
            200,
            {"id": existing["Id"], "success": True, "errors": [], "created": False},
            records_written=1,
        )
