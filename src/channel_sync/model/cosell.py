"""Co-sell: the vendor's engagement on a partner's deal."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from channel_sync.model.base import CanonicalModel
from channel_sync.model.enums import CoSellStatus
from channel_sync.model.parties import Contact


class CoSell(CanonicalModel):
    """Names follow AWS Partner Central (``InvolvementType``, ``NextSteps``)."""

    status: CoSellStatus = CoSellStatus.NONE
    vendor_rep: Contact | None = None
    next_step: Annotated[str, Field(max_length=255)] | None = None
    notes: Annotated[str, Field(max_length=32000)] | None = None
