"""What the demo prints: each step's story, what each CRM now shows, and the closing tally."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from channel_sync.demo.story import StepResult
from channel_sync.store import ConflictStatus, Store
from channel_sync.sync.report import CycleReport
from channel_sync.sync.rules import ENGINE_SOURCE
from channel_sync.workflow.hub_records import iter_records

#: The fewest API calls a cycle can make (shared/reference E5): a read costs one call per page
#: (at least one poll), a write one call per batch. Salesforce reads 2,000 rows per query batch
#: and writes 1,000 records per Composite call of five collections; HubSpot searches 200 deals
#: per page and batch-upserts 100.
MIN_COST = {"salesforce": (2000, 1000), "hubspot": (200, 100)}
MINIMUM_NOTE = (
    "minimum: one call per read page (at least one poll per cycle) and one per write batch "
    "(Salesforce: 2,000 rows per query, 1,000 records per Composite call; HubSpot: 200 per "
    "search page, 100 per batch upsert). OAuth token calls are not API calls."
)


def minimum_calls(kind: str, reports: Sequence[CycleReport]) -> int:
    page, batch = MIN_COST[kind]
    return sum(
        max(1, math.ceil(r.records_read / page)) + math.ceil(r.written / batch) for r in reports
    )


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("-" if v is None or v == "" else str(v) for v in row))
    return table


def _registered(facts: Mapping[str, Any]) -> RenderableType:
    rows = [
        (
            row.get("Name"),
            row.get("Partner_Account__c"),
            row.get("Registration_Status__c"),
            row.get("Channel_Sync_Id__c"),
        )
        for row in facts["vendor"].values()
    ]
    columns = ("opportunity", "partner", "registration", "canonical id")
    return _table("vendor Salesforce", columns, rows)


def _decided(facts: Mapping[str, Any]) -> RenderableType:
    a, b = facts["partner_a_kestrel"], facts["partner_b_quillon"]
    return _table(
        "what the partners now see in their own CRMs",
        ("partner CRM", "deal", "status", "number", "expires", "reason"),
        [
            (
                "A (HubSpot)",
                a.get("dealname"),
                a.get("channel_sync_registration_status"),
                a.get("channel_sync_registration_number"),
                a.get("channel_sync_registration_expires"),
                a.get("channel_sync_decision_reason"),
            ),
            (
                "B (Salesforce)",
                b.get("Name"),
                b.get("Vendor_Registration_Status__c"),
                b.get("Vendor_Registration_Number__c"),
                b.get("Vendor_Registration_Expires__c"),
                b.get("Vendor_Registration_Decision_Reason__c"),
            ),
        ],
    )


def _conflicted(facts: Mapping[str, Any]) -> RenderableType:
    vendor, partner = facts["vendor_kestrel_b"], facts["partner_b_kestrel_b"]
    return Group(
        _table(
            "vendor Salesforce (the channel manager's view)",
            ("opportunity", "status", "channel conflict", "evidence"),
            [
                (
                    vendor.get("Name"),
                    vendor.get("Registration_Status__c"),
                    vendor.get("Channel_Conflict__c"),
                    vendor.get("Channel_Conflict_Evidence__c"),
                )
            ],
        ),
        _table(
            "partner B's Salesforce",
            ("opportunity", "status"),
            [(partner.get("Name"), partner.get("Vendor_Registration_Status__c"))],
        ),
    )


def _amounts(facts: Mapping[str, Any]) -> RenderableType:
    conflict = facts.get("conflict") or facts.get("resolved")
    rows = [
        ("vendor Salesforce", facts["vendor_amount"]),
        ("partner A HubSpot", facts["partner_amount"]),
    ]
    parts: list[RenderableType] = [_table("Larkspur amount", ("CRM", "amount"), rows)]
    if conflict is not None:
        parts.append(
            Text(
                f"conflict {conflict.id} on {conflict.field}: base {conflict.base}, "
                f"{conflict.a.connection} {conflict.a.value}, "
                f"{conflict.b.connection} {conflict.b.value} - {conflict.status.value}"
                + (f" ({conflict.decision} by {conflict.resolved_by})" if conflict.decision else "")
            )
        )
    return Group(*parts)


def _co_sell(facts: Mapping[str, Any]) -> RenderableType:
    a = facts["partner_a_kestrel"]
    return _table(
        "partner A's HubSpot deal",
        ("deal", "co-sell", "vendor rep", "next step", "notes"),
        [
            (
                a.get("dealname"),
                a.get("channel_sync_co_sell_status"),
                a.get("channel_sync_vendor_rep"),
                a.get("channel_sync_next_step"),
                a.get("channel_sync_co_sell_notes"),
            )
        ],
    )


def _expired(facts: Mapping[str, Any]) -> RenderableType:
    vendor, a = facts["vendor_kestrel"], facts["partner_a_kestrel"]
    return _table(
        "Kestrel registration",
        ("CRM", "status", "number", "expired at"),
        [
            (
                "vendor Salesforce",
                vendor.get("Registration_Status__c"),
                vendor.get("Registration_Number__c"),
                vendor.get("Registration_Expires__c"),
            ),
            (
                "partner A HubSpot",
                a.get("channel_sync_registration_status"),
                a.get("channel_sync_registration_number"),
                a.get("channel_sync_registration_expires"),
            ),
        ],
    )


RENDERERS: dict[str, Callable[[Mapping[str, Any]], RenderableType]] = {
    "Partners register deals": _registered,
    "The channel manager decides": _decided,
    "Partner B registers partner A's customer": _conflicted,
    "Both sides edit the same amount": _amounts,
    "The conflict is resolved": _amounts,
    "Co-sell": _co_sell,
    "A registration expires": _expired,
}


def print_step(console: Console, number: int, result: StepResult) -> None:
    console.rule(f"[bold]{number}. {result.title}")
    for line in result.story:
        console.print(Text(line, style="dim"))
    render = RENDERERS.get(result.title)
    if render is not None:
        console.print(render(result.facts))


@dataclass(frozen=True)
class Tally:
    connection: str
    kind: str
    cycles: int
    read: int
    applied: int
    written: int
    failed: int
    api_calls: int
    minimum: int


def tally(kinds: Mapping[str, str], reports: Mapping[str, Sequence[CycleReport]]) -> list[Tally]:
    rows = []
    for connection, kind in kinds.items():
        cycles = reports.get(connection, [])
        rows.append(
            Tally(
                connection=connection,
                kind=kind,
                cycles=len(cycles),
                read=sum(r.records_read for r in cycles),
                applied=sum(r.created + r.updated for r in cycles),
                written=sum(r.written for r in cycles),
                failed=sum(r.failed for r in cycles),
                api_calls=sum(r.api_calls for r in cycles),
                minimum=minimum_calls(kind, cycles),
            )
        )
    return rows


def print_tally(console: Console, rows: Sequence[Tally]) -> None:
    table = Table(title="what the sync did", title_justify="left")
    columns = (
        "connection",
        "cycles",
        "records read",
        "hub changes",
        "records written",
        "failed",
        "API calls",
        "minimum",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "connection" else "right")
    for row in rows:
        table.add_row(
            row.connection,
            str(row.cycles),
            str(row.read),
            str(row.applied),
            str(row.written),
            str(row.failed),
            str(row.api_calls),
            str(row.minimum),
        )
    table.add_section()
    table.add_row(
        "total",
        *(
            str(sum(getattr(r, f) for r in rows))
            for f in (
                "cycles",
                "read",
                "applied",
                "written",
                "failed",
                "api_calls",
                "minimum",
            )
        ),
    )
    console.print(table)
    console.print(Text(MINIMUM_NOTE, style="dim"))


@dataclass(frozen=True)
class ConflictCounts:
    #: Queued for a person (``on_conflict: review``), and how many of those were resolved.
    reviewed: int
    resolved: int
    #: Decided on the spot by the field's authority (``vendor``/``partner``).
    by_authority: int
    #: Deals flagged for a channel conflict.
    channel_conflicts: int


def count_conflicts(store: Store) -> ConflictCounts:
    reviewed = resolved = by_authority = flagged = 0
    for record in iter_records(store):
        flagged += record.opportunity.registration.channel_conflict
        with store.read() as tx:
            history = tx.conflicts.history(record.canonical_id)
        for conflict in history:
            if conflict.status is ConflictStatus.RESOLVED and conflict.resolved_by == ENGINE_SOURCE:
                by_authority += 1
            else:
                reviewed += 1
                resolved += conflict.status is ConflictStatus.RESOLVED
    return ConflictCounts(reviewed, resolved, by_authority, flagged)


def print_conflicts(console: Console, counts: ConflictCounts) -> None:
    console.print(
        f"Field conflicts: {counts.reviewed} queued for review ({counts.resolved} resolved), "
        f"{counts.by_authority} decided by field authority. "
        f"Deals flagged for a channel conflict: {counts.channel_conflicts}."
    )
