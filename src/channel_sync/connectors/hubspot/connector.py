"""The HubSpot connector: deals through hubspot-api-client.

Reads are CRM search on the modstamp property (see :mod:`.feed`), 200 per call; writes are
batch upserts keyed on the unique ``channel_sync_id`` property, 100 per call, so a retried
write can never create a duplicate; per-record results of a 207 answer are mapped back by
each input's ``objectWriteTraceId``. Archived deals never appear in search, so deletions are
found by a periodic sweep of the archived listing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hubspot.crm.deals import (
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.batching import apply_ops, chunked
from channel_sync.connectors.cursor import Cursor, CursorPolicy, PageAssembler, Stamped
from channel_sync.connectors.hubspot.feed import (
    MAX_PAGE,
    ChangeFeed,
    FeedQuery,
    parse_modstamp,
)
from channel_sync.connectors.hubspot.transport import HubSpotTransport
from channel_sync.connectors.hubspot.writer import BATCH_LIMIT, HubSpotWriter
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
from channel_sync.connectors.ratelimit import ApiBudget, SlidingWindowLimiter
from channel_sync.connectors.retry import Retrier, RetryPolicy
from channel_sync.connectors.tokens import TokenManager, TokenSource
from channel_sync.errors import ConfigurationError

KIND = "hubspot"
OBJECT_NAMES = frozenset({"deals", "0-3"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HubSpotSettings:
    """Tunables of one HubSpot connection (the defaults match a production portal)."""

    host: str = "https://api.hubapi.com"
    page_size: int = MAX_PAGE
    batch_size: int = BATCH_LIMIT
    #: Changes younger than this are left to the next read: the search index lags writes, and
    #: a closed window is what makes offset paging safe (see ``feed``). It also covers clock
    #: skew between this process and HubSpot.
    lookback: timedelta = timedelta(minutes=1)
    search_window: int = 10_000
    #: How often the archived listing is swept for deletions (``None``: never).
    archive_sweep_every: timedelta | None = timedelta(hours=1)
    burst_limit: int = 100
    burst_window_s: float = 10.0
    search_per_second: int = 5
    budget_reserve: int = 0
    timeout: tuple[float, float] = (5.0, 60.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    record_retry_rounds: int = 3
    ssl_ca_cert: str | None = None


class HubSpotConnector:
    """One HubSpot portal (deals)."""

    kind = KIND

    def __init__(
        self,
        *,
        objects: Sequence[ObjectSpec],
        token_source: TokenSource,
        settings: HubSpotSettings | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or HubSpotSettings()
        if not 1 <= self.settings.batch_size <= BATCH_LIMIT:
            msg = f"HubSpot batch size must be 1..{BATCH_LIMIT}"
            raise ConfigurationError(msg)
        self._objects = {spec.name: spec for spec in objects}
        unknown = sorted(set(self._objects) - OBJECT_NAMES)
        if unknown:
            msg = f"HubSpot connector syncs deals only; unsupported objects: {unknown}"
            raise ConfigurationError(msg)
        self._clock = clock or default_clock()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        s = self.settings
        self.transport = HubSpotTransport(
            host=s.host,
            tokens=TokenManager(token_source, clock=self._clock),
            retrier=Retrier(s.retry, sleep=sleep, clock=self._clock, rng=self._rng),
            limiter=SlidingWindowLimiter(s.burst_limit, s.burst_window_s, sleep=sleep),
            search_limiter=SlidingWindowLimiter(s.search_per_second, 1.0, sleep=sleep),
            budget=ApiBudget(vendor="HubSpot", reserve=s.budget_reserve),
            clock=self._clock,
            timeout=s.timeout,
            ssl_ca_cert=s.ssl_ca_cert,
        )
        self.writer = HubSpotWriter(self.transport, s.batch_size)
        self._descriptions: dict[str, ObjectDescription] = {}
        self._checked: set[str] = set()

    # -- protocol ---------------------------------------------------------------------------

    def check(self) -> CheckReport:
        for name in self._objects:
            self._spec(name)
        return CheckReport(KIND, self.settings.host, tuple(self._objects), self.transport.usage)

    def describe(self, object_name: str) -> ObjectDescription:
        cached = self._descriptions.get(object_name)
        if cached is not None:
            return cached
        answer = self.transport.call(
            self.transport.properties_api.get_all_with_http_info,
            what="describe",
            idempotent=True,
            object_type="deals",
        )
        fields: dict[str, FieldInfo] = {}
        for prop in (answer.body or {}).get("results", []):
            meta = prop.get("modificationMetadata") or {}
            writable = not meta.get("readOnlyValue", False) and not prop.get("calculated", False)
            fields[prop["name"]] = FieldInfo(
                name=prop["name"],
                type=str(prop.get("type", "string")),
                createable=writable,
                updateable=writable,
                unique=bool(prop.get("hasUniqueValue", False)),
                external_id=bool(prop.get("hasUniqueValue", False)),
                picklist_values=tuple(str(o.get("value")) for o in prop.get("options") or ()),
            )
        description = ObjectDescription(object_name, fields)
        self._descriptions[object_name] = description
        return description

    def read_changes(self, object_name: str, cursor: Cursor | None) -> Iterator[Page]:
        spec = self._spec(object_name)
        started = self._clock.now()
        policy = CursorPolicy(lookback=self.settings.lookback)
        assembler: PageAssembler[RemoteRecord] = PageAssembler(cursor, policy, started)
        feed = ChangeFeed(
            self._search,
            FeedQuery(
                modstamp_field=spec.modstamp_field,
                id_field=spec.id_field,
                properties=spec.read_fields(),
                page_size=self.settings.page_size,
                window=self.settings.search_window,
            ),
        )
        held: Page | None = None
        until = started - self.settings.lookback
        for batch in feed.batches(policy.lower_bound(cursor), until):
            stamped = [self._stamped(spec, r) for r in batch.results]
            chunk = assembler.push(stamped, run_complete=batch.run_complete)
            if chunk is not None:
                if held is not None:
                    yield held
                held = Page(chunk.items, (), chunk.cursor)
        tail = assembler.finish()
        if tail is not None:
            if held is not None and tail.items:
                yield held
                held = None
            records = (held.records if held is not None else ()) + tail.items
            held = Page(records, (), tail.cursor)
        deletions, swept_at = self._sweep_archived(spec, cursor)
        if swept_at is not None:
            base = held.cursor if held is not None else cursor or Cursor(_EPOCH, "")
            held = Page(
                held.records if held is not None else (),
                tuple(deletions),
                base.with_deletes_checked(swept_at),
            )
        if held is not None:
            yield held

    def write_batch(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        spec = self._spec(object_name)
        description = self.describe(object_name)

        def delete(wanted: Sequence[Delete]) -> list[WriteResult]:
            unknown = [op.key for op in wanted if op.remote_id is None]
            located = self.read_by_keys(object_name, unknown) if unknown else {}
            return self.writer.delete(spec, wanted, located)

        return apply_ops(
            ops,
            chunk_size=self.settings.batch_size,
            upsert=lambda part: self.writer.upsert(spec, description, part),
            delete=delete,
            policy=self.settings.retry,
            attempts=self.settings.record_retry_rounds,
            sleep=self._sleep,
            rng=self._rng,
        )

    def read_by_keys(self, object_name: str, keys: Sequence[str]) -> dict[str, RemoteRecord]:
        spec = self._spec(object_name)
        found: dict[str, RemoteRecord] = {}
        for chunk in chunked(list(dict.fromkeys(keys)), BATCH_LIMIT):
            answer = self.transport.call(
                self.transport.batch_api.read_with_http_info,
                what="batch read",
                idempotent=True,
                batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
                    properties=list(spec.read_fields()),
                    properties_with_history=[],
                    id_property=spec.key_field,
                    inputs=[SimplePublicObjectId(id=key) for key in chunk],
                ),
                archived=False,
            )
            for result in (answer.body or {}).get("results", []):
                record = _record(spec, result)
                key = record.get(spec.key_field)
                if key:
                    found[str(key)] = record
        return found

    def close(self) -> None:
        """Nothing to release: the client's pools close with the process."""

    # -- reading ----------------------------------------------------------------------------

    def _spec(self, object_name: str) -> ObjectSpec:
        spec = self._objects.get(object_name)
        if spec is None:
            msg = f"object {object_name!r} is not configured on this HubSpot connection"
            raise ConfigurationError(msg)
        if object_name not in self._checked:
            missing = self.describe(object_name).missing(spec.read_fields())
            if missing:
                msg = f"HubSpot deals have no propert{'y' if len(missing) == 1 else 'ies'} " + (
                    ", ".join(missing)
                )
                raise ConfigurationError(msg)
            self._checked.add(object_name)
        return spec

    def _search(self, request: PublicObjectSearchRequest) -> dict[str, Any]:
        answer = self.transport.call(
            self.transport.search_api.do_search_with_http_info,
            what="search",
            idempotent=True,
            search=True,
            public_object_search_request=request,
        )
        return answer.body if isinstance(answer.body, dict) else {}

    def _stamped(self, spec: ObjectSpec, result: dict[str, Any]) -> Stamped[RemoteRecord]:
        record = _record(spec, result)
        return Stamped(str(result["id"]), parse_modstamp(record.get(spec.modstamp_field)), record)

    def _sweep_archived(
        self, spec: ObjectSpec, cursor: Cursor | None
    ) -> tuple[list[Deletion], datetime | None]:
        every = self.settings.archive_sweep_every
        now = self._clock.now()
        last = cursor.checked_deletes_at if cursor is not None else None
        if every is None or (last is not None and now - last < every):
            return [], None
        since = last - self.settings.lookback if last is not None else None
        deletions: list[Deletion] = []
        after: str | None = None
        while True:
            answer = self.transport.call(
                self.transport.basic_api.get_page_with_http_info,
                what="archived listing",
                idempotent=True,
                limit=BATCH_LIMIT,
                after=after,
                properties=[spec.key_field, spec.modstamp_field],
                archived=True,
            )
            body = answer.body or {}
            for result in body.get("results", []):
                raw = result.get("archivedAt")
                when = parse_modstamp(raw) if raw else None
                if since is None or when is None or when >= since:
                    key = (result.get("properties") or {}).get(spec.key_field)
                    deletions.append(Deletion(str(result["id"]), key or None, when))
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return deletions, now

    # -- writing ----------------------------------------------------------------------------


def _record(spec: ObjectSpec, result: Mapping[str, Any]) -> RemoteRecord:
    record: RemoteRecord = dict(result.get("properties") or {})
    record.setdefault(spec.id_field, str(result.get("id")))
    return record
