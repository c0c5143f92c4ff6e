"""Batch endpoints: read, create, update, upsert and archive, at most 100 inputs each.

The split between "refuse the whole batch" and "report per input" follows HubSpot: a malformed
batch (too many inputs, duplicate ids, unknown or read-only properties, bad values) is refused
with one 400 and nothing is written; record-level failures (missing records, locked records,
unique-value clashes) come back as 207 multi-status with ``errors`` and ``numErrors`` while the
other inputs are written. Batch create only reports per input when every input carries an
``objectWriteTraceId``; otherwise its first failure refuses the batch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channel_sync.sandbox.hubspot.errors import (
    OBJECT_LABEL,
    HubSpotError,
    PropertyProblem,
    locked,
    property_values_invalid,
    validation_error,
)
from channel_sync.sandbox.hubspot.params import (
    check_object_type,
    flag,
    inputs_list,
    json_object,
    properties_object,
    string_list,
)
from channel_sync.sandbox.hubspot.portal import Portal, Values, written_view
from channel_sync.sandbox.hubspot.store import Deal, returned_properties


def _input_id(item: dict[str, Any]) -> str:
    raw = item.get("id")
    if isinstance(raw, bool) or not isinstance(raw, str | int) or str(raw) == "":
        raise validation_error("every input needs an id")
    return str(raw)


def _no_duplicates(keys: list[tuple[str | None, str]]) -> None:
    dupes = sorted({key for (_, key), n in Counter(keys).items() if n > 1})
    if dupes:
        raise validation_error(
            f"Duplicate IDs found in batch input: {dupes}. IDs must be unique", ids=dupes
        )


def _traced(error: HubSpotError, trace_id: str | None, key: str | None = None) -> dict[str, Any]:
    entry = error.as_standard_error()
    if trace_id is not None:
        entry["context"] = {**entry["context"], "objectWriteTraceId": [trace_id]}
    if key is not None:
        entry["context"] = {**entry["context"], "id": [key]}
    return entry


def _missing(key: str) -> HubSpotError:
    return HubSpotError(
        status=404,
        category="OBJECT_NOT_FOUND",
        message=f"Could not find the {OBJECT_LABEL} object with id {key}.",
        context={"id": [key]},
    )


class BatchApi:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def _response(
        self,
        results: list[dict[str, Any]],
        errors: list[dict[str, Any]],
        started: str,
        ok_status: int = 200,
    ) -> JSONResponse:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": self.portal.now_iso(),
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return JSONResponse(body, status_code=207 if errors else ok_status)

    async def _inputs(self, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        check_object_type(request)
        body = await json_object(request)
        return body, inputs_list(body, self.portal.batch_limit)

    def _values(self, inputs: list[dict[str, Any]]) -> list[Values]:
        """Checked values per input, or one 400 naming every problem in the batch."""
        checked: list[Values] = []
        problems: list[PropertyProblem] = []
        for item in inputs:
            values, found = self.portal.check_values(properties_object(item.get("properties")))
            checked.append(values)
            problems.extend(found)
        if problems:
            raise property_values_invalid(problems)
        return checked

    async def read(self, request: Request) -> Response:
        body, inputs = await self._inputs(request)
        started = self.portal.now_iso()
        id_property = self.portal.id_property(body.get("idProperty"))
        names = returned_properties(string_list(body.get("properties"), "properties"))
        archived = flag(request, "archived")
        keys = list(dict.fromkeys(_input_id(i) for i in inputs))
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for key in keys:
            deal = self.portal.find(key, id_property, archived=archived)
            if deal is None:
                missing.append(key)
            else:
                results.append(deal.to_wire(names))
        errors: list[dict[str, Any]] = []
        if missing:
            error = HubSpotError(
                status=404,
                category="OBJECT_NOT_FOUND",
                message=(
                    f"Could not get some {OBJECT_LABEL} objects, they may be deleted or not "
                    "exist. Check that ids are valid."
                ),
                context={"ids": missing},
            )
            errors.append(error.as_standard_error())
        request.state.records_read = len(results)
        return self._response(results, errors, started)

    async def create(self, request: Request) -> Response:
        _, inputs = await self._inputs(request)
        started = self.portal.now_iso()
        traces = [i.get("objectWriteTraceId") for i in inputs]
        traced = bool(inputs) and all(isinstance(t, str) and t for t in traces)
        traced = traced and len(set(traces)) == len(traces)
        errors: list[dict[str, Any]] = []
        planned: list[tuple[Values, str | None]] = []
        if traced:
            for item, trace in zip(inputs, traces, strict=True):
                values, problems = self.portal.check_values(
                    properties_object(item.get("properties"))
                )
                if problems:
                    errors.append(_traced(property_values_invalid(problems), trace))
                else:
                    planned.append((values, trace))
        else:
            planned = [(v, None) for v in self._values(inputs)]
        accepted: list[tuple[Values, str | None]] = []
        claimed: set[str] = set()
        for values, trace in planned:
            problem = self._create_problem(values, claimed)
            if problem is None:
                accepted.append((values, trace))
            elif traced:
                errors.append(_traced(problem, trace))
            else:
                raise problem
        now = self.portal.now_ms()
        results = []
        for values, trace in accepted:
            deal = self.portal.store.create(values, now)
            view = written_view(deal, values)
            if trace is not None:
                view["objectWriteTraceId"] = trace
            results.append(view)
        request.state.records_written = len(results)
        return self._response(results, errors, started, ok_status=201)

    def _create_problem(self, values: Values, claimed: set[str]) -> HubSpotError | None:
        unique = values.get("channel_sync_id")
        if self.portal.is_locked(None, unique):
            return locked(unique or "")
        try:
            self.portal.store.unique_conflict(values, None)
        except HubSpotError as error:
            return error
        if unique is not None:
            if unique in claimed:
                return HubSpotError(
                    status=409,
                    category="CONFLICT",
                    message=(
                        f"{unique} already has that value in this batch for unique property "
                        "channel_sync_id"
                    ),
                    context={"propertyName": ["channel_sync_id"]},
                )
            claimed.add(unique)
        return None

    async def update(self, request: Request) -> Response:
        _, inputs = await self._inputs(request)
        started = self.portal.now_iso()
        portal = self.portal
        targets = [(portal.id_property(i.get("idProperty")), _input_id(i)) for i in inputs]
        _no_duplicates(targets)
        checked = self._values(inputs)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        now = portal.now_ms()
        for (id_property, key), values in zip(targets, checked, strict=True):
            deal = portal.find(key, id_property)
            try:
                if deal is None:
                    raise _missing(key)
                self._write(deal, values, now)
            except HubSpotError as error:
                errors.append(_traced(error, None))
                continue
            results.append(written_view(deal, values))
        request.state.records_written = len(results)
        return self._response(results, errors, started)

    def _write(self, deal: Deal, values: Values, now: int, *keys: str | None) -> None:
        self.portal.check_lock(deal, values.get("channel_sync_id"), *keys)
        self.portal.store.update(deal, values, now)

    async def upsert(self, request: Request) -> Response:
        _, inputs = await self._inputs(request)
        started = self.portal.now_iso()
        portal = self.portal
        targets: list[tuple[str | None, str]] = []
        for item in inputs:
            name = item.get("idProperty")
            if not isinstance(name, str) or not name:
                raise validation_error("idProperty is required for upsert inputs")
            targets.append((portal.id_property(name, for_write=True), _input_id(item)))
        _no_duplicates(targets)
        checked = self._values(inputs)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        now = portal.now_ms()
        for item, (id_property, key), given in zip(inputs, targets, checked, strict=True):
            assert id_property is not None
            trace = item.get("objectWriteTraceId")
            values = {**given, id_property: key}
            deal = portal.find(key, id_property)
            try:
                if deal is None:
                    portal.check_lock(None, key)
                    deal = portal.store.create(values, now)
                    created = True
                else:
                    self._write(deal, values, now, key)
                    created = False
            except HubSpotError as error:
                errors.append(_traced(error, trace if isinstance(trace, str) else None, key))
                continue
            view = written_view(deal, values)
            view["new"] = created
            if isinstance(trace, str):
                view["objectWriteTraceId"] = trace
            results.append(view)
        request.state.records_written = len(results)
        return self._response(results, errors, started)

    async def archive(self, request: Request) -> Response:
        _, inputs = await self._inputs(request)
        portal = self.portal
        deals = [d for d in (portal.find(_input_id(i), None) for i in inputs) if d is not None]
        for deal in deals:
            portal.check_lock(deal)
        now = portal.now_ms()
        for deal in deals:
            portal.store.archive(deal, now)
        request.state.records_written = len(deals)
        return Response(status_code=204)
