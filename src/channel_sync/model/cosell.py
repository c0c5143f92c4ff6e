"""Co-sell: the vendor's engagement on a partner's deal."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from channel_sync.model.enums import CoSellStatus
from channel_sync.model.parties import Contact


class CoSell(BaseModel):
    """Names follow AWS Partner Central (``InvolvementType``, ``NextSteps``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    status: CoSellStatus = CoSellStatus.NONE
    vendor_rep: Contact | None = None
    next_step: Annotated[str, Field(max_length=255)] | None = None
    notes: Annotated[str, Field(max_length=32000)] | None = None
