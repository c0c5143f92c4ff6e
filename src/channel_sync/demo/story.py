"""The demo's story, one step at a time.

Each step has the people do in their own CRMs what they would do by hand, lets the scheduler run
the sync, then reads the outcome back from the CRMs (through the same client libraries) and
returns it as facts. The narrator prints the facts; the end-to-end tests assert on them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from channel_sync.demo.world import PROTECTION_DAYS, DemoWorld
from channel_sync.store import Conflict
from channel_sync.workflow.expiry import SweepReport

HS_FIELDS = (
    "dealname",
    "amount",
    "channel_sync_id",
    "channel_sync_registration_status",
    "channel_sync_registration_number",
    "channel_sync_registration_expires",
    "channel_sync_decision_reason",
    "channel_sync_co_sell_status",
    "channel_sync_vendor_rep",
    "channel_sync_next_step",
    "channel_sync_co_sell_notes",
)
PARTNER_SF_FIELDS = (
    "Name",
    "Amount",
    "Channel_Sync_Id__c",
    "Vendor_Registration_Status__c",
    "Vendor_Registration_Number__c",
    "Vendor_Registration_Expires__c",
    "Vendor_Registration_Decision_Reason__c",
)
VENDOR_FIELDS = (
    "Name",
    "Amount",
    "Channel_Sync_Id__c",
    "Partner_Account__c",
    "Registration_Status__c",
    "Registration_Number__c",
    "Registration_Expires__c",
    "Registration_Decision_Reason__c",
    "Channel_Conflict__c",
    "Channel_Conflict_Evidence__c",
    "Co_Sell_Status__c",
    "Co_Sell_Vendor_Rep__c",
    "NextStep",
    "Co_Sell_Notes__c",
)
CHANNEL_MANAGER = "channel.manager@vendor.example"
VENDOR_REP = "sam.rivera@vendor.example"


@dataclass
class Cast:
    """The story's deals and the canary strings that must never cross partners."""

    canary_a: str = field(default_factory=lambda: f"canary-a-{secrets.token_hex(4)}")
    canary_b: str = field(default_factory=lambda: f"canary-b-{secrets.token_hex(4)}")
    #: story key -> remote id in the partner's CRM
    partner_ids: dict[str, str] = field(default_factory=dict)
    #: story key -> canonical id (read back once synced)
    canonical: dict[str, str] = field(default_factory=dict)
    conflict: Conflict | None = None


@dataclass
class StepResult:
    title: str
    story: list[str]
    facts: dict[str, Any]


Step = Callable[[DemoWorld, Cast], StepResult]


def _close(days: int) -> date:
    return date(2026, 1, 1) + timedelta(days=days)


def _vendor_row(world: DemoWorld, canonical_id: str) -> dict[str, Any]:
    rows = world.channel_manager.find("Channel_Sync_Id__c", canonical_id, VENDOR_FIELDS)
    return rows[0] if rows else {}


def _deal_a(world: DemoWorld, cast: Cast, key: str) -> dict[str, Any]:
    return world.rep_a.get(cast.partner_ids[key], HS_FIELDS)


def _deal_b(world: DemoWorld, cast: Cast, key: str) -> dict[str, Any]:
    return world.rep_b.get(cast.partner_ids[key])


