"""Full reconciliation of one connection: what incremental reads cannot see.

Every remote record is read (``read_changes`` from no cursor) and merged like a normal page, so
changes a cursor skipped are picked up; the stored cursor is left alone. Then the full key sets
are compared with the hub's links:

* linked deals whose remote record is gone: hard deletes the feed never showed (reported; a
  deal is never deleted on a guess);
* linked records that left the mapping's scope (reported);
* drift: fields a remote record should hold by now but does not, while nothing is on its way
  and nothing is under review (a write refused for good, a value lost on the remote side);
  they are queued again, and the next drain repairs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from channel_sync.connectors import RemoteRecord
from channel_sync.errors import RecordError
from channel_sync.mapping import flatten
from channel_sync.store import DELETED, Link, Transaction
from channel_sync.sync.cycle import Cycle, clear_reconcile_flag
from channel_sync.sync.fields import MappingFacts
from channel_sync.sync.read_ahead import ReadAhead
from channel_sync.sync.report import ReconcileReport

_IDS_PAGE = 1000


def reconcile_cycle(cycle: Cycle) -> ReconcileReport:
    """Run inside a begun cycle (the lease is held)."""
    rt, name = cycle.rt, cycle.name
    report = ReconcileReport(connection=name)
    remote: dict[str, RemoteRecord] = {}
    by_key: dict[str, str] = {}
    gone: set[str] = set()
    with ReadAhead(rt.connector.read_changes(rt.mapping.object_name, None)) as pages:
        for page in pages:
            report.unknown_remote += cycle.commit_page(page, save=False).created
            for record in page.records:
                remote_id = rt.mapping.remote_id(record)
                remote[remote_id] = record
                key = rt.mapping.canonical_id(record)
                if key:
                    by_key[key] = remote_id
            gone.update(d.remote_id for d in page.deletions)
            if cycle.stop.is_set():
                report.stopped = True  # the key set is partial: comparing it would report ghosts
                return report
    report.remote_records = len(remote)
    facts = cycle.hub.facts[name]

    def check(tx: Transaction) -> None:
        waiting = _waiting(tx, name)
        for link in _links(tx, cycle, name):
            if link.base.get(DELETED):
                continue
            report.linked += 1
            remote_id = link.remote_id or by_key.get(link.canonical_id)
            record = remote.get(remote_id or "")
            if record is None or remote_id in gone:
                report.missing_remote.append(link.canonical_id)
                continue
            if not rt.mapping.in_scope(record):
                report.left_scope.append(link.canonical_id)
                continue
            stored = tx.records.get(link.canonical_id)
            if link.canonical_id in waiting or stored is None or stored.is_deleted:
                continue
            hub = flatten(stored.opportunity)
            paths = _drifted(facts, link, hub, record)
            if paths:
                report.drifted.append(link.canonical_id)
                tx.outbox.enqueue(name, link.canonical_id, {p: hub.get(p) for p in paths})
                report.requeued += 1

    assert cycle.lease is not None
    with cycle.store.unit_of_work(cycle.lease) as uow:
        check(uow)
        clear_reconcile_flag(uow, name)
    return report


def _waiting(tx: Transaction, name: str) -> set[str]:
    outbox = tx.outbox
    entries = [*outbox.pending(name, limit=100_000), *outbox.in_flight(name)]
    return {e.canonical_id for e in entries}


def _links(tx: Transaction, cycle: Cycle, name: str) -> Iterable[Link]:
    after: str | None = None
    while True:
        ids = tx.records.ids(partner_id=cycle.rt.partner_id, after=after, limit=_IDS_PAGE)
        if not ids:
            return
        links = tx.links.many_by_canonical(name, ids)
        open_fields = tx.conflicts.open_fields(links)
        for cid in ids:
            if cid in links and cid not in open_fields:
                yield links[cid]
        after = ids[-1]


def _drifted(
    facts: MappingFacts, link: Link, hub: dict[str, Any], record: RemoteRecord
) -> list[str]:
    """Fields the remote should hold by now but does not.

    A field both sides read and write has drifted when the hub moved away from what the two
    last agreed on (the merge that just ran found the remote still at that agreement). A field
    only written has drifted when the hub holds something else than the engine last wrote, or
    the remote lost what was written. Fields never agreed on or never written are left alone:
    a hub default (a currency, a co-sell status) is not pushed into a CRM that never had it.
    """
    out: list[str] = []
    for path in sorted(facts.writable):
        if path in facts.mirrored:
            if path in link.base and hub.get(path) != link.base[path]:
                out.append(path)
            continue
        if path not in link.written:
            continue
        if hub.get(path) != link.written[path]:
            out.append(path)
            continue
        try:
            expected = facts.outbound(link.canonical_id, {path: hub.get(path)})
        except RecordError:
            continue  # a value this CRM cannot hold: nothing to repair
        if not facts.remote_holds(expected, record):
            out.append(path)
    return out
