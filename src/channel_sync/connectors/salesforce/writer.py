"""Salesforce writes: upserts packed into Composite requests, deletes through Collections.

Up to five 200-record collection upserts travel in one Composite request, one API call for
1,000 records; a single collection is sent bare (same cost, smaller request). A collection
refused as a whole for its data (a JSON type error in one record, say) is bisected until the
offending records stand alone; everything else in it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from simple_salesforce.api import Salesforce

from channel_sync.connectors.batching import chunked, isolate
from channel_sync.connectors.protocol import Delete, ObjectSpec, RemoteRecord, Upsert, WriteResult
from channel_sync.connectors.salesforce.errors import classify_item
from channel_sync.connectors.salesforce.packing import (
    COLLECTION_LIMIT,
    COMPOSITE_COLLECTIONS,
    Collection,
    collection,
    collection_results,
    composite_body,
    subrequest_outcome,
)
from channel_sync.connectors.salesforce.transport import SalesforceTransport
from channel_sync.errors import ChannelSyncError, RecordError, RetriableError

Outcome = list[WriteResult] | ChannelSyncError


class SalesforceWriter:
    def __init__(self, transport: SalesforceTransport) -> None:
        self.transport = transport

    def upsert(self, spec: ObjectSpec, ops: Sequence[Upsert]) -> list[WriteResult]:
        """Up to 1,000 upserts in one call, results in input order.

        Stamping writes (``remote_id`` set) travel as update collections by ``Id`` in the same
        Composite request, so they cost no extra call while there is room.
        """
        keyed = [(n, op) for n, op in enumerate(ops) if op.remote_id is None]
        stamped = [(n, op) for n, op in enumerate(ops) if op.remote_id is not None]
        order = [n for n, _ in keyed] + [n for n, _ in stamped]
        collections = [
            collection(spec.name, spec.key_field, [op for _, op in part])
            for part in chunked(keyed, COLLECTION_LIMIT)
        ] + [
            collection(spec.name, spec.key_field, [op for _, op in part], by_id=True)
            for part in chunked(stamped, COLLECTION_LIMIT)
        ]
        results = self._send_all(spec, collections)
        placed: list[WriteResult | None] = [None] * len(ops)
        for n, result in zip(order, results, strict=True):
            placed[n] = result
        return [r for r in placed if r is not None]

    def _send_all(self, spec: ObjectSpec, collections: Sequence[Collection]) -> list[WriteResult]:
        outcomes: list[Outcome] = []
        for group in chunked(collections, COMPOSITE_COLLECTIONS):
            if len(group) == 1:
                outcomes.append(self._send_collection(spec, group[0]))
            else:
                outcomes += self._send_composite(spec, group)
        results: list[WriteResult] = []
        for coll, outcome in zip(collections, outcomes, strict=True):
            if isinstance(outcome, RecordError):
                results += self._isolate(spec, coll)
            elif isinstance(outcome, ChannelSyncError):
                results += [WriteResult(op.key, error=outcome) for op in coll.ops]
            else:
                results += outcome
        return results

    def _isolate(self, spec: ObjectSpec, coll: Collection) -> list[WriteResult]:
        """Bisect a collection refused as a whole until the offending records stand alone."""

        def send(part: Sequence[Upsert]) -> list[WriteResult]:
            smaller = collection(spec.name, spec.key_field, part, by_id=coll.by_id)
            return _raise_or_results(self._send_collection(spec, smaller))

        return isolate(coll.ops, send, lambda op, error: WriteResult(op.key, error=error))

    def delete(
        self, spec: ObjectSpec, ops: Sequence[Delete], located: dict[str, RemoteRecord]
    ) -> list[WriteResult]:
        """Delete by record id (``located`` maps keys without a known id to their records)."""
        ids = {
            op.key: str(op.remote_id or located[op.key][spec.id_field])
            for op in ops
            if op.remote_id or op.key in located
        }
        outcome: dict[str, WriteResult] = {}
        for part in chunked(sorted(set(ids.values())), COLLECTION_LIMIT):
            for remote_id, item in zip(part, self._delete_ids(part), strict=False):
                if item.get("success"):
                    outcome[remote_id] = WriteResult("", remote_id=remote_id)
                    continue
                error, code = classify_item(item.get("errors"))
                if code == "ENTITY_IS_DELETED":
                    outcome[remote_id] = WriteResult("", remote_id=remote_id)
                else:
                    outcome[remote_id] = WriteResult("", remote_id, error=error, error_code=code)
        results = []
        for op in ops:
            remote = ids.get(op.key)
            found = outcome.get(remote) if remote else None
            if found is None:
                # No live record holds the key: the delete has nothing left to do.
                results.append(WriteResult(op.key, remote_id=remote))
            else:
                results.append(WriteResult(op.key, remote, None, found.error, found.error_code))
        return results

    def _delete_ids(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        def send(sf: Salesforce) -> Any:
            return sf.restful(
                "composite/sobjects",
                params={"ids": ",".join(ids), "allOrNone": "false"},
                method="DELETE",
            )

        answer = self.transport.call(send, what="collection delete", idempotent=True)
        return [item if isinstance(item, dict) else {} for item in answer or []]

    def _send_collection(self, spec: ObjectSpec, coll: Collection) -> Outcome:
        def send(sf: Salesforce) -> Any:
            path = coll.path(spec.name, spec.key_field)
            return sf.restful(path, method="PATCH", json=coll.body)

        try:
            body = self.transport.call(send, what="collection upsert", idempotent=True)
        except (RecordError, RetriableError) as error:
            return error
        return collection_results(coll.ops, body)

    def _send_composite(self, spec: ObjectSpec, collections: Sequence[Collection]) -> list[Outcome]:
        body = composite_body(
            collections,
            data_path=self.transport.data_path(),
            object_name=spec.name,
            key_field=spec.key_field,
        )

        def send(sf: Salesforce) -> Any:
            return sf.restful("composite", method="POST", json=body)

        try:
            answer = self.transport.call(send, what="composite upsert", idempotent=True)
        except RetriableError as error:
            return [error for _ in collections]
        replies = {
            str(r.get("referenceId")): r for r in (answer or {}).get("compositeResponse", [])
        }
        now: datetime = self.transport.clock.now()
        outcomes: list[Outcome] = []
        for n, coll in enumerate(collections):
            reply = replies.get(f"upsert{n}")
            if reply is None:
                outcomes.append(RetriableError("Composite answered without this subrequest"))
            else:
                outcomes.append(subrequest_outcome(coll.ops, reply, now))
        return outcomes


def _raise_or_results(outcome: Outcome) -> list[WriteResult]:
    if isinstance(outcome, ChannelSyncError):
        raise outcome
    return outcome
