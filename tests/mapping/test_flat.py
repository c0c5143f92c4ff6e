from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from channel_sync.mapping import build_opportunity, canonical_value, flatten
from channel_sync.mapping.flat import nullable_paths, to_nested
from channel_sync.model import Opportunity, RegistrationStatus, Stage, canonical_fields


def full() -> Opportunity:
    return Opportunity.model_validate(
        {
            "id": "cs_1",
            "partner_id": "partner-a",
            "name": "Acme",
            "customer": {"company_name": "Acme", "domain": "acme.example", "country_code": "DE"},
            "stage": "proposal",
            "amount": "1000.50",
            "target_close_date": "2026-03-31",
            "products": ["B", "A"],
            "partner_contact": {"email": "x@y.example"},
            "registration": {"status": "approved", "expires_at": "2026-07-01T00:00:00Z"},
            "co_sell": {"status": "engaged", "vendor_rep": {"email": "rep@v.example"}},
        }
    )


def test_flatten_covers_every_path_and_builds_back_equal() -> None:
    opp = full()
    flat = flatten(opp)
    assert set(flat) == set(canonical_fields())
    assert flat["customer.domain"] == "acme.example"
    assert flat["vendor_owner.email"] is None
    assert flat["products"] == ["A", "B"]
    assert build_opportunity(flat) == opp


def test_none_means_absent_for_paths_that_cannot_be_empty() -> None:
    base = full()
    built = build_opportunity(
        {"stage": None, "registration.channel_conflict": None, "amount": None}, base
    )
    assert built.stage is Stage.PROPOSAL  # kept from the base
    assert built.registration.channel_conflict is False
    assert built.amount is None  # amount can be cleared
    assert "stage" not in nullable_paths()
    assert "amount" in nullable_paths()


def test_contacts_with_no_values_collapse_to_none() -> None:
    built = build_opportunity(
        {"id": "cs_2", "name": "n", "partner_contact.email": None, "co_sell.vendor_rep.email": None}
    )
    assert built.partner_contact is None
    assert built.co_sell.vendor_rep is None
    nested = to_nested({"co_sell.vendor_rep.email": "a@b.example"})
    assert nested == {"co_sell": {"vendor_rep": {"email": "a@b.example"}}}


def test_canonical_value_types_and_normalizes_like_the_model() -> None:
    assert canonical_value("customer.domain", "https://WWW.Acme.example/x") == "acme.example"
    assert canonical_value("amount", "12.5") == Decimal("12.5")
    assert canonical_value("target_close_date", "2026-03-31") == date(2026, 3, 31)
    assert canonical_value("registration.decided_at", "2026-01-05T10:00:00Z") == datetime(
        2026, 1, 5, 10, tzinfo=UTC
    )
    assert canonical_value("registration.status", "approved") is RegistrationStatus.APPROVED
    assert canonical_value("products", ["b", "a", "a"]) == ["a", "b"]
    assert canonical_value("customer.industry", None) is None
    with pytest.raises(ValueError, match="pattern"):
        canonical_value("customer.country_code", "Germany")
    with pytest.raises(ValueError, match="cannot be empty"):
        canonical_value("stage", None)
