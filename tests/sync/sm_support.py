"""The oracle's side of the stateful convergence test: fields, values and what it knows of a deal.

The field sets follow the shipped mappings' authority rules: the review fields are ``shared``
with ``on_conflict: review`` in every mapping, the description is the partner's, the next step
is the vendor's (partners only display it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import strategies as st

from channel_sync.mapping import canonical_value
from sync.world import PARTNER_A, PARTNER_B, VENDOR

REVIEW = ("amount", "stage", "target_close_date")  # shared, on_conflict: review
PARTNER_OWNED = ("description",)  # authority: partner, editable on both sides
VENDOR_OWNED = ("co_sell.next_step",)  # authority: vendor, written to partners only
PATHS = (*REVIEW, *PARTNER_OWNED, *VENDOR_OWNED)
WINNER = {"description": "partner", "co_sell.next_step": "vendor"}
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
CRASH_POINTS = (("before_write", 1), ("after_write", 1), ("mid_batch", 1), ("mid_commit", 1),
                ("mid_commit", 3))
#: The upsert endpoints, where a fault hits the write path only.
WRITE_PATH = {
    VENDOR: ("PATCH", "/composite/sobjects"),
    PARTNER_B: ("PATCH", "/composite/sobjects"),
    PARTNER_A: ("POST", "/batch/upsert$"),
}
MAX_DEALS = 5
SIDES = ("vendor", "partner")

F = TypeVar("F", bound=Callable[..., Any])


def value_strategy(path: str) -> st.SearchStrategy[Any]:
    if path == "amount":
        return st.integers(1, 10**7).map(lambda cents: Decimal(cents).scaleb(-2))
    if path == "stage":
        return st.sampled_from(STAGES)
    if path == "target_close_date":
        return st.integers(0, 729).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
    return st.integers(0, 10**6).map(lambda n: f"note {n}")


def canonical(path: str, value: Any) -> Any:
    return None if value is None else canonical_value(path, value)


def blank(value: Any) -> Any:
    return None if value in ("", None) else value


@dataclass
class Deal:
    """What the oracle knows of one deal: the agreed values and each side's open edits."""

    key: str
    partner: str
    agreed: dict[str, Any]
    pending: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {side: {} for side in SIDES}
    )
    #: Review fields changed differently on both sides: (vendor value, partner value).
    contested: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    synced: bool = False

    def taken(self, path: str) -> set[Any]:
        """Values already in play for ``path``: a new edit picks another one."""
        values = {self.agreed.get(path)}
        values.update(p[path] for p in self.pending.values() if path in p)
        values.update(self.contested.get(path, ()))
        return values

    def expected(self, side: str, path: str) -> Any:
        if path in self.contested:
            return self.contested[path][SIDES.index(side)]
        return self.agreed[path]


def guarded(func: F) -> F:
    """Mark the machine broken when a step fails, so teardown only cleans up after it."""

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except BaseException:
            self.broken = True
            raise

    return wrapper  # type: ignore[return-value]
