"""Shared by the workflow rule tests: a rule context and deals in a few lines each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channel_sync.clock import FrozenClock
from channel_sync.model import Opportunity
from channel_sync.sync.merge import Side
from channel_sync.sync.rules import ENGINE_SOURCE

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Ctx:
    """A ``RuleContext`` over a fixed list of other open deals."""

    clock: FrozenClock = field(default_factory=lambda: FrozenClock(NOW))
    source: str = ENGINE_SOURCE
    source_role: Side | None = None
    others: list[Opportunity] = field(default_factory=list)

    def open_registrations(self) -> Iterable[Opportunity]:
        return list(self.others)


def partner_ctx(others: list[Opportunity] | None = None) -> Ctx:
    return Ctx(source="partner-a-hubspot", source_role=Side.PARTNER, others=others or [])


def vendor_ctx(others: list[Opportunity] | None = None) -> Ctx:
    return Ctx(source="vendor-salesforce", source_role=Side.VENDOR, others=others or [])


def deal(
    canonical_id: str = "cs_1", partner_id: str | None = "partner-a", **flat: Any
) -> Opportunity:
    """A deal with sensible defaults; ``flat`` uses canonical paths with ``__`` for dots."""
    data: dict[str, Any] = {
        "id": canonical_id,
        "partner_id": partner_id,
        "name": "Acme - expansion",
        "customer": {"company_name": "Acme Manufacturing GmbH", "domain": "acme.example"},
        "amount": Decimal("125000.50"),
        "currency_code": "EUR",
        "products": ["CLOUD-CORE"],
    }
    for key, value in flat.items():
        *parents, leaf = key.split("__")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return Opportunity.model_validate(data)


def apply_changes(opportunity: Opportunity, changes: dict[str, Any]) -> Opportunity:
    """What the engine does with a rule's answer: the flat changes on top of the deal."""
    from channel_sync.mapping import build_opportunity  # noqa: PLC0415

    return build_opportunity(changes, opportunity)
