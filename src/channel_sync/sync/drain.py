"""The write half of a cycle: settle what a crash left in flight, then drain the outbox.

Entries are claimed in large batches (the connector splits them to the API's own batch size),
translated from the hub's *current* values for the paths each entry names, checked once more
against the tenant boundary, and upserted on the canonical id, so a retried write can never
create a second record. Per-record results settle each entry: confirmed (the link's base moves
to what the CRM will read back), back to pending with a delay, or failed for good with the
error in the failed-record index.

After a crash an entry may be IN_FLIGHT with its write landed or not; :meth:`Drainer.settle`
reads the target by key and confirms it when the CRM already holds the values, and re-queues it
otherwise. Nothing is re-sent before that read.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from channel_sync.connectors import Upsert, WriteResult
from channel_sync.errors import ChannelSyncError, RecordError, RetriableError
from channel_sync.store import (
    DELETED,
    AuditEvent,
    Direction,
    Lease,
    Link,
    OutboxEntry,
    OutboxStatus,
    Store,
    StoredRecord,
    Transaction,
)
from channel_sync.sync.collector import collector_paused
from channel_sync.sync.cycle_scope import Hub, can_stamp
from channel_sync.sync.fields import ID_PATH
from channel_sync.sync.routing import NOT_YOURS, IsolationError
from channel_sync.sync.runtime import ConnectionRuntime

log = logging.getLogger("channel_sync.sync")

#: Entries claimed per round; connectors split further (200 per Salesforce collection, 100 per
#: HubSpot batch).
CLAIM_SIZE = 1000
#: Claimed batches in hand at once: one settling while the next is on the wire.
_IN_HAND = 2
#: Deliveries of one entry before a retriable error becomes permanent.
MAX_ATTEMPTS = 8
_BACKOFF_START = timedelta(seconds=30)
_BACKOFF_CAP = timedelta(hours=1)


class StampUnsupportedError(RecordError):
    """The record was created in the CRM without its canonical id, and this connector cannot
    address a record by remote id to set it."""


def backoff(attempts: int) -> timedelta:
    delay: timedelta = _BACKOFF_START * (2 ** max(0, attempts - 1))
    return min(_BACKOFF_CAP, delay)


@dataclass
class DrainOutcome:
    written: int = 0
    failed: int = 0
    requeued: int = 0
    settled: int = 0


@dataclass
class _Job:
    """One deal's write: the entries it settles, and what is sent."""

    canonical_id: str
    entries: list[OutboxEntry]
    values: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=dict)
    link: Link | None = None
    stamp: str | None = None
    #: Fields under review: never written until someone decides.
    review: frozenset[str] = frozenset()

    @property
    def on_hold(self) -> bool:
        """A delete-versus-edit conflict holds the whole deal."""
        return DELETED in self.review

    def op(self) -> Upsert:
        if self.stamp is None:
            return Upsert(key=self.canonical_id, fields=self.wire)
        factory: Callable[..., Upsert] = Upsert
        return factory(key=self.canonical_id, fields=self.wire, remote_id=self.stamp)


@dataclass
class _Sending:
    """One claimed batch: the writes handed to the writer thread, and what is settled
    without a write (refused entries; entries held back while their deal is under review)."""

    jobs: list[_Job]
    refused: list[tuple[list[OutboxEntry], RecordError | None]]
    held: list[OutboxEntry]
    write: Future[list[WriteResult]] | None

    def entries(self) -> list[OutboxEntry]:
        """The entries whose write was sent (or about to be)."""
        return [e for job in self.jobs for e in job.entries]

    def withdraw(self) -> bool:
        """Cancel the write if the writer thread has not started it; whether it was."""
        return self.write is not None and self.write.cancel()


