"""Small builders shared by the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime

from channel_sync.model import Opportunity

#: The frozen clock's starting instant in every storage test.
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def make_deal(
    canonical_id: str = "cs_1", partner_id: str | None = "acme", **fields: object
) -> Opportunity:
    data: dict[str, object] = {"id": canonical_id, "partner_id": partner_id, "name": "Deal"}
    data.update(fields)
    return Opportunity.model_validate(data)
