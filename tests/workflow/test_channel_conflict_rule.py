"""The channel-conflict check at submission: who counts as a clash, what each side is told."""

from __future__ import annotations

from typing import Any

import pytest

from channel_sync.model import Opportunity
from channel_sync.workflow.channel_conflicts import FIRST_COME_REASON, ChannelConflictCheck
from channel_sync.workflow.matching import EVIDENCE_LIMIT
from channel_sync.workflow.settings import ConflictPolicy, WorkflowSettings

from .workflow_helpers import NOW, deal, partner_ctx


def claim(
    cid: str, partner: str | None, name: str, domain: str | None, **extra: Any
) -> Opportunity:
    extra.setdefault("products", ["ANALYTICS"])
    status = "approved" if partner else "draft"
    return deal(
        cid,
        partner,
        customer={"company_name": name, "domain": domain},
        registration__status=status,
        **extra,
    )


def submission(**extra: Any) -> Opportunity:
    return deal(
        "cs_new",
        "partner-b",
        registration__status="submitted",
        customer={"company_name": "Kestrel Foods GmbH", "domain": "kestrel-foods.example"},
        products=["ANALYTICS"],
        **extra,
    )


def test_another_partners_registration_on_the_same_domain_is_flagged_for_review() -> None:
    other = claim(
        "cs_a",
        "partner-a",
        "Kestrel Foods",
        "https://www.kestrel-foods.example",
        products=["ANALYTICS", "CLOUD-CORE"],
        registration__registration_number="REG-1",
    )
    changes = ChannelConflictCheck().apply(None, submission(), partner_ctx([other]))
    assert changes["registration.status"] == "under_review"
    assert changes["registration.channel_conflict"] is True
    evidence = changes["registration.conflict_evidence"]
    assert "same web domain kestrel-foods.example" in evidence
    assert "registration cs_a of partner partner-a" in evidence  # the channel manager sees who
    assert "products in common: ANALYTICS" in evidence
    assert "score 1.00" in evidence


def test_a_fuzzy_company_name_match_counts_with_its_score() -> None:
    other = claim("cs_v", None, "Kestrel Foods", None, products=["ANALYTICS"])
    changes = ChannelConflictCheck().apply(None, submission(), partner_ctx([other]))
    assert changes["registration.status"] == "under_review"
    assert "vendor-direct opportunity cs_v" in changes["registration.conflict_evidence"]


@pytest.mark.parametrize(
    "other",
    [
        claim("cs_p", "partner-b", "Kestrel Foods", "kestrel-foods.example"),  # same partner
        claim(
            "cs_x", "partner-a", "Kestrel Foods", "kestrel-foods.example", products=["TRAINING"]
        ),  # no shared product
        claim("cs_y", "partner-a", "Kestrel Logistics", "kestrel-logistics.example"),
    ],
)
def test_no_clash_without_another_party_same_customer_and_shared_products(
    other: Opportunity,
) -> None:
    assert ChannelConflictCheck().apply(None, submission(), partner_ctx([other])) == {}


def test_only_a_submission_is_checked() -> None:
    other = claim("cs_a", "partner-a", "Kestrel Foods", "kestrel-foods.example")
    rule = ChannelConflictCheck()
    already = submission()
    assert rule.apply(already, already, partner_ctx([other])) == {}
    approved = submission().model_copy(
        update={"registration": already.registration.model_copy(update={"status": "approved"})}
    )
    assert rule.apply(already, approved, partner_ctx([other])) == {}
    vendor_direct = deal("cs_v", None, registration__status="submitted")
    assert rule.apply(None, vendor_direct, partner_ctx([other])) == {}


def test_first_come_rejects_a_later_duplicate_without_naming_anyone() -> None:
    other = claim("cs_a", "partner-a", "Kestrel Foods", "kestrel-foods.example")
    rule = ChannelConflictCheck(WorkflowSettings(conflict_policy=ConflictPolicy.AUTO_REJECT))
    changes = rule.apply(None, submission(), partner_ctx([other]))
    assert changes["registration.status"] == "rejected"
    assert changes["registration.decided_at"] == NOW
    assert changes["registration.decision_reason"] == FIRST_COME_REASON
    assert "partner-a" not in FIRST_COME_REASON
    assert "cs_a" not in FIRST_COME_REASON


def test_first_come_only_flags_an_overlap_with_the_vendors_own_deal() -> None:
    other = claim("cs_v", None, "Kestrel Foods", "kestrel-foods.example")
    rule = ChannelConflictCheck(WorkflowSettings(conflict_policy=ConflictPolicy.AUTO_REJECT))
    assert rule.apply(None, submission(), partner_ctx([other]))["registration.status"] == (
        "under_review"
    )


def test_a_clean_resubmission_clears_an_old_flag() -> None:
    flagged = submission(registration__channel_conflict=True, registration__conflict_evidence="old")
    before = flagged.model_copy(
        update={"registration": flagged.registration.model_copy(update={"status": "withdrawn"})}
    )
    changes = ChannelConflictCheck().apply(before, flagged, partner_ctx([]))
    assert changes == {
        "registration.channel_conflict": False,
        "registration.conflict_evidence": None,
    }


def test_evidence_for_many_clashes_fits_the_vendors_field() -> None:
    others = [
        claim(f"cs_{n:03d}", "partner-a", "Kestrel Foods", "kestrel-foods.example")
        for n in range(60)
    ]
    changes = ChannelConflictCheck().apply(None, submission(), partner_ctx(others))
    evidence = changes["registration.conflict_evidence"]
    assert len(evidence) <= EVIDENCE_LIMIT
    assert evidence.splitlines()[1].startswith("- registration cs_000 of partner partner-a")
