"""The canonical opportunity: the model every CRM is mapped to and from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from channel_sync.model.base import StrippedModel
from channel_sync.model.cosell import CoSell
from channel_sync.model.currency import is_currency
from channel_sync.model.enums import Stage
from channel_sync.model.parties import Contact, Customer
from channel_sync.model.registration import Registration

#: Canonical ids are opaque, URL-safe and short enough for every CRM's external-id field
#: (Salesforce external ids hold 255 characters, HubSpot unique properties 1,000).
CanonicalId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PartnerId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class Opportunity(StrippedModel):
    """A deal as channel-sync knows it.

    ``partner_id`` is set from the connection that first brought the deal in and can never change
    (``None`` marks a vendor-direct deal). Field names follow AWS Partner Central's opportunity
    (``Customer``, ``LifeCycle.Stage``, ``LifeCycle.TargetCloseDate``,
    ``Project.ExpectedCustomerSpend``) where that costs nothing; ``docs/model.md`` lists the
    correspondence with Partner Central and Microsoft referrals.
    """

    id: CanonicalId
    partner_id: PartnerId | None = Field(default=None, frozen=True)
    name: Annotated[str, Field(min_length=1, max_length=255)]
    customer: Customer = Field(default_factory=Customer)
    stage: Stage = Stage.PROSPECTING
    probability: Annotated[int, Field(ge=0, le=100)] | None = None
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] | None = None
    currency_code: str = "USD"
    target_close_date: date | None = None
    products: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        default_factory=list
    )
    description: Annotated[str, Field(max_length=32000)] | None = None
    partner_contact: Contact | None = None
    vendor_owner: Contact | None = None
    registration: Registration = Field(default_factory=Registration)
    co_sell: CoSell = Field(default_factory=CoSell)

    @field_validator("currency_code")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not is_currency(code):
            msg = f"not an ISO 4217 currency code: {value!r}"
            raise ValueError(msg)
        return code

    @field_validator("products")
    @classmethod
    def _products(cls, value: list[str]) -> list[str]:
        # Products are a set in every CRM we map; keep a stable order so equal sets compare equal.
        return sorted(set(value))

    @property
    def is_vendor_direct(self) -> bool:
        return self.partner_id is None

    @property
    def is_closed(self) -> bool:
        return self.stage.is_closed
