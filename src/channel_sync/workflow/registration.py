"""The registration lifecycle as a hub rule: who may move a registration, and what each move
stamps on the deal.

The model's transition table (``ALLOWED_TRANSITIONS``) says which moves exist; this rule adds who
may make them, because the two CRMs hold different powers: a partner submits and withdraws, the
vendor's channel team reviews, approves, rejects and expires, and channel-sync itself expires
approvals whose protection window ran out. A move that breaks either rule is refused with a
message on the record instead of being applied, so the partner's tick box can never silently
overwrite the vendor's decision.

What the rule stamps, from its own clock (never from a CRM's clock):

* submitted -- ``submitted_at``; a deal registered again also drops the previous decision
  (number, dates, reason, channel-conflict flag) so the new claim starts clean;
* approved -- ``decided_at``, a registration number unless the vendor typed one, and
  ``expires_at`` (decision + protection window) unless the vendor set one;
* rejected -- ``decided_at``; an old expiry no longer means anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from channel_sync.model import (
    IllegalTransitionError,
    Opportunity,
    Registration,
    RegistrationStatus,
    check_transition,
)
from channel_sync.sync.merge import Side
from channel_sync.sync.rules import RuleContext, RuleRefusalError
from channel_sync.workflow.numbers import RegistrationNumbers
from channel_sync.workflow.settings import WorkflowSettings

S = RegistrationStatus

#: The moves each side may make. The engine itself (``source_role`` ``None``: the expiry sweep,
#: a conflict resolution) may make any move the transition table allows.
MOVES_BY_ROLE: dict[Side, frozenset[RegistrationStatus]] = {
    Side.PARTNER: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    Side.VENDOR: frozenset({S.UNDER_REVIEW, S.APPROVED, S.REJECTED, S.EXPIRED, S.WITHDRAWN}),
}

_RESUBMITTED_CLEARS: dict[str, Any] = {
    "registration.registration_number": None,
    "registration.decided_at": None,
    "registration.expires_at": None,
    "registration.decision_reason": None,
    "registration.channel_conflict": False,
    "registration.conflict_evidence": None,
}


def _who(ctx: RuleContext) -> str:
    if ctx.source_role is Side.PARTNER:
        return "the partner"
    if ctx.source_role is Side.VENDOR:
        return "the vendor"
    return "channel-sync"


class RegistrationLifecycle:
    """Hub rule: enforce who moves a registration and stamp what each move implies."""

    def __init__(
        self, settings: WorkflowSettings | None = None, numbers: RegistrationNumbers | None = None
    ) -> None:
        self.settings = settings or WorkflowSettings()
        self.numbers = numbers or RegistrationNumbers(self.settings.registration_number_prefix)

    def apply(
        self, before: Opportunity | None, after: Opportunity, ctx: RuleContext
    ) -> Mapping[str, Any]:
        old = before.registration if before is not None else None
        new = after.registration
        self.numbers.observe([new.registration_number])
        if old is not None and old.status == new.status:
            return {}
        if old is not None:
            self._check_move(old.status, new.status, ctx)
        now = ctx.clock.now()
        if new.status is S.SUBMITTED:
            return self._submitted(after, resubmitted=old is not None, now=now)
        if new.status is S.APPROVED:
            return self._approved(after.id, old, new, now)
        if new.status is S.REJECTED:
            return self._rejected(old, new, now)
        return {}

    @staticmethod
    def _check_move(old: RegistrationStatus, new: RegistrationStatus, ctx: RuleContext) -> None:
        try:
            check_transition(old, new)
        except IllegalTransitionError as exc:
            raise RuleRefusalError(f"{exc}; requested by {_who(ctx)}") from None
        role = ctx.source_role
        if role is not None and new not in MOVES_BY_ROLE[role]:
            msg = (
                f"registration status cannot move from {old.value!r} to {new.value!r} in "
                f"{_who(ctx)}'s CRM: that move belongs to the "
                f"{'vendor' if role is Side.PARTNER else 'partner'}"
            )
            raise RuleRefusalError(msg)

    def _submitted(self, after: Opportunity, *, resubmitted: bool, now: datetime) -> dict[str, Any]:
        changes: dict[str, Any] = {"registration.submitted_at": now}
        if resubmitted:
            self.numbers.forget(after.id)
            changes.update(_RESUBMITTED_CLEARS)
        return changes

    def _approved(
        self, canonical_id: str, old: Registration | None, new: Registration, now: datetime
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        decided = new.decided_at
        # A decision date left over from an earlier decision is not this approval's date.
        if decided is None or (old is not None and decided == old.decided_at):
            decided = now
            changes["registration.decided_at"] = decided
        if new.registration_number is None:
            changes["registration.registration_number"] = self.numbers.assign(
                canonical_id, decided.year
            )
        stale_expiry = old is not None and new.expires_at == old.expires_at
        if new.expires_at is None or stale_expiry:
            changes["registration.expires_at"] = decided + self.settings.protection_window
        return changes

    @staticmethod
    def _rejected(old: Registration | None, new: Registration, now: datetime) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if new.decided_at is None or (old is not None and new.decided_at == old.decided_at):
            changes["registration.decided_at"] = now
        if new.expires_at is not None:
            changes["registration.expires_at"] = None
        return changes
