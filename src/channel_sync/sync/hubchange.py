"""Changes decided in the hub itself: the expiry sweep, conflict resolutions, admin fixes.

Such a change is applied like one read from a CRM, minus the merge: the lifecycle is checked,
hub rules run, and the deal, outbox entries for every connection that should see it and audit
events commit in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from channel_sync.errors import RecordError
from channel_sync.mapping import build_opportunity
from channel_sync.model import Opportunity, RegistrationStatus, check_transition
from channel_sync.store import (
    AuditEvent,
    ConcurrentUpdateError,
    Direction,
    MissingRowError,
    Store,
    Transaction,
)
from channel_sync.sync.context import STATUS, HubRuleContext, apply_rules, changed_paths
from channel_sync.sync.cycle_scope import Hub
from channel_sync.sync.inbound import model_error
from channel_sync.sync.outbox_routing import enqueue_change
from channel_sync.sync.rules import ENGINE_SOURCE

ATTEMPTS = 5


def retrying(store: Store, work: Any) -> Any:
    """Run ``work(tx)`` in a write transaction, again if another cycle updated the same deal."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with store.transaction() as tx:
                return work(tx)
        except ConcurrentUpdateError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def apply_in(
    tx: Transaction,
    hub: Hub,
    canonical_id: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    decision: str,
    everyone: Collection[str] = (),
) -> Opportunity:
    """Apply ``changes`` to a deal inside ``tx`` and queue the result; returns the new deal.

    ``everyone`` paths are queued for every connection of the deal even if the hub already held
    the value (a conflict resolution must reach the side that lost).
    """
    stored = tx.records.get(canonical_id)
    if stored is None:
        msg = f"no deal {canonical_id!r}"
        raise MissingRowError(msg)
    if stored.is_deleted:
        msg = f"deal {canonical_id!r} was deleted; it takes no more changes"
        raise RecordError(msg)
    before = stored.opportunity
    if changes.get(STATUS) is not None:
        check_transition(before.registration.status, RegistrationStatus(changes[STATUS]))
    try:
        after = build_opportunity(changes, before)
        extras: dict[str, tuple[str, Any]] = {}
        if hub.rules and changed_paths(before, after):
            ctx = HubRuleContext(tx, hub.clock, ENGINE_SOURCE, None, hub.claims)
            after, extras = apply_rules(hub.rules, before, after, ctx)
    except ValidationError as exc:
        raise model_error(exc) from None
    delta = changed_paths(before, after)
    if delta:
        tx.records.update(after, expected_version=stored.version)
    enqueue_change(tx, hub, after, delta, source=None, everyone=everyone)
    tx.audit.append(
        AuditEvent(
            actor="channel-sync" if path in extras else actor,
            source_system="channel-sync",
            direction=Direction.INTERNAL,
            canonical_id=canonical_id,
            field=path,
            old_value=_flat_get(before, path),
            new_value=value,
            decision=f"rule:{extras[path][0]}" if path in extras else decision,
        )
        for path, value in delta.items()
    )
    return after


def _flat_get(opportunity: Opportunity, path: str) -> Any:
    node: Any = opportunity
    for part in path.split("."):
        if node is None:
            return None
        node = getattr(node, part)
    return node
