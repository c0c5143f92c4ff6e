from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from channel_sync.model import (
    ALLOWED_TRANSITIONS,
    IllegalTransitionError,
    Opportunity,
    Registration,
    RegistrationStatus,
    Stage,
    can_transition,
    canonical_fields,
    check_transition,
)

S = RegistrationStatus


def make(**kw: object) -> Opportunity:
    base: dict[str, object] = {"id": "cs_1", "partner_id": "partner-a", "name": "Acme renewal"}
    return Opportunity.model_validate({**base, **kw})


def test_partner_id_is_immutable() -> None:
    opp = make()
    with pytest.raises(ValidationError, match="frozen"):
        opp.partner_id = "partner-b"
    assert opp.partner_id == "partner-a"


def test_amount_is_decimal_and_currency_is_iso_4217() -> None:
    opp = make(amount="1234.50", currency_code="eur")
    assert opp.amount == Decimal("1234.50")
    assert opp.currency_code == "EUR"
    with pytest.raises(ValidationError, match="ISO 4217"):
        make(currency_code="XYZ")
    with pytest.raises(ValidationError):
        make(amount="12.345")  # more than two decimal places


def test_domain_is_normalized_and_validated() -> None:
    opp = make(customer={"company_name": "Acme", "domain": "https://WWW.Acme.com/about"})
    assert opp.customer.domain == "acme.com"
    with pytest.raises(ValidationError, match="domain"):
        make(customer={"domain": "not a domain"})


def test_products_compare_as_sets() -> None:
    assert make(products=["b", "a", "a"]).products == ["a", "b"]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        make(colour="red")


def test_stage_closed() -> None:
    assert make(stage="closed_won").is_closed
    assert not make(stage=Stage.PROPOSAL).is_closed


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", list(S))
def test_transition_table_is_enforced(old: S, new: S) -> None:
    allowed = old == new or new in ALLOWED_TRANSITIONS[old]
    assert can_transition(old, new) is allowed
    reg = Registration(status=old)
    if allowed:
        check_transition(old, new)
        assert reg.moved_to(new).status is new
    else:
        with pytest.raises(IllegalTransitionError, match=f"from '{old.value}' to '{new.value}'"):
            reg.moved_to(new)


def test_lifecycle_happy_path() -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    reg = Registration().moved_to(S.SUBMITTED, submitted_at=t)
    reg = reg.moved_to(S.APPROVED, decided_at=t, registration_number="REG-1", expires_at=t)
    assert reg.is_open()
    assert reg.is_expired_at(t)
    assert reg.moved_to(S.EXPIRED).status is S.EXPIRED


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Registration(submitted_at=datetime(2026, 1, 1))


def test_catalogue_covers_nested_leaves() -> None:
    fields = canonical_fields()
    assert fields["customer.domain"].type is str
    assert fields["amount"].type is Decimal
    assert fields["registration.expires_at"].type is datetime
    assert fields["products"].item_type is str
    assert fields["partner_id"].frozen
    assert "customer" not in fields  # only leaves


def test_blank_text_reads_as_unset_and_timestamps_keep_milliseconds() -> None:
    opp = make(description="   ", customer={"company_name": "", "industry": "Retail"})
    assert opp.description is None
    assert opp.customer.company_name is None
    reg = Registration(submitted_at=datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC))
    assert reg.submitted_at == datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