class Drainer:
    def __init__(
        self,
        hub: Hub,
        runtime: ConnectionRuntime,
        store: Store,
        lease: Lease,
        *,
        run_id: int | None,
        stop: threading.Event,
    ) -> None:
        self.hub = hub
        self.rt = runtime
        self.name = runtime.name
        self.facts = hub.facts[runtime.name]
        self.store = store
        self.lease = lease
        self.run_id = run_id
        self.stop = stop
        self.out = DrainOutcome()

    # -- settle -----------------------------------------------------------------------------

    def settle(self) -> int:
        """Confirm or re-queue every entry a crashed drain left IN_FLIGHT; returns how many."""
        entries = self.store.in_flight(self.name)
        if not entries:
            return 0
        with self.store.read() as tx:
            jobs, refused = self._prepare(tx, entries)
        keys = [job.canonical_id for job in jobs]
        remote = self.rt.connector.read_by_keys(self.rt.mapping.object_name, keys) if keys else {}
        id_field = self.rt.mapping.keys.remote_id
        with self.store.unit_of_work(self.lease) as uow:
            self._settle_refused(uow, refused)
            landed: list[tuple[_Job, str | None]] = []
            for job in jobs:
                found = remote.get(job.canonical_id)
                if found is not None and self.facts.remote_holds(job.wire, found):
                    landed.append((job, str(found.get(id_field) or "") or None))
                else:
                    for entry in job.entries:
                        uow.outbox.release(entry.id)
                    self.out.requeued += len(job.entries)
            self._confirm(uow, landed)
        self.out.settled += len(entries)
        return len(entries)

    # -- drain ------------------------------------------------------------------------------

    def drain(self) -> DrainOutcome:
        """Claim, send and settle batches until the outbox is empty or the cycle stops.

        Two batches overlap: batch k+1 is claimed, built and handed to the writer thread
        before batch k's results are settled, so the store work of one batch runs while the
        other is on the wire. Writes still go out one batch at a time, in claim order. A stop
        request settles the writes already on the wire and returns the rest to pending.
        """
        held: list[OutboxEntry] = []
        sending: deque[_Sending] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="channel-sync-write") as pool:
            try:
                while True:
                    if not self.stop.is_set():
                        batch = self.store.claim_outbox(self.name, CLAIM_SIZE)
                        if batch.entries:
                            with collector_paused():
                                sending.append(self._send(batch.entries, pool))
                            held.extend(sending[-1].held)
                            if len(sending) < _IN_HAND:
                                continue
                    if not sending:
                        break
                    if self.stop.is_set() and sending[0].withdraw():
                        break  # stopping between batches: what is not on the wire goes back
                    with collector_paused():
                        self._settle_sent(sending.popleft())
            finally:
                self._put_back(sending, held)
        return self.out

    def _send(self, entries: Sequence[OutboxEntry], pool: ThreadPoolExecutor) -> _Sending:
        """Build one claimed batch's writes and hand them to the writer thread."""
        with self.store.read() as tx:
            jobs, refused = self._prepare(tx, entries)
        held = [e for j in jobs if j.on_hold for e in j.entries]
        jobs = [j for j in jobs if not j.on_hold]
        write = None
        if jobs:
            ops = [job.op() for job in jobs]
            write = pool.submit(self.rt.connector.write_batch, self.rt.mapping.object_name, ops)
        return _Sending(jobs, refused, held, write)

    def _settle_sent(self, sending: _Sending) -> None:
        """Wait for one batch's write and settle every entry of it in one unit of work."""
        results: list[WriteResult] = []
        if sending.write is not None:
            try:
                results = sending.write.result()
            except ChannelSyncError:
                # Whether any of it landed is unknown: every entry goes back to pending and is
                # re-sent (upserts by key are idempotent); the caller parks or fails the cycle.
                with self.store.unit_of_work(self.lease) as uow:
                    self._settle_refused(uow, sending.refused)
                    for entry in sending.entries():
                        uow.outbox.release(entry.id)
                raise
        with self.store.unit_of_work(self.lease) as uow:
            self._settle_refused(uow, sending.refused)
            landed: list[tuple[_Job, str | None]] = []
            for job, result in zip(sending.jobs, results, strict=True):
                if result.ok:
                    landed.append((job, result.remote_id))
                else:
                    self._settle_failure(uow, job, result)
            self._confirm(uow, landed)

    def _put_back(self, sending: deque[_Sending], held: list[OutboxEntry]) -> None:
        """Return to PENDING what this drain claimed and did not settle: entries held back for
        review, and batches left unsettled by an error (a write not yet started is cancelled;
        one under way is waited for, since whether it landed is then unknown)."""
        unsettled: list[OutboxEntry] = []
        for left in sending:
            if left.write is not None and not left.withdraw():
                left.write.exception()
            unsettled.extend(left.entries())
            unsettled.extend(e for group, _ in left.refused for e in group)
        sending.clear()
        if unsettled or held:
            with self.store.unit_of_work(self.lease) as uow:
                for entry in [*unsettled, *held]:
                    uow.outbox.release(entry.id)

    def _settle_failure(self, uow: Transaction, job: _Job, result: WriteResult) -> None:
        error = result.error or RetriableError("the write failed without an error")
        retriable = isinstance(error, RetriableError)
        for entry in job.entries:
            settled = uow.outbox.fail(
                entry.id,
                str(error),
                retriable=retriable,
                retry_at=self.hub.clock.now() + backoff(entry.attempts),
                max_attempts=MAX_ATTEMPTS,
            )
            if settled.status is OutboxStatus.FAILED:
                self.out.failed += 1
                uow.failures.record(self.name, error, canonical_id=job.canonical_id)
            else:
                self.out.requeued += 1

    # -- shared -----------------------------------------------------------------------------

    def _prepare(
        self, tx: Transaction, entries: Iterable[OutboxEntry]
    ) -> tuple[list[_Job], list[tuple[list[OutboxEntry], RecordError | None]]]:
        """Group entries per deal and build each write; refusals carry their error (``None``:
        nothing to write, e.g. the deal was deleted)."""
        grouped: dict[str, list[OutboxEntry]] = {}
        for entry in entries:
            grouped.setdefault(entry.canonical_id, []).append(entry)
        records = tx.records.get_many(grouped)
        links = tx.links.many_by_canonical(self.name, grouped)
        review = tx.conflicts.open_fields(grouped)
        jobs: list[_Job] = []
        refused: list[tuple[list[OutboxEntry], RecordError | None]] = []
        for cid, group in grouped.items():
            job = _Job(cid, group, link=links.get(cid), review=frozenset(review.get(cid, ())))
            try:
                if self._build(job, records.get(cid)):
                    jobs.append(job)
                else:
                    refused.append((group, None))
            except RecordError as exc:
                refused.append((group, exc))
        return jobs, refused

    def _build(self, job: _Job, stored: StoredRecord | None) -> bool:
        if stored is None:
            msg = "the deal is not in the hub"
            raise RecordError(msg)
        partners = {stored.partner_id, *(e.partner_id for e in job.entries)}
        if len(partners) != 1 or not self.hub.routes.may_see(self.name, stored.partner_id):
            log.warning("refused a write to %s: %s", self.name, NOT_YOURS)
            raise IsolationError(NOT_YOURS)
        link = job.link
        if stored.is_deleted or (link is not None and link.deleted):
            return False
        if job.on_hold:
            return True
        writable = self.facts.writable - job.review
        if link is None:
            paths = set(writable)
        else:
            paths = {p for e in job.entries for p in e.fields if p in writable or p == ID_PATH}
        if not paths:
            return False
        job.values = stored.values(sorted(p for p in paths if p != ID_PATH))
        job.wire = self.facts.outbound(job.canonical_id, job.values)
        if link is not None and link.remote_id and not link.agrees_on(ID_PATH):
            if not can_stamp():
                msg = (
                    "the record was created in the CRM without its canonical id and this "
                    "connector cannot set it on an existing record"
                )
                raise StampUnsupportedError(msg)
            job.stamp = link.remote_id
        return True

    def _settle_refused(
        self, uow: Transaction, refused: Sequence[tuple[list[OutboxEntry], RecordError | None]]
    ) -> None:
        nothing_to_write: list[int] = []
        for group, error in refused:
            if error is None:
                nothing_to_write.extend(entry.id for entry in group)
                continue
            for entry in group:
                uow.outbox.fail(entry.id, str(error), retriable=False)
                self.out.failed += 1
            uow.failures.record(self.name, error, canonical_id=group[0].canonical_id)
        if nothing_to_write:
            uow.outbox.confirm_many(nothing_to_write)

    def _confirm(self, uow: Transaction, landed: Sequence[tuple[_Job, str | None]]) -> None:
        """Settle every write that landed: entries, links, quarantine and audit, in bulk.

        One statement confirms the entries, one query fetches the links, one clears the
        quarantine and one inserts the audit trail, whatever the size of the batch.
        """
        if not landed:
            return
        uow.outbox.confirm_many(e.id for job, _ in landed for e in job.entries)
        cids = [job.canonical_id for job, _ in landed]
        links = uow.links.many_by_canonical(self.name, cids)
        # A first write links the deal, which reads the deal's row: hold those in one query.
        uow.records.preload(cid for cid in cids if cid not in links)
        uow.links.many_by_remote(self.name, [r for _, r in landed if r])
        events: list[AuditEvent] = []
        for job, remote_id in landed:
            base = self.facts.round_trip(job.values)
            base[ID_PATH] = job.canonical_id
            link = links.get(job.canonical_id)
            if link is None:
                uow.links.link(
                    self.name, job.canonical_id, remote_id, base=base, written=job.values
                )
            else:
                if remote_id and link.remote_id != remote_id:
                    uow.links.set_remote_id(self.name, job.canonical_id, remote_id)
                uow.links.update(self.name, job.canonical_id, base=base, written=job.values)
            events.extend(self._events(job, link, remote_id))
            self.out.written += 1
        uow.failures.clear_many(self.name, canonical_ids=cids)
        uow.audit.append(events)

    def _events(self, job: _Job, link: Link | None, remote_id: str | None) -> list[AuditEvent]:
        before = {p: link.last_known(p) for p in job.values} if link is not None else {}
        return [
            AuditEvent(
                actor="channel-sync",
                source_system="channel-sync",
                direction=Direction.OUTBOUND,
                canonical_id=job.canonical_id,
                connection=self.name,
                external_key=remote_id,
                field=path,
                old_value=before.get(path),
                new_value=value,
                run_id=self.run_id,
                decision="written",
            )
            for path, value in job.values.items()
            if link is None or before.get(path) != value
        ]
