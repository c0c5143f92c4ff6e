"""Pipeline figures for the channel team, computed from the hub's canonical deals.

The hub holds every partner's registrations with their decisions and dates in one model, so the
figures need no API call to any CRM. Amounts are summed per currency and never converted: an
exchange rate is a business decision this report does not make.

A "registered deal" is a partner deal whose registration left ``draft``. Grouping by product puts
a deal with two products in both groups (its amount counts in both); the totals row counts each
deal once.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from channel_sync.model import Opportunity, RegistrationStatus

S = RegistrationStatus
NONE_KEY = "(none)"


class GroupBy(StrEnum):
    STAGE = "stage"
    PARTNER = "partner"
    PRODUCT = "product"
    COUNTRY = "country"


@dataclass
class GroupFigures:
    key: str
    deals: int = 0
    #: currency -> summed amount (deals without an amount add nothing).
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, opportunity: Opportunity) -> None:
        self.deals += 1
        if opportunity.amount is not None:
            currency = opportunity.currency_code
            self.amounts[currency] = self.amounts.get(currency, Decimal(0)) + opportunity.amount


@dataclass(frozen=True)
class ExpiringRegistration:
    canonical_id: str
    partner_id: str | None
    name: str
    registration_number: str | None
    expires_at: datetime
    days_left: float


@dataclass
class PipelineReport:
    group_by: GroupBy
    generated_at: datetime
    expiring_days: int
    groups: list[GroupFigures] = field(default_factory=list)
    total: GroupFigures = field(default_factory=lambda: GroupFigures("total"))
    by_status: dict[str, int] = field(default_factory=dict)
    approved: int = 0
    rejected: int = 0
    median_decision: timedelta | None = None
    expiring: list[ExpiringRegistration] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return self.approved + self.rejected

    @property
    def approval_rate(self) -> float | None:
        """Approved (including since expired) over approved plus rejected."""
        return self.approved / self.decided if self.decided else None


def is_registered(opportunity: Opportunity) -> bool:
    return opportunity.partner_id is not None and opportunity.registration.status is not S.DRAFT


def _keys(opportunity: Opportunity, group_by: GroupBy) -> list[str]:
    if group_by is GroupBy.STAGE:
        return [opportunity.stage.value]
    if group_by is GroupBy.PARTNER:
        return [opportunity.partner_id or NONE_KEY]
    if group_by is GroupBy.COUNTRY:
        return [opportunity.customer.country_code or NONE_KEY]
    return list(opportunity.products) or [NONE_KEY]


def _decision_time(opportunity: Opportunity) -> timedelta | None:
    registration = opportunity.registration
    if registration.status not in (S.APPROVED, S.REJECTED, S.EXPIRED):
        return None
    if registration.submitted_at is None or registration.decided_at is None:
        return None
    elapsed = registration.decided_at - registration.submitted_at
    return elapsed if elapsed >= timedelta(0) else None


def build_report(
    opportunities: Iterable[Opportunity],
    *,
    now: datetime,
    group_by: GroupBy = GroupBy.STAGE,
    expiring_days: int = 30,
) -> PipelineReport:
    report = PipelineReport(group_by=group_by, generated_at=now, expiring_days=expiring_days)
    groups: dict[str, GroupFigures] = defaultdict(lambda: GroupFigures(""))
    statuses: Counter[str] = Counter()
    decision_times: list[timedelta] = []
    horizon = now + timedelta(days=expiring_days)
    for opportunity in opportunities:
        if not is_registered(opportunity):
            continue
        registration = opportunity.registration
        report.total.add(opportunity)
        for key in _keys(opportunity, group_by):
            group = groups[key]
            group.key = key
            group.add(opportunity)
        statuses[registration.status.value] += 1
        if registration.status in (S.APPROVED, S.EXPIRED):
            report.approved += 1
        elif registration.status is S.REJECTED:
            report.rejected += 1
        elapsed = _decision_time(opportunity)
        if elapsed is not None:
            decision_times.append(elapsed)
        expires = registration.expires_at
        if registration.status is S.APPROVED and expires is not None and now <= expires <= horizon:
            report.expiring.append(
                ExpiringRegistration(
                    canonical_id=opportunity.id,
                    partner_id=opportunity.partner_id,
                    name=opportunity.name,
                    registration_number=registration.registration_number,
                    expires_at=expires,
                    days_left=(expires - now) / timedelta(days=1),
                )
            )
    report.groups = sorted(groups.values(), key=lambda g: (-g.deals, g.key))
    report.by_status = {s.value: statuses[s.value] for s in S if statuses[s.value]}
    if decision_times:
        seconds = statistics.median(t.total_seconds() for t in decision_times)
        report.median_decision = timedelta(seconds=seconds)
    report.expiring.sort(key=lambda e: (e.expires_at, e.canonical_id))
    return report
