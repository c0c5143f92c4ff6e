"""Salesforce writes packed for the fewest API calls.

An sObject Collections upsert takes 200 records keyed on the external-id field and counts as
one call; a Composite request carries up to five such collections (1,000 records) and also
counts as one. Writes are upserts on the canonical id, so resending any of them is harmless.
``allOrNone`` is false everywhere: each record succeeds or fails on its own, and the results
come back in input order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_sync.connectors.protocol import Upsert, WriteResult
from channel_sync.connectors.salesforce.errors import (
    SALESFORCE_ERRORS,
    classify_item,
    vendor_error,
)
from channel_sync.errors import ChannelSyncError, FatalError

COLLECTION_LIMIT = 200
COMPOSITE_COLLECTIONS = 5
#: Fields that Salesforce sets itself and refuses in a write body.
SYSTEM_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "attributes",
    }
)


@dataclass(frozen=True, slots=True)
class Collection:
    """One collection upsert: its records and where its results go."""

    ops: Sequence[Upsert]
    body: dict[str, Any]
    #: Stamping collections update records by ``Id`` (PATCH /composite/sobjects) instead of
    #: upserting on the external id.
    by_id: bool = False

    def path(self, object_name: str, key_field: str) -> str:
        if self.by_id:
            return "composite/sobjects"
        return f"composite/sobjects/{object_name}/{key_field}"


def collection(
    object_name: str, key_field: str, ops: Sequence[Upsert], *, by_id: bool = False
) -> Collection:
    records = []
    for op in ops:
        record: dict[str, Any] = {"attributes": {"type": object_name}}
        record.update((k, v) for k, v in op.fields.items() if k not in SYSTEM_FIELDS)
        record[key_field] = op.key
        if by_id:
            record["Id"] = op.remote_id
        records.append(record)
    return Collection(ops, {"allOrNone": False, "records": records}, by_id)


def composite_body(
    collections: Sequence[Collection], *, data_path: str, object_name: str, key_field: str
) -> dict[str, Any]:
    return {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "PATCH",
                "url": f"{data_path}/{c.path(object_name, key_field)}",
                "referenceId": f"upsert{n}",
                "body": c.body,
            }
            for n, c in enumerate(collections)
        ],
    }


def collection_results(ops: Sequence[Upsert], body: Any) -> list[WriteResult]:
    """Map a collection's result list (input order) back to the operations."""
    if not isinstance(body, list) or len(body) != len(ops):
        size = len(body) if isinstance(body, list) else "no"
        msg = f"Salesforce answered {size} results for {len(ops)} records"
        raise FatalError(msg)
    out = []
    for op, raw in zip(ops, body, strict=True):
        item: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if item.get("success"):
            created = item.get("created")
            out.append(
                WriteResult(
                    op.key,
                    remote_id=str(item.get("id")) if item.get("id") else None,
                    created=bool(created) if created is not None else None,
                )
            )
        else:
            error, code = classify_item(item.get("errors"))
            out.append(WriteResult(op.key, error=error, error_code=code))
    return out


def subrequest_outcome(
    ops: Sequence[Upsert], answer: Mapping[str, Any], now: Any
) -> list[WriteResult] | ChannelSyncError:
    """One Composite subrequest: per-record results, or the error that refused all of it."""
    status = answer.get("httpStatusCode")
    body = answer.get("body")
    if status == 200:
        return collection_results(ops, body)
    code = int(status) if isinstance(status, int) else None
    headers = answer.get("httpHeaders") or {}
    return SALESFORCE_ERRORS.classify(vendor_error(code, body, headers, now))
