"""Channel-conflict check at submission, as a hub rule.

When a partner submits a registration, the hub compares its end customer with every other open
claim on a customer: other partners' open registrations and the vendor's own open (vendor-direct)
deals (``RuleContext.open_registrations()``). The matching itself is
:func:`channel_sync.workflow.matching.find_conflicts`: same registrable web domain, or company
names alike above the matcher's threshold, with overlapping products where both deals list them.

A conflict is stored on the deal (``registration.channel_conflict``, and the evidence with its
scores in ``registration.conflict_evidence``); the vendor mapping writes both to the vendor's CRM
for the channel manager. The partner mappings carry neither: the submitting partner only sees
its registration ``under_review`` (or, under the first-come policy, ``rejected`` with a reason
that names nobody), never another partner's identity or deal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_sync.model import Opportunity, RegistrationStatus
from channel_sync.sync.rules import ClaimsSource, RuleContext
from channel_sync.workflow.claim_index import ClaimIndex
from channel_sync.workflow.match_index import ChannelConflict, conflicts_among
from channel_sync.workflow.matching import (
    CustomerMatcher,
    CustomerRecord,
    conflict_evidence,
    find_conflicts,
)
from channel_sync.workflow.settings import ConflictPolicy, WorkflowSettings

S = RegistrationStatus
#: The partner-facing reason under the first-come policy; it must never name anyone.
FIRST_COME_REASON = (
    "Another registration for this customer was submitted first and is still open; "
    "contact your channel manager."
)


class ChannelConflictCheck:
    """Hub rule: flag (or, first come first served, reject) a submission that clashes."""

    def __init__(
        self, settings: WorkflowSettings | None = None, matcher: CustomerMatcher | None = None
    ) -> None:
        self.settings = settings or WorkflowSettings()
        self.matcher = matcher or CustomerMatcher()
        self._index = ClaimIndex(self.matcher)

    def apply(
        self, before: Opportunity | None, after: Opportunity, ctx: RuleContext
    ) -> Mapping[str, Any]:
        if after.partner_id is None or after.registration.status is not S.SUBMITTED:
            return {}
        if before is not None and before.registration.status is S.SUBMITTED:
            return {}
        conflicts = self._conflicts(CustomerRecord.from_opportunity(after), ctx)
        if not conflicts:
            if after.registration.channel_conflict or after.registration.conflict_evidence:
                return {
                    "registration.channel_conflict": False,
                    "registration.conflict_evidence": None,
                }
            return {}
        changes: dict[str, Any] = {
            "registration.channel_conflict": True,
            "registration.conflict_evidence": conflict_evidence(conflicts),
            "registration.status": S.UNDER_REVIEW,
        }
        first_come = self.settings.conflict_policy is ConflictPolicy.AUTO_REJECT
        if first_come and any(not c.vendor_direct for c in conflicts):
            changes["registration.status"] = S.REJECTED
            changes["registration.decision_reason"] = FIRST_COME_REASON
            changes["registration.decided_at"] = ctx.clock.now()
        return changes

    def _conflicts(self, candidate: CustomerRecord, ctx: RuleContext) -> list[ChannelConflict]:
        feed = ctx.claims_feed() if isinstance(ctx, ClaimsSource) else None
        if feed is None or not isinstance(ctx, ClaimsSource):
            claims = (CustomerRecord.from_opportunity(o) for o in ctx.open_registrations())
            return find_conflicts(candidate, claims, matcher=self.matcher)
        matches = self._index.matches(
            feed, ctx, ctx.pending_log(), candidate.company_name, candidate.domain
        )
        return conflicts_among(candidate, matches)