def partners_register(world: DemoWorld, cast: Cast) -> StepResult:
    """Partner A registers two deals in HubSpot, partner B one in Salesforce."""
    world.sync_round()  # the scheduler's first round: the CRMs' existing deals
    hs_deal = {
        "pipeline": "default",
        "channel_sync_register": "true",
        "closedate": f"{_close(240).isoformat()}T00:00:00Z",
    }
    cast.partner_ids["kestrel"] = world.rep_a.create(
        {
            **hs_deal,
            "dealname": "Kestrel Foods - analytics roll-out",
            "dealstage": "qualifiedtobuy",
            "amount": "48000",
            "deal_currency_code": "EUR",
            "description": f"Three plants, phased. Internal ref {cast.canary_a}.",
            "channel_sync_customer_name": "Kestrel Foods GmbH",
            "channel_sync_customer_domain": "www.kestrel-foods.example",
            "channel_sync_customer_country": "DE",
            "channel_sync_products": "ANALYTICS;CLOUD-CORE",
        }
    )
    cast.partner_ids["larkspur"] = world.rep_a.create(
        {
            **hs_deal,
            "dealname": "Larkspur Medical - security suite",
            "dealstage": "presentationscheduled",
            "amount": "87500",
            "deal_currency_code": "USD",
            "description": f"Replacing a legacy firewall estate. Ref {cast.canary_a}.",
            "channel_sync_customer_name": "Larkspur Medical Inc.",
            "channel_sync_customer_domain": "larkspur-medical.example",
            "channel_sync_customer_country": "US",
            "channel_sync_products": "SECURITY-SUITE",
        }
    )
    cast.partner_ids["quillon"] = world.rep_b.create(
        {
            "Name": "Quillon Freight - cloud migration",
            "StageName": "Qualification",
            "CloseDate": _close(200).isoformat(),
            "Amount": 61000,
            "CurrencyIsoCode": "GBP",
            "Description": f"Two data centres to move. Ref {cast.canary_b}.",
            "Customer_Name__c": "Quillon Freight Ltd",
            "Customer_Domain__c": "quillon-freight.example",
            "Customer_Country__c": "GB",
            "Products__c": "CLOUD-PLUS",
            "Channel_Sync_Register__c": True,
        }
    )
    world.sync_round()
    for key in ("kestrel", "larkspur"):
        cast.canonical[key] = str(_deal_a(world, cast, key)["channel_sync_id"])
    cast.canonical["quillon"] = str(_deal_b(world, cast, "quillon")["Channel_Sync_Id__c"])
    vendor = {key: _vendor_row(world, cid) for key, cid in cast.canonical.items()}
    return StepResult(
        "Partners register deals",
        [
            "Partner A's rep ticks 'Register with vendor' on two HubSpot deals;",
            "partner B's rep ticks Channel_Sync_Register__c on one Salesforce opportunity.",
            "The next cycles create them in the vendor's Salesforce, attributed to each partner.",
        ],
        {"vendor": vendor},
    )


def manager_decides(world: DemoWorld, cast: Cast) -> StepResult:
    """The channel manager approves partner A's Kestrel deal and rejects partner B's Quillon."""
    kestrel = _vendor_row(world, cast.canonical["kestrel"])
    quillon = _vendor_row(world, cast.canonical["quillon"])
    world.channel_manager.update(
        kestrel["Id"],
        {
            "Registration_Status__c": "Approved",
            "Registration_Decision_Reason__c": "Net-new logo; no overlap with direct accounts.",
        },
    )
    world.channel_manager.update(
        quillon["Id"],
        {
            "Registration_Status__c": "Rejected",
            "Registration_Decision_Reason__c": "Named account of the enterprise sales team.",
        },
    )
    world.sync_round()
    return StepResult(
        "The channel manager decides",
        [
            "In the vendor's Salesforce the channel manager approves Kestrel (partner A) and",
            "rejects Quillon (partner B). channel-sync stamps the decision date, a registration",
            f"number and a {PROTECTION_DAYS}-day protection window, and sends both back.",
        ],
        {
            "vendor_kestrel": _vendor_row(world, cast.canonical["kestrel"]),
            "partner_a_kestrel": _deal_a(world, cast, "kestrel"),
            "partner_b_quillon": _deal_b(world, cast, "quillon"),
        },
    )


def partner_b_claims_a_customer(world: DemoWorld, cast: Cast) -> StepResult:
    """Partner B registers Kestrel Foods, which partner A's approved registration protects."""
    cast.partner_ids["kestrel_b"] = world.rep_b.create(
        {
            "Name": "Kestrel Foods - analytics pilot",
            "StageName": "Prospecting",
            "CloseDate": _close(150).isoformat(),
            "Amount": 30000,
            "CurrencyIsoCode": "EUR",
            "Description": f"Pilot for the Hamburg plant. Ref {cast.canary_b}.",
            "Customer_Name__c": "Kestrel Foods",
            "Customer_Domain__c": "kestrel-foods.example",
            "Customer_Country__c": "DE",
            "Products__c": "ANALYTICS",
            "Channel_Sync_Register__c": True,
        }
    )
    world.sync_round()
    partner_b = _deal_b(world, cast, "kestrel_b")
    cast.canonical["kestrel_b"] = str(partner_b["Channel_Sync_Id__c"])
    return StepResult(
        "Partner B registers partner A's customer",
        [
            "Partner B registers a deal for Kestrel Foods. The conflict check finds partner A's",
            "approved registration for the same customer: the vendor's record is flagged with",
            "the evidence; partner B only sees 'Under Review', never who else claimed it.",
        ],
        {
            "vendor_kestrel_b": _vendor_row(world, cast.canonical["kestrel_b"]),
            "partner_b_kestrel_b": partner_b,
            "partner_b_text": world.rep_b.all_text(),
        },
    )


