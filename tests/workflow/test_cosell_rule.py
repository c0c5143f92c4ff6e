"""Co-sell requests: a partner asks (or stops asking); engagement is the vendor's."""

from __future__ import annotations

import pytest

from channel_sync.sync.rules import RuleRefusalError
from channel_sync.workflow.cosell import CoSellRequests

from .workflow_helpers import Ctx, deal, partner_ctx, vendor_ctx


@pytest.mark.parametrize(
    ("old", "new"), [("none", "requested"), ("requested", "none"), ("declined", "requested")]
)
def test_a_partner_may_request_withdraw_or_ask_again(old: str, new: str) -> None:
    before = deal(co_sell__status=old)
    after = deal(co_sell__status=new)
    assert CoSellRequests().apply(before, after, partner_ctx()) == {}


def test_a_new_deal_may_arrive_with_co_sell_requested() -> None:
    assert CoSellRequests().apply(None, deal(co_sell__status="requested"), partner_ctx()) == {}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("requested", "accepted"),
        ("requested", "engaged"),
        ("accepted", "declined"),
        ("none", "engaged"),
    ],
)
def test_a_partner_cannot_engage_itself(old: str, new: str) -> None:
    before = deal(co_sell__status=old)
    after = deal(co_sell__status=new)
    with pytest.raises(RuleRefusalError, match="belong to the vendor"):
        CoSellRequests().apply(before, after, partner_ctx())


@pytest.mark.parametrize("new", ["accepted", "engaged", "declined", "none"])
def test_the_vendor_and_the_engine_set_any_status(new: str) -> None:
    before = deal(co_sell__status="requested")
    after = deal(co_sell__status=new)
    assert CoSellRequests().apply(before, after, vendor_ctx()) == {}
    assert CoSellRequests().apply(before, after, Ctx()) == {}
