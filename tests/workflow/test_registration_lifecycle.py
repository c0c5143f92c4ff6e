"""The registration lifecycle rule: who may move a registration, and what each move stamps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channel_sync.model import RegistrationStatus
from channel_sync.sync.rules import RuleRefusalError
from channel_sync.workflow.numbers import RegistrationNumbers
from channel_sync.workflow.registration import RegistrationLifecycle
from channel_sync.workflow.settings import WorkflowSettings

from .workflow_helpers import (
    NOW,
    Ctx,
    apply_changes,
    deal,
    partner_ctx,
    vendor_ctx,
)

S = RegistrationStatus


def rule(days: int = 90) -> RegistrationLifecycle:
    return RegistrationLifecycle(WorkflowSettings(registration_protection_days=days))


def test_a_new_submission_is_stamped_with_the_rules_clock() -> None:
    after = deal(registration__status="submitted")
    changes = rule().apply(None, after, partner_ctx())
    assert changes == {"registration.submitted_at": NOW}


def test_vendor_approval_gets_decision_date_number_and_expiry() -> None:
    before = deal(registration__status="submitted", registration__submitted_at=NOW)
    after = deal(registration__status="approved", registration__submitted_at=NOW)
    ctx = vendor_ctx()
    ctx.clock.advance(timedelta(days=2))
    changes = rule(days=30).apply(before, after, ctx)
    decided = NOW + timedelta(days=2)
    assert changes["registration.decided_at"] == decided
    assert changes["registration.registration_number"] == "REG-2026-000001"
    assert changes["registration.expires_at"] == decided + timedelta(days=30)
    applied = apply_changes(after, dict(changes))
    assert applied.registration.expires_at == decided + timedelta(days=30)


def test_vendor_given_number_and_expiry_are_kept() -> None:
    before = deal(registration__status="under_review")
    expires = NOW + timedelta(days=10)
    after = deal(
        registration__status="approved",
        registration__registration_number="DR-7",
        registration__expires_at=expires,
        registration__decided_at=NOW - timedelta(hours=1),
    )
    assert rule().apply(before, after, vendor_ctx()) == {}


def test_numbers_are_unique_and_continue_after_the_highest_known() -> None:
    numbers = RegistrationNumbers("REG", known=["REG-2026-000041", "REG-2025-000900", "X-1"])
    lifecycle = RegistrationLifecycle(WorkflowSettings(), numbers)
    given = []
    for n in range(3):
        before = deal(f"cs_{n}", registration__status="submitted")
        after = deal(f"cs_{n}", registration__status="approved")
        given.append(
            lifecycle.apply(before, after, vendor_ctx())["registration.registration_number"]
        )
    assert given == ["REG-2026-000042", "REG-2026-000043", "REG-2026-000044"]


def test_a_retried_approval_keeps_its_number() -> None:
    lifecycle = rule()
    before = deal(registration__status="submitted")
    after = deal(registration__status="approved")
    first = lifecycle.apply(before, after, vendor_ctx())
    again = lifecycle.apply(before, after, vendor_ctx())
    assert first["registration.registration_number"] == again["registration.registration_number"]


def test_numbers_typed_by_the_vendor_are_never_reissued() -> None:
    lifecycle = rule()
    typed = deal(
        "cs_typed",
        registration__status="approved",
        registration__registration_number="REG-2026-000777",
    )
    lifecycle.apply(typed, typed, vendor_ctx())
    before = deal("cs_new", registration__status="submitted")
    after = deal("cs_new", registration__status="approved")
    changes = lifecycle.apply(before, after, vendor_ctx())
    assert changes["registration.registration_number"] == "REG-2026-000778"


def test_rejection_stamps_the_decision_and_drops_an_expiry() -> None:
    before = deal(registration__status="under_review")
    after = deal(registration__status="rejected", registration__decision_reason="Overlap")
    changes = rule().apply(before, after, vendor_ctx())
    assert changes == {"registration.decided_at": NOW}


def test_a_registration_made_again_starts_clean() -> None:
    before = deal(
        registration__status="rejected",
        registration__decided_at=NOW - timedelta(days=5),
        registration__decision_reason="Customer already engaged",
        registration__channel_conflict=True,
        registration__conflict_evidence="same domain",
    )
    after = before.model_copy(
        update={"registration": before.registration.model_copy(update={"status": S.SUBMITTED})}
    )
    changes = rule().apply(before, after, partner_ctx())
    applied = apply_changes(after, dict(changes))
    assert applied.registration.status is S.SUBMITTED
    assert applied.registration.submitted_at == NOW
    assert applied.registration.decided_at is None
    assert applied.registration.decision_reason is None
    assert applied.registration.channel_conflict is False
    assert applied.registration.conflict_evidence is None


@pytest.mark.parametrize(
    ("old", "new"),
    [("approved", "submitted"), ("expired", "approved"), ("withdrawn", "approved")],
)
def test_moves_outside_the_transition_table_are_refused(old: str, new: str) -> None:
    before = deal(registration__status=old)
    after = deal(registration__status=new)
    with pytest.raises(RuleRefusalError, match=f"cannot move from '{old}' to '{new}'"):
        rule().apply(before, after, Ctx())


@pytest.mark.parametrize("new", ["approved", "rejected", "under_review", "expired"])
def test_a_partner_cannot_decide_its_own_registration(new: str) -> None:
    before = deal(registration__status="submitted" if new != "expired" else "approved")
    after = deal(registration__status=new)
    with pytest.raises(RuleRefusalError, match="belongs to the vendor"):
        rule().apply(before, after, partner_ctx())


def test_only_the_partner_registers_a_deal_again() -> None:
    before = deal(registration__status="rejected")
    after = deal(registration__status="submitted")
    with pytest.raises(RuleRefusalError, match="belongs to the partner"):
        rule().apply(before, after, vendor_ctx())


def test_partner_withdrawal_and_engine_expiry_are_allowed() -> None:
    approved = deal(registration__status="approved")
    assert rule().apply(approved, deal(registration__status="withdrawn"), partner_ctx()) == {}
    assert rule().apply(approved, deal(registration__status="expired"), Ctx()) == {}


def test_an_unchanged_status_needs_nothing() -> None:
    same = deal(
        registration__status="approved", registration__registration_number="REG-2026-000001"
    )
    assert rule().apply(same, same, partner_ctx()) == {}
