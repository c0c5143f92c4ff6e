"""Seeding generated deals into the portal, and the control plane's snapshot of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channel_sync.sandbox.hubspot.pipelines import STAGE_FOR_CANONICAL
from channel_sync.sandbox.seed import generate_deals

from .conftest import START, Portal

PROPERTIES = [
    "dealname",
    "dealstage",
    "amount",
    "deal_currency_code",
    "closedate",
    "channel_sync_register",
    "channel_sync_customer_domain",
    "channel_sync_products",
    "channel_sync_partner_contact_email",
    "channel_sync_id",
]


def test_seeded_deals_are_readable_through_the_client(portal: Portal) -> None:
    portal.control("POST", "/seed", {"seed": 3, "deals": 40})
    generated = list(generate_deals(3, 40))

    deals = portal.deals.get_all(properties=PROPERTIES)

    assert len(deals) == 40
    for deal, source in zip(deals, generated, strict=True):
        props = deal.properties
        assert props["dealname"] == source.name
        assert props["dealstage"] == STAGE_FOR_CANONICAL[source.stage]
        assert props["deal_currency_code"] == source.currency_code
        assert props["channel_sync_register"] == ("true" if source.register else "false")
        assert props["channel_sync_customer_domain"] == source.domain
        assert props["channel_sync_partner_contact_email"] == source.contact_email
        assert set((props["channel_sync_products"] or "").split(";")) == set(source.products)
        close = datetime.combine(source.close_date, datetime.min.time(), tzinfo=UTC)
        assert props["closedate"] == close.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        # A partner's own deals carry no canonical id until the sync engine links them.
        assert props["channel_sync_id"] is None


def test_seeded_deals_are_spaced_one_second_apart_ending_now(portal: Portal) -> None:
    portal.control("POST", "/seed", {"seed": 1, "deals": 5})

    deals = portal.deals.get_all()

    stamps = [d.updated_at for d in deals]
    assert stamps == [START - timedelta(seconds=4 - i) for i in range(5)]


def test_snapshot_holds_every_deal_with_every_value(portal: Portal) -> None:
    portal.control("POST", "/seed", {"seed": 2, "deals": 3})
    live = portal.deals.get_all()
    portal.basic.archive(live[0].id)

    snapshot = portal.control("GET", "/snapshot")

    assert list(snapshot) == ["deals"]
    by_id = {d["id"]: d for d in snapshot["deals"]}
    assert set(by_id) == {d.id for d in live}
    assert by_id[live[0].id]["archived"] is True
    assert "archivedAt" in by_id[live[0].id]
    assert by_id[live[1].id]["properties"]["dealname"] == live[1].properties["dealname"]
    assert "channel_sync_customer_name" in by_id[live[1].id]["properties"]


def test_reset_empties_the_portal_but_keeps_the_token(portal: Portal) -> None:
    portal.control("POST", "/seed", {"seed": 2, "deals": 3})
    portal.control("POST", "/reset")

    assert portal.deals.get_all() == []
    assert portal.control("GET", "/snapshot") == {"deals": []}
    info = portal.control("GET", "/info")
    assert info["kind"] == "hubspot"
    assert info["settings"]["burst_limit"] == 190
    assert info["settings"]["search_per_second"] == 5
    assert "client_secret" not in info["settings"]
