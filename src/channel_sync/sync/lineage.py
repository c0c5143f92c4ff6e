"""Audit events for changes read from a CRM: one per field, with where and why it changed.

Each event names the connection and the remote record it came from, the field, old and new
value, the CRM's own timestamp of the change, the engine's time, the run, and the merge
decision that let it through (``take_remote``, ``remote_wins``, ``identical``, or the rule that
set it). Field-level lineage (``channel-sync audit show``) is read straight from these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channel_sync.mapping import flatten
from channel_sync.model import Opportunity
from channel_sync.store import AuditEvent, Direction
from channel_sync.sync.merge import FieldDecision
from channel_sync.sync.rules import ENGINE_SOURCE


@dataclass(frozen=True)
class Origin:
    """Where a page's changes came from."""

    connection: str
    source_system: str
    run_id: int | None


def inbound_events(
    origin: Origin,
    remote_id: str,
    *,
    before: Opportunity | None,
    after: Opportunity,
    delta: Mapping[str, Any],
    decisions: list[FieldDecision],
    extras: Mapping[str, tuple[str, Any]],
    stamp: datetime,
) -> list[AuditEvent]:
    outcome = {d.path: d.outcome.value for d in decisions}
    old = flatten(before) if before is not None else {}

    def event(path: str | None, previous: Any, new: Any, decision: str) -> AuditEvent:
        by_rule = path in extras
        return AuditEvent(
            actor=ENGINE_SOURCE if by_rule else origin.connection,
            source_system=ENGINE_SOURCE if by_rule else origin.source_system,
            direction=Direction.INTERNAL if by_rule else Direction.INBOUND,
            canonical_id=after.id,
            connection=origin.connection,
            external_key=remote_id,
            field=path,
            old_value=previous,
            new_value=new,
            source_ts=stamp,
            run_id=origin.run_id,
            decision=decision,
        )

    events = [event(None, None, None, "created")] if before is None else []
    for path, new in delta.items():
        decision = f"rule:{extras[path][0]}" if path in extras else outcome.get(path, "created")
        events.append(event(path, old.get(path), new, decision))
    return events
