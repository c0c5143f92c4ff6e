"""Co-sell as a hub rule: a partner asks, the vendor's team engages.

Co-sell status is a shared field (the partner's CRM can write it), so without this rule a partner
could mark its own deal ``engaged`` and the vendor's CRM would show an engagement that never
happened. A partner may request co-sell, withdraw a request, or ask again after a decline; every
other status (accepted, engaged, declined) is the vendor's to set. Engagement details (vendor
rep, next step, notes) are vendor-authority fields in the mappings and need no rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_sync.model import CoSellStatus, Opportunity
from channel_sync.sync.merge import Side
from channel_sync.sync.rules import RuleContext, RuleRefusalError

C = CoSellStatus

#: (from, to) moves a partner may make in its own CRM.
PARTNER_MOVES: frozenset[tuple[CoSellStatus, CoSellStatus]] = frozenset(
    {
        (C.NONE, C.REQUESTED),
        (C.REQUESTED, C.NONE),
        (C.DECLINED, C.REQUESTED),
    }
)


class CoSellRequests:
    """Hub rule: partners only request (or withdraw a request for) co-sell."""

    def apply(
        self, before: Opportunity | None, after: Opportunity, ctx: RuleContext
    ) -> Mapping[str, Any]:
        old = before.co_sell.status if before is not None else C.NONE
        new = after.co_sell.status
        if old == new or ctx.source_role is not Side.PARTNER:
            return {}
        if (old, new) not in PARTNER_MOVES:
            msg = (
                f"co-sell status cannot move from {old.value!r} to {new.value!r} in the "
                "partner's CRM: a partner can request co-sell (or withdraw a request); "
                "accepting, engaging and declining belong to the vendor"
            )
            raise RuleRefusalError(msg)
        return {}
