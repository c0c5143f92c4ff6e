"""The expiry sweep: approved registrations whose protection window ran out become ``expired``.

A registration protects a partner's claim on a customer for a limited time; a deal that has not
closed by then loses that protection so other partners (or the vendor's own team) may pursue the
customer. The sweep goes through the engine's ``apply_hub_change`` like any other hub change, so
the rules run, the change is audited, and it reaches the vendor's CRM and the owning partner's
CRM through the outbox on the next cycles.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from channel_sync.clock import Clock, default_clock
from channel_sync.errors import ChannelSyncError
from channel_sync.model import Opportunity, RegistrationStatus
from channel_sync.store import Store
from channel_sync.workflow.hub_records import iter_records

log = logging.getLogger(__name__)

ACTOR = "channel-sync"
REASON = "registration protection window ended without a close"
DECISION = "expired"


class HubChanges(Protocol):
    """The part of the sync engine the sweep needs (``SyncEngine`` provides it)."""

    def apply_hub_change(
        self,
        canonical_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str,
        decision: str | None = None,
    ) -> None: ...


@dataclass
class SweepReport:
    checked: int = 0
    expired: list[str] = field(default_factory=list)
    #: canonical id -> why the engine refused to expire it (the record keeps its status).
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "expired": self.expired, "failed": self.failed}


def is_due(opportunity: Opportunity, now: datetime) -> bool:
    """Approved, past its expiry, and the deal has not closed."""
    return opportunity.registration.is_expired_at(now) and not opportunity.is_closed


def due_for_expiry(opportunities: Iterable[Opportunity], now: datetime) -> list[str]:
    return [o.id for o in opportunities if is_due(o, now)]


def sweep_expired(hub: HubChanges, store: Store, *, clock: Clock | None = None) -> SweepReport:
    """Expire every due registration; one refused record does not stop the others."""
    now = (clock or default_clock()).now()
    report = SweepReport()
    due: list[str] = []
    for record in iter_records(store):
        report.checked += 1
        if is_due(record.opportunity, now):
            due.append(record.canonical_id)
    for canonical_id in due:
        try:
            hub.apply_hub_change(
                canonical_id,
                {"registration.status": RegistrationStatus.EXPIRED},
                actor=ACTOR,
                reason=REASON,
                decision=DECISION,
            )
        except (ChannelSyncError, ValueError) as exc:
            # ValueError: the model's IllegalTransitionError, when the deal moved on meanwhile.
            report.failed[canonical_id] = str(exc)
            log.warning("expiry of %s refused: %s", canonical_id, exc)
        else:
            report.expired.append(canonical_id)
    if report.expired or report.failed:
        log.info(
            "expiry sweep: %d checked, %d expired, %d refused",
            report.checked,
            len(report.expired),
            len(report.failed),
        )
    return report
