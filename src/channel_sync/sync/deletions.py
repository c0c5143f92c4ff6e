"""Remote deletions: the documented policy, and delete-versus-edit as a conflict.

* A **partner deletes** its deal: the registration is withdrawn (when the lifecycle allows it)
  and the partner's copy is no longer written; the vendor's opportunity is kept, because it is
  the vendor's system of record.
* The **vendor deletes** an opportunity: the deal is kept in the hub as a tombstone (deleted,
  never revived silently) and nothing more is written anywhere; the partner's own deal stays as
  the partner left it.
* If the other side changed the deal and that change has not reached the deleting side yet
  (an outbox entry for it is still open), the delete is not applied: a conflict on the
  ``_deleted`` pseudo-field is opened and neither side changes until someone decides.
* An edit that arrives for a deal already deleted is the same conflict (see ``inbound``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from channel_sync.connectors import Deletion
from channel_sync.mapping import build_opportunity
from channel_sync.model import RegistrationStatus, can_transition
from channel_sync.store import DELETED, AuditEvent, Direction, OutboxStatus
from channel_sync.sync.merge import Side
from channel_sync.sync.outbox_routing import enqueue_change
from channel_sync.sync.report import PlanAction

if TYPE_CHECKING:
    from channel_sync.sync.inbound import PageMerger

#: Open entries looked at per target when a page carries deletions.
_OPEN_LIMIT = 100_000


def open_entries(merger: PageMerger) -> set[str]:
    """Deals with a write still on its way to this connection."""
    outbox = merger.tx.outbox
    entries = [*outbox.pending(merger.name, limit=_OPEN_LIMIT), *outbox.in_flight(merger.name)]
    return {e.canonical_id for e in entries if e.status is not OutboxStatus.CONFIRMED}


def apply_deletions(merger: PageMerger, deletions: Sequence[Deletion]) -> None:
    tx, name = merger.tx, merger.name
    by_remote = tx.links.many_by_remote(name, [d.remote_id for d in deletions])
    keys = [d.key for d in deletions if d.key and d.remote_id not in by_remote]
    by_key = tx.links.many_by_canonical(name, keys)
    waiting: set[str] | None = None
    for deletion in deletions:
        link = by_remote.get(deletion.remote_id) or (by_key.get(deletion.key)
                                                     if deletion.key else None)
        if link is None or link.base.get(DELETED):
            merger.out.unchanged += 1
            continue
        stored = tx.records.get(link.canonical_id)
        if stored is None or stored.is_deleted:
            tx.links.update(name, link.canonical_id, base={DELETED: True})
            merger.out.unchanged += 1
            continue
        if waiting is None:
            waiting = open_entries(merger)
        cid = stored.canonical_id
        if cid in waiting:
            a, b = merger.sides(False, True, stored.partner_id)
            tx.conflicts.open(cid, DELETED, base=False, a=a, b=b)
            merger.out.conflicts += 1
            merger.note(PlanAction.CONFLICT, cid, deletion.remote_id,
                         field=DELETED, old=False, new=True, decision="review")
            continue
        events = [AuditEvent(
            actor=name, source_system=merger.hub.kind(name), direction=Direction.INBOUND,
            canonical_id=cid, connection=name, external_key=deletion.remote_id, field=DELETED,
            old_value=False, new_value=True, source_ts=deletion.deleted_at,
            run_id=merger.run_id, decision="deleted",
        )]
        tx.links.update(name, cid, base={DELETED: True})
        if merger.rt.role is Side.VENDOR:
            tx.records.mark_deleted(cid, expected_version=stored.version)
        else:
            status = stored.opportunity.registration.status
            withdrawn = RegistrationStatus.WITHDRAWN
            if status is not withdrawn and can_transition(status, withdrawn):
                after = build_opportunity({"registration.status": withdrawn}, stored.opportunity)
                tx.records.update(after, expected_version=stored.version)
                path = "registration.status"
                enqueue_change(tx, merger.hub, after, {path: withdrawn}, source=name)
                events.append(AuditEvent(
                    actor="channel-sync", source_system="channel-sync",
                    direction=Direction.INTERNAL, canonical_id=cid, connection=name,
                    field=path, old_value=status, new_value=withdrawn, run_id=merger.run_id,
                    decision="partner deleted the deal: registration withdrawn",
                ))
        tx.audit.append(events)
        merger.out.updated += 1
        merger.note(PlanAction.UPDATE, cid, deletion.remote_id, field=DELETED,
                     old=False, new=True, decision="deleted")
