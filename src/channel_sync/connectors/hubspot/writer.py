"""HubSpot writes: batch upserts keyed on the unique canonical-id property, batch archive.

Each input carries an ``objectWriteTraceId`` (its position), so the per-record results of a 207
answer map back to the right operation even when HubSpot reorders them. Values are checked
against the property definitions first: an invalid enumeration option would make HubSpot refuse
the whole batch, so such a record is refused alone, before it costs a call; whatever slips past
is isolated by bisection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    Configuration,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

from channel_sync.connectors.batching import chunked, isolate
from channel_sync.connectors.hubspot.errors import classify_item
from channel_sync.connectors.hubspot.transport import HubSpotTransport
from channel_sync.connectors.protocol import (
    Delete,
    ObjectDescription,
    ObjectSpec,
    RemoteRecord,
    Upsert,
    WriteResult,
)
from channel_sync.errors import ChannelSyncError, ConfigurationError, RecordError, RetriableError

BATCH_LIMIT = 100


def wire_value(value: Any) -> str:
    """HubSpot property values are strings; ``""`` clears a property."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def precheck(
    description: ObjectDescription, spec: ObjectSpec, op: Upsert
) -> ChannelSyncError | None:
    """The error HubSpot would refuse the whole batch with for this record, if any."""
    for name, value in op.fields.items():
        if name == spec.key_field:
            continue
        info = description.fields.get(name)
        if info is None:
            return ConfigurationError(f"HubSpot deals have no property {name!r}")
        if not info.updateable:
            return ConfigurationError(f"HubSpot property {name!r} is read-only")
        text = wire_value(value)
        if info.type == "enumeration" and info.picklist_values and text:
            options = set(info.picklist_values)
            wanted = text.split(";") if ";" in text else [text]
            bad = [v for v in wanted if v not in options]
            if bad:
                return RecordError(
                    f"HubSpot INVALID_OPTION: {', '.join(bad)} is not an option of {name}"
                )
    return None


class HubSpotWriter:
    def __init__(self, transport: HubSpotTransport, batch_size: int = BATCH_LIMIT) -> None:
        self.transport = transport
        self.batch_size = batch_size
        # The client's models copy (and re-apply the logging of) a fresh configuration for
        # every record unless they are handed one; a batch shares this one.
        self._models = Configuration.get_default_copy()

    def upsert(
        self, spec: ObjectSpec, description: ObjectDescription, ops: Sequence[Upsert]
    ) -> list[WriteResult]:
        """Results in input order; refused-before-sending records never reach the API."""
        results: list[WriteResult | None] = [None] * len(ops)
        sendable: list[tuple[int, Upsert]] = []
        for index, op in enumerate(ops):
            problem = precheck(description, spec, op)
            if problem is None:
                sendable.append((index, op))
            else:
                results[index] = WriteResult(op.key, error=problem)
        for part in chunked(sendable, self.batch_size):
            answered = isolate([op for _, op in part], lambda b: self._send(spec, b), _failed)
            for (index, _), result in zip(part, answered, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def _send(self, spec: ObjectSpec, ops: Sequence[Upsert]) -> list[WriteResult]:
        keyed = [(n, op) for n, op in enumerate(ops) if op.remote_id is None]
        stamped = [(n, op) for n, op in enumerate(ops) if op.remote_id is not None]
        placed: list[WriteResult | None] = [None] * len(ops)
        if keyed:
            done = self._send_upserts(spec, [op for _, op in keyed])
            for (n, _), result in zip(keyed, done, strict=True):
                placed[n] = result
        if stamped:
            done = self._send_stamps(spec, [op for _, op in stamped])
            for (n, _), result in zip(stamped, done, strict=True):
                placed[n] = result
        return [r for r in placed if r is not None]

    def _send_stamps(self, spec: ObjectSpec, ops: Sequence[Upsert]) -> list[WriteResult]:
        """Update deals created in HubSpot by their own id, setting the canonical-id property."""
        inputs = [
            SimplePublicObjectBatchInput(
                id=op.remote_id,
                object_write_trace_id=str(n),
                properties={
                    **{k: wire_value(v) for k, v in op.fields.items() if k != spec.key_field},
                    spec.key_field: op.key,
                },
                local_vars_configuration=self._models,
            )
            for n, op in enumerate(ops)
        ]
        answer = self.transport.call(
            self.transport.batch_api.update_with_http_info,
            what="batch update",
            idempotent=True,
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=inputs, local_vars_configuration=self._models
            ),
        )
        return _stamp_results(ops, answer.body or {})

    def _send_upserts(self, spec: ObjectSpec, ops: Sequence[Upsert]) -> list[WriteResult]:
        inputs = [
            SimplePublicObjectBatchInputUpsert(
                id=op.key,
                id_property=spec.key_field,
                object_write_trace_id=str(n),
                properties={k: wire_value(v) for k, v in op.fields.items() if k != spec.key_field},
                local_vars_configuration=self._models,
            )
            for n, op in enumerate(ops)
        ]
        answer = self.transport.call(
            self.transport.batch_api.upsert_with_http_info,
            what="batch upsert",
            idempotent=True,
            batch_input_simple_public_object_batch_input_upsert=(
                BatchInputSimplePublicObjectBatchInputUpsert(
                    inputs=inputs, local_vars_configuration=self._models
                )
            ),
        )
        return _upsert_results(spec, ops, answer.body or {})

    def delete(
        self, spec: ObjectSpec, ops: Sequence[Delete], located: dict[str, RemoteRecord]
    ) -> list[WriteResult]:
        ids: dict[str, str] = {}
        for op in ops:
            remote = op.remote_id or (located.get(op.key) or {}).get(spec.id_field)
            if remote:
                ids[op.key] = str(remote)
        for chunk in chunked(sorted(set(ids.values())), BATCH_LIMIT):
            self.transport.call(
                self.transport.batch_api.archive_with_http_info,
                what="batch archive",
                idempotent=True,
                batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
                    inputs=[
                        SimplePublicObjectId(id=i, local_vars_configuration=self._models)
                        for i in chunk
                    ],
                    local_vars_configuration=self._models,
                ),
            )
        # Archiving is idempotent and a key with no live record is already gone.
        return [WriteResult(op.key, remote_id=ids.get(op.key)) for op in ops]


