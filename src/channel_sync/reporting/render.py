"""The pipeline report as rich tables (people), JSON (scripts) or CSV (spreadsheets).

JSON keeps amounts as decimal strings so no cent is lost to a float; CSV is one flat table with a
``section`` column (``group``, ``total``, ``status``, ``decisions``, ``expiring``) so a single
file opens cleanly in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.table import Table

from channel_sync.reporting.pipeline import GroupFigures, PipelineReport


def human_duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _amounts(group: GroupFigures) -> str:
    if not group.amounts:
        return "-"
    return "\n".join(f"{c} {a:,.2f}" for c, a in sorted(group.amounts.items()))


def _rate(report: PipelineReport) -> str:
    rate = report.approval_rate
    return "-" if rate is None else f"{rate:.0%} ({report.approved}/{report.decided})"


def to_renderable(report: PipelineReport) -> Group:
    deals = Table(title=f"registered deals by {report.group_by.value}")
    deals.add_column(report.group_by.value)
    deals.add_column("deals", justify="right")
    deals.add_column("amount", justify="right")
    for group in report.groups:
        deals.add_row(group.key, str(group.deals), _amounts(group))
    deals.add_section()
    deals.add_row("total", str(report.total.deals), _amounts(report.total))

    statuses = Table(title="registrations by status")
    statuses.add_column("status")
    statuses.add_column("count", justify="right")
    for status, count in report.by_status.items():
        statuses.add_row(status, str(count))
    statuses.add_section()
    statuses.add_row("approval rate", _rate(report))
    statuses.add_row("median time to decision", human_duration(report.median_decision))

    expiring = Table(title=f"approved registrations expiring within {report.expiring_days} days")
    for column in ("deal", "partner", "number", "expires", "days left"):
        expiring.add_column(column)
    for item in report.expiring:
        expiring.add_row(
            item.name,
            item.partner_id or "-",
            item.registration_number or "-",
            item.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            f"{item.days_left:.1f}",
        )
    return Group(deals, statuses, expiring)


def print_report(report: PipelineReport, console: Console | None = None) -> None:
    (console or Console()).print(to_renderable(report))


def _group_json(group: GroupFigures) -> dict[str, Any]:
    return {
        "key": group.key,
        "deals": group.deals,
        "amounts": {c: str(a) for c, a in sorted(group.amounts.items())},
    }


def to_json(report: PipelineReport) -> dict[str, Any]:
    median = report.median_decision
    return {
        "generated_at": report.generated_at.isoformat(),
        "group_by": report.group_by.value,
        "groups": [_group_json(g) for g in report.groups],
        "total": _group_json(report.total),
        "registrations_by_status": report.by_status,
        "approved": report.approved,
        "rejected": report.rejected,
        "approval_rate": report.approval_rate,
        "median_time_to_decision_seconds": median.total_seconds() if median else None,
        "expiring_days": report.expiring_days,
        "expiring": [
            {
                "canonical_id": e.canonical_id,
                "partner_id": e.partner_id,
                "name": e.name,
                "registration_number": e.registration_number,
                "expires_at": e.expires_at.isoformat(),
                "days_left": round(e.days_left, 3),
            }
            for e in report.expiring
        ],
    }


CSV_COLUMNS = ("section", "key", "currency", "deals", "amount", "value")


def _amount_rows(section: str, group: GroupFigures) -> list[list[str]]:
    if not group.amounts:
        return [[section, group.key, "", str(group.deals), "", ""]]
    return [
        [section, group.key, currency, str(group.deals), _plain(amount), ""]
        for currency, amount in sorted(group.amounts.items())
    ]


def _plain(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")), "f")


def to_csv(report: PipelineReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in report.groups:
        writer.writerows(_amount_rows("group", group))
    writer.writerows(_amount_rows("total", report.total))
    for status, count in report.by_status.items():
        writer.writerow(["status", status, "", str(count), "", ""])
    rate = report.approval_rate
    median = report.median_decision
    writer.writerow(
        [
            "decisions",
            "approval_rate",
            "",
            str(report.decided),
            "",
            "" if rate is None else f"{rate:.4f}",
        ]
    )
    writer.writerow(
        [
            "decisions",
            "median_time_to_decision_seconds",
            "",
            "",
            "",
            "" if median is None else f"{median.total_seconds():.0f}",
        ]
    )
    for item in report.expiring:
        writer.writerow(
            [
                "expiring",
                item.registration_number or item.canonical_id,
                "",
                "1",
                "",
                item.expires_at.isoformat(),
            ]
        )
    return out.getvalue()