def both_edit_amount(world: DemoWorld, cast: Cast) -> StepResult:
    """The vendor and partner A change Larkspur's amount to different values between cycles."""
    larkspur = _vendor_row(world, cast.canonical["larkspur"])
    world.channel_manager.update(larkspur["Id"], {"Amount": 90000})
    world.rep_a.update(cast.partner_ids["larkspur"], {"amount": "95000"})
    world.sync_round()
    with world.service.store.read() as tx:
        conflicts = tx.conflicts.list_open(canonical_id=cast.canonical["larkspur"])
    cast.conflict = next((c for c in conflicts if c.field == "amount"), None)
    return StepResult(
        "Both sides edit the same amount",
        [
            "The channel manager sets Larkspur's amount to 90,000 while partner A's rep sets",
            "95,000. Amount is a shared field with 'on_conflict: review': the conflict is queued",
            "and neither CRM is overwritten until someone decides.",
        ],
        {
            "conflict": cast.conflict,
            "vendor_amount": _vendor_row(world, cast.canonical["larkspur"]).get("Amount"),
            "partner_amount": _deal_a(world, cast, "larkspur").get("amount"),
        },
    )


def resolve_conflict(world: DemoWorld, cast: Cast) -> StepResult:
    """Decided as ``channel-sync conflicts resolve ID --take vendor`` decides it."""
    if cast.conflict is None:
        msg = "no amount conflict to resolve"
        raise RuntimeError(msg)
    resolved = world.service.engine.resolve_conflict(
        cast.conflict.id, "vendor", actor=CHANNEL_MANAGER
    )
    world.sync_round()
    return StepResult(
        "The conflict is resolved",
        [
            f"channel-sync conflicts resolve {cast.conflict.id} --take vendor: the vendor's",
            "90,000 goes to the hub and to both CRMs, and the decision is audited.",
        ],
        {
            "resolved": resolved,
            "vendor_amount": _vendor_row(world, cast.canonical["larkspur"]).get("Amount"),
            "partner_amount": _deal_a(world, cast, "larkspur").get("amount"),
        },
    )


def co_sell(world: DemoWorld, cast: Cast) -> StepResult:
    """Partner A asks for co-sell on Kestrel; the vendor's team engages."""
    world.rep_a.update(cast.partner_ids["kestrel"], {"channel_sync_co_sell_status": "requested"})
    world.sync_round()
    requested = _vendor_row(world, cast.canonical["kestrel"])
    world.channel_manager.update(
        requested["Id"],
        {
            "Co_Sell_Status__c": "Engaged",
            "Co_Sell_Vendor_Rep__c": VENDOR_REP,
            "NextStep": "Joint executive briefing",
            "Co_Sell_Notes__c": "Security team wants a SOC 2 walkthrough.",
        },
    )
    world.sync_round()
    return StepResult(
        "Co-sell",
        [
            "Partner A requests co-sell in HubSpot; the vendor sees the request, assigns a rep",
            "and records the engagement, which reaches partner A's HubSpot deal.",
        ],
        {
            "vendor_requested": requested.get("Co_Sell_Status__c"),
            "partner_a_kestrel": _deal_a(world, cast, "kestrel"),
        },
    )


def expiry(world: DemoWorld, cast: Cast) -> StepResult:
    """The protection window runs out before Kestrel closes; the sweep expires it."""
    world.sweep_clock.advance(timedelta(days=PROTECTION_DAYS + 1))
    outcome = world.run_expiry_sweep()
    sweep = outcome.report if isinstance(outcome.report, SweepReport) else SweepReport()
    world.sync_round()
    return StepResult(
        "A registration expires",
        [
            f"{PROTECTION_DAYS + 1} days later Kestrel has not closed. The scheduled expiry sweep",
            "expires the registration, on the vendor's side and in partner A's HubSpot.",
        ],
        {
            "expired": sweep.expired,
            "vendor_kestrel": _vendor_row(world, cast.canonical["kestrel"]),
            "partner_a_kestrel": _deal_a(world, cast, "kestrel"),
        },
    )


STEPS: tuple[Step, ...] = (
    partners_register,
    manager_decides,
    partner_b_claims_a_customer,
    both_edit_amount,
    resolve_conflict,
    co_sell,
    expiry,
)
