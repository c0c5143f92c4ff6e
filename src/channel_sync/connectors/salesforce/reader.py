"""Salesforce change reads: ``queryAll`` in cursor order, 2,000 rows per call.

SOQL datetime literals (as ``format_soql`` renders them) carry whole seconds, so "after the
mark" cannot be said exactly: a plain ``SystemModstamp >= floor(mark)`` re-reads every row of
the mark's own second, and after a bulk write that second can hold a thousand rows, which costs
an extra call each cycle. When the read need not look back before the mark, it is split in two
queries sent in *one* Composite request (which counts as one call): the mark's second, which
the cursor's ``seen`` filters, and everything after it. Once a read that ran to the end of the
feed began more than the look-back after the mark's second, that second can hold nothing new and
only the second query is sent. Later pages follow ``nextRecordsUrl``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from simple_salesforce.api import Salesforce

from channel_sync.connectors.cursor import Bound, Cursor, CursorPolicy
from channel_sync.connectors.protocol import RemoteRecord
from channel_sync.connectors.salesforce.errors import SALESFORCE_ERRORS, vendor_error
from channel_sync.connectors.salesforce.soql import SoqlBuilder
from channel_sync.connectors.salesforce.transport import SalesforceTransport
from channel_sync.errors import FatalError

SECOND = timedelta(seconds=1)
#: (rows, run_complete): ``run_complete`` says no later row shares the last row's modstamp.
Batch = tuple[list[RemoteRecord], bool]


class SalesforceReader:
    def __init__(self, transport: SalesforceTransport, batch_size: int) -> None:
        self.transport = transport
        self.headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}

    def changes(
        self,
        soql: SoqlBuilder,
        fields: Sequence[str],
        *,
        modstamp: str,
        record_id: str,
        cursor: Cursor | None,
        policy: CursorPolicy,
    ) -> Iterator[Batch]:
        if cursor is None or not policy.settled(cursor):
            query = soql.changes(
                fields, modstamp=modstamp, record_id=record_id, since=policy.lower_bound(cursor)
            )
            yield from self.follow(self._query(query, include_deleted=True))
            return
        start = cursor.modstamp.replace(microsecond=0)
        end = start + SECOND
        after = soql.changes(
            fields, modstamp=modstamp, record_id=record_id, since=Bound(end, inclusive=True)
        )
        if (
            cursor.complete
            and cursor.read_started is not None
            and cursor.read_started >= end + policy.lookback
        ):
            # The read that left this cursor ran to the end of the feed, so it read the mark's
            # whole second, and it started more than the look-back after that second ended, so
            # nothing can still appear there: an idle cycle re-reads nothing, however large
            # the last burst was.
            yield from self.follow(self._query(after, include_deleted=True))
            return
        in_mark = soql.changes(
            fields,
            modstamp=modstamp,
            record_id=record_id,
            since=Bound(start, inclusive=True),
            before=end,
        )
        first, rest = self._both(in_mark, after)
        yield from self.follow(first)  # the mark's second: whole before anything after it
        yield from self.follow(rest)

    def by_query(self, query: str) -> Iterator[Batch]:
        yield from self.follow(self._query(query, include_deleted=False))

    def follow(self, answer: dict[str, Any]) -> Iterator[Batch]:
        while True:
            done = bool(answer.get("done", True))
            rows = [_plain(r) for r in answer.get("records", [])]
            yield rows, done
            if done:
                return
            answer = self.transport.call(
                partial(_query_more, url=str(answer["nextRecordsUrl"]), headers=self.headers),
                what="query more",
                idempotent=True,
            )

    def _query(self, query: str, *, include_deleted: bool) -> dict[str, Any]:
        def run(sf: Salesforce) -> Any:
            return sf.query(query, include_deleted=include_deleted, headers=self.headers)

        answer = self.transport.call(run, what="query", idempotent=True)
        return answer if isinstance(answer, dict) else {}

    def _both(self, first: str, second: str) -> tuple[dict[str, Any], dict[str, Any]]:
        base = f"{self.transport.data_path()}/queryAll/?q="
        body = {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": base + quote(query, safe=""),
                    "referenceId": ref,
                    "httpHeaders": self.headers,
                }
                for ref, query in (("mark", first), ("after", second))
            ],
        }

        def run(sf: Salesforce) -> Any:
            return sf.restful("composite", method="POST", json=body)

        answer = self.transport.call(run, what="composite query", idempotent=True)
        replies = {
            str(r.get("referenceId")): r for r in (answer or {}).get("compositeResponse", [])
        }
        now = self.transport.clock.now()
        out = []
        for ref in ("mark", "after"):
            reply = replies.get(ref)
            if reply is None:
                msg = f"Composite answered without the {ref!r} query"
                raise FatalError(msg)
            if reply.get("httpStatusCode") != 200 or not isinstance(reply.get("body"), dict):
                status = reply.get("httpStatusCode")
                code = status if isinstance(status, int) else None
                raise SALESFORCE_ERRORS.classify(vendor_error(code, reply.get("body"), {}, now))
            out.append(reply["body"])
        return out[0], out[1]


def _query_more(sf: Salesforce, *, url: str, headers: dict[str, str]) -> Any:
    return sf.query_more(url, identifier_is_url=True, headers=headers)


def _plain(record: dict[str, Any]) -> RemoteRecord:
    return {k: v for k, v in record.items() if k != "attributes"}
