"""The Salesforce connector: one org's objects through simple-salesforce.

Reads are ``queryAll`` ordered by ``SystemModstamp, Id`` returning whole records (2,000 per
call), including soft-deleted rows, which become deletions. Writes are sObject Collections
upserts on the external-id field, packed five to a Composite request (1,000 records per call).
A cursor older than the delete log's reach (about 15 days) means deletions may have been
purged unseen; the ``deleted/`` resource is asked once and the page says a full reconcile is
needed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.batching import apply_ops, chunked
from channel_sync.connectors.cursor import Chunk, Cursor, CursorPolicy, PageAssembler, Stamped
from channel_sync.connectors.protocol import (
    CheckReport,
    Delete,
    Deletion,
    FieldInfo,
    ObjectDescription,
    ObjectSpec,
    Page,
    RemoteRecord,
    WriteOp,
    WriteResult,
)
from channel_sync.connectors.ratelimit import ApiBudget
from channel_sync.connectors.retry import Retrier, RetryPolicy
from channel_sync.connectors.salesforce.packing import COLLECTION_LIMIT, COMPOSITE_COLLECTIONS
from channel_sync.connectors.salesforce.reader import SalesforceReader
from channel_sync.connectors.salesforce.session import SalesforceSession
from channel_sync.connectors.salesforce.soql import SoqlBuilder
from channel_sync.connectors.salesforce.transport import DEFAULT_API_VERSION, SalesforceTransport
from channel_sync.connectors.salesforce.writer import SalesforceWriter
from channel_sync.connectors.tokens import TokenManager, TokenSource
from channel_sync.errors import (
    ConfigurationError,
    FatalError,
)

KIND = "salesforce"
DELETED_FIELD = "IsDeleted"
KEYS_PER_QUERY = 200


@dataclass(frozen=True)
class SalesforceSettings:
    """Tunables of one Salesforce connection (the defaults suit a production org)."""

    instance_url: str | None = None
    version: str = DEFAULT_API_VERSION
    lookback: timedelta = timedelta(minutes=2)
    #: How far back the org's delete log reaches (Salesforce keeps about 15 days).
    delete_log_reach: timedelta = timedelta(days=15)
    #: Ask the delete log when the last complete read covers nothing newer than this.
    delete_log_check_after: timedelta = timedelta(days=14)
    #: On a quiet org (nothing after the mark), a read still records its start this often, so
    #: the cursor shows how recent the last complete read was, not only the last change.
    quiet_refresh: timedelta = timedelta(hours=12)
    query_batch_size: int = 2000
    ca_bundle: str | None = None
    timeout: tuple[float, float] = (5.0, 120.0)
    budget_reserve: int = 0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    record_retry_rounds: int = 3


def parse_datetime(value: Any) -> datetime:
    """A Salesforce datetime (``2026-01-05T10:00:00.000+0000``) as aware UTC."""
    if not isinstance(value, str) or not value:
        msg = f"Salesforce record without a usable modstamp: {value!r}"
        raise FatalError(msg)
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SalesforceConnector:
    """One Salesforce org."""

    kind = KIND

    def __init__(
        self,
        *,
        objects: Sequence[ObjectSpec],
        token_source: TokenSource,
        settings: SalesforceSettings | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        http: SalesforceSession | None = None,
    ) -> None:
        self.settings = settings or SalesforceSettings()
        s = self.settings
        if not 200 <= s.query_batch_size <= 2000:
            msg = "Salesforce query batch size must be 200..2000"
            raise ConfigurationError(msg)
        self._objects = {spec.name: spec for spec in objects}
        self._clock = clock or default_clock()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.http = http or SalesforceSession(ca_bundle=s.ca_bundle, timeout=s.timeout)
        self.transport = SalesforceTransport(
            tokens=TokenManager(token_source, clock=self._clock),
            retrier=Retrier(s.retry, sleep=sleep, clock=self._clock, rng=self._rng),
            budget=ApiBudget(vendor="Salesforce", reserve=s.budget_reserve),
            http=self.http,
            instance_url=s.instance_url,
            version=s.version,
            clock=self._clock,
        )
        self.reader = SalesforceReader(self.transport, s.query_batch_size)
        self.writer = SalesforceWriter(self.transport)
        self._descriptions: dict[str, ObjectDescription] = {}
        self._builders: dict[str, SoqlBuilder] = {}

    # -- protocol ---------------------------------------------------------------------------

    def check(self) -> CheckReport:
        for name in self._objects:
            self._builder(name)
        instance = self.settings.instance_url or "(from login)"
        return CheckReport(KIND, instance, tuple(self._objects), self.transport.usage)

    def describe(self, object_name: str) -> ObjectDescription:
        cached = self._descriptions.get(object_name)
        if cached is not None:
            return cached
        if not object_name.isidentifier():
            msg = f"{object_name!r} is not a Salesforce object name"
            raise ConfigurationError(msg)
        raw = self.transport.call(
            lambda sf: sf.restful(f"sobjects/{object_name}/describe"),
            what="describe",
            idempotent=True,
        )
        fields = {
            f["name"]: FieldInfo(
                name=f["name"],
                type=str(f.get("type", "string")),
                createable=bool(f.get("createable", False)),
                updateable=bool(f.get("updateable", False)),
                nillable=bool(f.get("nillable", True)),
                unique=bool(f.get("unique", False)),
                external_id=bool(f.get("externalId", False)),
                picklist_values=tuple(
                    str(p.get("value")) for p in f.get("picklistValues") or () if p.get("active")
                ),
            )
            for f in (raw or {}).get("fields", [])
        }
        description = ObjectDescription(object_name, fields)
        self._descriptions[object_name] = description
        return description

    def read_changes(self, object_name: str, cursor: Cursor | None) -> Iterator[Page]:
        spec, soql = self._spec(object_name), self._builder(object_name)
        started = self._clock.now()
        policy = CursorPolicy(lookback=self.settings.lookback, resolution=timedelta(seconds=1))
        notice = self._delete_log_notice(object_name, cursor, started)
        batches = self.reader.changes(
            soql,
            [*spec.read_fields(), DELETED_FIELD],
            modstamp=spec.modstamp_field,
            record_id=spec.id_field,
            cursor=cursor,
            policy=policy,
        )
        assembler: PageAssembler[RemoteRecord] = PageAssembler(cursor, policy, started)
        # Each page goes out once the next is known, so the last one can say that the read
        # reached the end of the feed (see ``SalesforceReader.changes``).
        held: Chunk[RemoteRecord] | None = None
        for batch, done in batches:
            stamped = [
                Stamped(str(r[spec.id_field]), parse_datetime(r[spec.modstamp_field]), r)
                for r in batch
            ]
            chunk = assembler.push(stamped, run_complete=done)
            if chunk is None and done:
                chunk = assembler.finish()
            if chunk is not None:
                if held is not None:
                    yield self._page(spec, held.items, held.cursor, notice)
                    notice = None
                held = chunk
        if held is not None:
            yield self._page(spec, held.items, held.cursor.completed(), notice)
        elif notice is not None:
            yield Page((), (), cursor or Cursor(started, ""), notice)
        elif cursor is not None and self._quiet_refresh_due(cursor, started):
            # Nothing changed since the mark and this read ran to the end of the feed: say so,
            # or a quiet fortnight would look like a fortnight unread to the delete-log check.
            yield Page((), (), cursor.read_again(started), None)

    def write_batch(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        spec = self._spec(object_name)
        self._builder(object_name)

        def delete(wanted: Sequence[Delete]) -> list[WriteResult]:
            unknown = [op.key for op in wanted if op.remote_id is None]
            located = self.read_by_keys(object_name, unknown) if unknown else {}
            return self.writer.delete(spec, wanted, located)

        return apply_ops(
            ops,
            chunk_size=COLLECTION_LIMIT * COMPOSITE_COLLECTIONS,
            upsert=lambda batch: self.writer.upsert(spec, batch),
            delete=delete,
            policy=self.settings.retry,
            attempts=self.settings.record_retry_rounds,
            sleep=self._sleep,
            rng=self._rng,
        )

    def read_by_keys(self, object_name: str, keys: Sequence[str]) -> dict[str, RemoteRecord]:
        spec, soql = self._spec(object_name), self._builder(object_name)
        found: dict[str, RemoteRecord] = {}
        for part in chunked(list(dict.fromkeys(keys)), KEYS_PER_QUERY):
            query = soql.by_keys(spec.read_fields(), key_field=spec.key_field, keys=part)
            for batch, _ in self.reader.by_query(query):
                for record in batch:
                    key = record.get(spec.key_field)
                    if key:
                        found[str(key)] = record
        return found

    def close(self) -> None:
        self.http.close()

    # -- reading ----------------------------------------------------------------------------

    def _spec(self, object_name: str) -> ObjectSpec:
        spec = self._objects.get(object_name)
        if spec is None:
            msg = f"object {object_name!r} is not configured on this Salesforce connection"
            raise ConfigurationError(msg)
        return spec

    def _builder(self, object_name: str) -> SoqlBuilder:
        builder = self._builders.get(object_name)
        if builder is None:
            spec = self._spec(object_name)
            description = self.describe(object_name)
            missing = description.missing([*spec.read_fields(), DELETED_FIELD])
            if missing:
                msg = f"{object_name} has no field(s) {', '.join(missing)} (per describe)"
                raise ConfigurationError(msg)
            builder = SoqlBuilder(object_name, description.fields)
            self._builders[object_name] = builder
        return builder

    def _page(
        self, spec: ObjectSpec, items: Sequence[RemoteRecord], cursor: Cursor, notice: str | None
    ) -> Page:
        records: list[RemoteRecord] = []
        deletions: list[Deletion] = []
        for record in items:
            if record.get(DELETED_FIELD) is True:
                key = record.get(spec.key_field)
                deletions.append(
                    Deletion(
                        str(record[spec.id_field]),
                        str(key) if key else None,
                        parse_datetime(record[spec.modstamp_field]),
                    )
                )
            else:
                records.append(record)
        return Page(tuple(records), tuple(deletions), cursor, notice)

    def _covered(self, cursor: Cursor) -> datetime:
        """Up to when every change (deletions included) has been read: the mark, or, after a
        read that ran to the end of the feed, that read's start less the look-back."""
        if cursor.complete and cursor.read_started is not None:
            return max(cursor.modstamp, cursor.read_started - self.settings.lookback)
        return cursor.modstamp

    def _quiet_refresh_due(self, cursor: Cursor, started: datetime) -> bool:
        last = cursor.read_started if cursor.complete and cursor.read_started else cursor.modstamp
        return started - last >= self.settings.quiet_refresh

    def _delete_log_notice(
        self, object_name: str, cursor: Cursor | None, now: datetime
    ) -> str | None:
        """Ask the delete log whether it still reaches back to what the last complete read
        covered (only when that is old: an org left unread, or a cursor restored from long ago).
        """
        if cursor is None:
            return None
        covered = self._covered(cursor)
        if now - covered < self.settings.delete_log_check_after:
            return None
        start = max(covered, now - self.settings.delete_log_reach + timedelta(minutes=1))
        answer = self.transport.call(
            lambda sf: getattr(sf, object_name).deleted(start, now),
            what="deleted",
            idempotent=True,
        )
        earliest_raw = (answer or {}).get("earliestDateAvailable")
        earliest = parse_datetime(earliest_raw) if earliest_raw else None
        if earliest is None or earliest > covered:
            shown = earliest.isoformat() if earliest else "unknown"
            return (
                f"Salesforce's delete log for {object_name} starts at {shown}, after the last "
                f"complete read ({covered.isoformat()}): deletions may have been purged unseen, "
                "a full reconcile is needed"
            )
        return None