def _failed(op: Upsert, error: ChannelSyncError) -> WriteResult:
    return WriteResult(op.key, error=error)


def _stamp_results(ops: Sequence[Upsert], body: Mapping[str, Any]) -> list[WriteResult]:
    by_id: dict[str, WriteResult] = {}
    by_trace: dict[str, WriteResult] = {}
    for result in body.get("results") or []:
        remote = str(result.get("id"))
        by_id[remote] = WriteResult("", remote_id=remote, created=False)
    for error in body.get("errors") or []:
        problem, code = classify_item(error)
        failed = WriteResult("", error=problem, error_code=code)
        context = error.get("context") or {}
        for remote in (*(context.get("ids") or ()), *(context.get("id") or ())):
            by_id[str(remote)] = failed
        for trace in context.get("objectWriteTraceId") or ():
            by_trace[str(trace)] = failed
    out: list[WriteResult] = []
    for n, op in enumerate(ops):
        found = by_trace.get(str(n)) or by_id.get(str(op.remote_id))
        if found is None:
            missing = RetriableError(f"HubSpot returned no result for {op.key}")
            out.append(WriteResult(op.key, error=missing))
        else:
            out.append(WriteResult(op.key, op.remote_id, False, found.error, found.error_code))
    return out


def _upsert_results(
    spec: ObjectSpec, ops: Sequence[Upsert], body: Mapping[str, Any]
) -> list[WriteResult]:
    by_trace: dict[str, WriteResult] = {}
    by_key: dict[str, WriteResult] = {}
    for result in body.get("results") or []:
        props = result.get("properties") or {}
        key = str(props.get(spec.key_field) or "")
        outcome = WriteResult(
            key, remote_id=str(result.get("id")), created=bool(result.get("new", False))
        )
        trace = result.get("objectWriteTraceId")
        if trace is not None:
            by_trace[str(trace)] = outcome
        if key:
            by_key[key] = outcome
    for error in body.get("errors") or []:
        context = error.get("context") or {}
        problem, code = classify_item(error)
        for trace in context.get("objectWriteTraceId") or ():
            by_trace[str(trace)] = WriteResult("", error=problem, error_code=code)
        for key in context.get("id") or context.get("ids") or ():
            by_key.setdefault(str(key), WriteResult(str(key), error=problem, error_code=code))
    out: list[WriteResult] = []
    for n, op in enumerate(ops):
        found = by_trace.get(str(n)) or by_key.get(op.key)
        if found is None:
            missing = RetriableError(f"HubSpot returned no result for {op.key}")
            out.append(WriteResult(op.key, error=missing))
        else:
            out.append(
                WriteResult(op.key, found.remote_id, found.created, found.error, found.error_code)
            )
    return out
