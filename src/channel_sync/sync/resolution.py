"""Deciding a conflict: the chosen value goes to the hub and to both sides, with new bases.

Each side's base for the field is first set to the value that side holds now, so its next read
is not mistaken for another edit (which would re-open the conflict before the drain overwrote
it); then the chosen value is applied in the hub and queued for every connection of the deal,
and each side's base moves to it when its write is confirmed.

A ``_deleted`` conflict (one side deleted the deal, the other edited it) is decided for the
delete (the documented delete policy then applies) or for the edit (the deleted copy is
re-created from the hub).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from channel_sync.errors import ConfigurationError, RecordError
from channel_sync.mapping import canonical_value
from channel_sync.model import RegistrationStatus, can_transition
from channel_sync.store import (
    DELETED,
    AuditEvent,
    Conflict,
    ConflictSide,
    ConflictStatus,
    Direction,
    MissingRowError,
    Transaction,
)
from channel_sync.sync.cycle_scope import Hub
from channel_sync.sync.fields import ID_PATH
from channel_sync.sync.hubchange import apply_in
from channel_sync.sync.merge import Side


class Take(StrEnum):
    VENDOR = "vendor"
    PARTNER = "partner"
    BASE = "base"
    VALUE = "value"


def side_of(hub: Hub, conflict: Conflict, role: Side) -> ConflictSide:
    for side in (conflict.a, conflict.b):
        runtime = hub.runtimes.get(side.connection)
        if runtime is not None and runtime.role is role:
            return side
    msg = f"conflict {conflict.id} has no {role.value} side among the configured connections"
    raise ConfigurationError(msg)


def chosen_value(hub: Hub, conflict: Conflict, take: Take, value: Any) -> Any:
    if take is Take.VENDOR:
        return side_of(hub, conflict, Side.VENDOR).value
    if take is Take.PARTNER:
        return side_of(hub, conflict, Side.PARTNER).value
    if take is Take.BASE:
        return conflict.base
    if conflict.field == DELETED:
        return bool(value)
    try:
        return canonical_value(conflict.field, value)
    except ValueError as exc:
        msg = f"{value!r} is not a valid value for {conflict.field}: {exc}"
        raise RecordError(msg) from None


def resolve_in(
    tx: Transaction, hub: Hub, conflict_id: int, take: Take, value: Any, *, actor: str
) -> Conflict:
    conflict = tx.conflicts.get(conflict_id)
    if conflict is None or conflict.status is not ConflictStatus.OPEN:
        msg = f"no open conflict {conflict_id}"
        raise MissingRowError(msg)
    chosen = chosen_value(hub, conflict, take, value)
    decision = f"conflict {conflict_id}: take {take.value}"
    if conflict.field == DELETED:
        _resolve_delete(tx, hub, conflict, bool(chosen), actor=actor, decision=decision)
    else:
        for side in (conflict.a, conflict.b):
            if tx.links.by_canonical(side.connection, conflict.canonical_id) is not None:
                tx.links.update(side.connection, conflict.canonical_id,
                                base={conflict.field: side.value})
        apply_in(tx, hub, conflict.canonical_id, {conflict.field: chosen}, actor=actor,
                 decision=decision, everyone={conflict.field})
    return tx.conflicts.resolve(conflict_id, decision=decision, value=chosen, resolved_by=actor)


def _resolve_delete(
    tx: Transaction, hub: Hub, conflict: Conflict, deleted: bool, *, actor: str, decision: str
) -> None:
    deleter = conflict.a if conflict.a.value else conflict.b
    cid = conflict.canonical_id
    stored = tx.records.get(cid)
    if stored is None:
        msg = f"no deal {cid!r}"
        raise MissingRowError(msg)
    runtime = hub.runtimes.get(deleter.connection)
    vendor_deleted = runtime is not None and runtime.role is Side.VENDOR
    if deleted:
        tx.links.update(deleter.connection, cid, base={DELETED: True})
        if vendor_deleted and not stored.is_deleted:
            tx.records.mark_deleted(cid, expected_version=stored.version)
        elif not vendor_deleted:
            status = stored.opportunity.registration.status
            if can_transition(status, RegistrationStatus.WITHDRAWN):
                apply_in(tx, hub, cid, {"registration.status": RegistrationStatus.WITHDRAWN},
                         actor=actor, decision=decision)
    else:
        if stored.is_deleted:
            stored = tx.records.restore(cid, expected_version=stored.version)
        # The deleted copy is re-created from the hub: without a link the drain sends every
        # field the connection writes, as for a deal it has never seen.
        tx.links.unlink(deleter.connection, cid)
        tx.outbox.enqueue(deleter.connection, cid, {ID_PATH: cid})
    tx.audit.append([
        AuditEvent(
            actor=actor, source_system="channel-sync", direction=Direction.INTERNAL,
            canonical_id=cid, connection=deleter.connection, field=DELETED,
            old_value=None, new_value=deleted, decision=decision,
        )
    ])


def describe_sides(hub: Hub, conflict: Conflict) -> dict[str, Any]:
    """Both values labelled vendor/partner where the connections are known (for the CLI)."""
    out: dict[str, Any] = {}
    for side in (conflict.a, conflict.b):
        runtime = hub.runtimes.get(side.connection)
        label = runtime.role.value if runtime is not None else side.connection
        out[label] = side.value
    return out
