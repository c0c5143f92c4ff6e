"""Pipeline figures from canonical deals: grouping, per-currency sums, decisions, expiring."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console

from channel_sync.model import Opportunity
from channel_sync.reporting import GroupBy, build_report, print_report, to_csv, to_json

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def opp(cid: str, partner: str | None, status: str, **extra: Any) -> Opportunity:
    registration: dict[str, Any] = {"status": status}
    for key in ("submitted_at", "decided_at", "expires_at", "registration_number"):
        if key in extra:
            registration[key] = extra.pop(key)
    data: dict[str, Any] = {
        "id": cid,
        "partner_id": partner,
        "name": f"deal {cid}",
        "registration": registration,
        **extra,
    }
    return Opportunity.model_validate(data)


def sample() -> list[Opportunity]:
    day = timedelta(days=1)
    return [
        opp(
            "a1",
            "partner-a",
            "approved",
            stage="proposal",
            amount=Decimal("1000.50"),
            currency_code="EUR",
            products=["CLOUD-CORE", "ANALYTICS"],
            customer={"country_code": "DE"},
            submitted_at=NOW - 10 * day,
            decided_at=NOW - 8 * day,
            expires_at=NOW + 5 * day,
            registration_number="REG-1",
        ),
        opp(
            "a2",
            "partner-a",
            "rejected",
            stage="qualification",
            amount=Decimal("200"),
            currency_code="USD",
            products=["CLOUD-CORE"],
            customer={"country_code": "US"},
            submitted_at=NOW - 4 * day,
            decided_at=NOW - 3 * day,
        ),
        opp(
            "b1",
            "partner-b",
            "expired",
            stage="proposal",
            amount=Decimal("300"),
            currency_code="EUR",
            submitted_at=NOW - 100 * day,
            decided_at=NOW - 96 * day,
            expires_at=NOW - day,
        ),
        opp(
            "b2",
            "partner-b",
            "under_review",
            stage="prospecting",
            amount=None,
            products=["TRAINING"],
            submitted_at=NOW - day,
        ),
        opp(
            "b3",
            "partner-b",
            "approved",
            stage="negotiation",
            amount=Decimal("50"),
            currency_code="USD",
            submitted_at=NOW - 2 * day,
            decided_at=NOW - day,
            expires_at=NOW + 60 * day,
        ),
        # not registered: vendor-direct, and a partner draft
        opp("v1", None, "draft", amount=Decimal("999999")),
        opp("d1", "partner-a", "draft", amount=Decimal("999999")),
    ]


def test_groups_count_registered_deals_and_sum_amounts_per_currency() -> None:
    report = build_report(sample(), now=NOW, group_by=GroupBy.STAGE)
    groups = {g.key: g for g in report.groups}
    assert groups["proposal"].deals == 2
    assert groups["proposal"].amounts == {"EUR": Decimal("1300.50")}
    assert groups["prospecting"].amounts == {}
    assert report.total.deals == 5
    assert report.total.amounts == {"EUR": Decimal("1300.50"), "USD": Decimal("250")}


def test_a_deal_counts_under_each_of_its_products() -> None:
    report = build_report(sample(), now=NOW, group_by=GroupBy.PRODUCT)
    groups = {g.key: g.deals for g in report.groups}
    assert groups == {"CLOUD-CORE": 2, "ANALYTICS": 1, "TRAINING": 1, "(none)": 2}


def test_partner_and_country_groups() -> None:
    by_partner = build_report(sample(), now=NOW, group_by=GroupBy.PARTNER)
    assert {g.key: g.deals for g in by_partner.groups} == {"partner-a": 2, "partner-b": 3}
    by_country = build_report(sample(), now=NOW, group_by=GroupBy.COUNTRY)
    assert {g.key: g.deals for g in by_country.groups} == {"DE": 1, "US": 1, "(none)": 3}


def test_status_counts_approval_rate_and_median_decision_time() -> None:
    report = build_report(sample(), now=NOW)
    assert report.by_status == {"under_review": 1, "approved": 2, "rejected": 1, "expired": 1}
    # approved a1, b3 and the since-expired b1 against the rejected a2
    assert report.approval_rate == 0.75
    # decision times: 2d, 1d, 4d, 1d -> median 1.5 days
    assert report.median_decision == timedelta(days=1, hours=12)


def test_expiring_lists_approved_registrations_inside_the_window_soonest_first() -> None:
    report = build_report(sample(), now=NOW, expiring_days=30)
    assert [e.canonical_id for e in report.expiring] == ["a1"]
    assert report.expiring[0].days_left == 5.0
    wide = build_report(sample(), now=NOW, expiring_days=90)
    assert [e.canonical_id for e in wide.expiring] == ["a1", "b3"]


def test_an_empty_hub_reports_no_rate_and_no_median() -> None:
    report = build_report([], now=NOW)
    assert report.approval_rate is None
    assert report.median_decision is None
    assert to_json(report)["approval_rate"] is None


def test_json_keeps_exact_amounts() -> None:
    data = json.loads(json.dumps(to_json(build_report(sample(), now=NOW))))
    assert data["total"]["amounts"] == {"EUR": "1300.50", "USD": "250"}
    assert data["median_time_to_decision_seconds"] == 1.5 * 86400
    assert data["expiring"][0]["registration_number"] == "REG-1"


def test_csv_is_one_table_with_sections() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(build_report(sample(), now=NOW)))))
    totals = {r["currency"]: r["amount"] for r in rows if r["section"] == "total"}
    assert totals == {"EUR": "1300.50", "USD": "250.00"}
    rate = next(r for r in rows if r["key"] == "approval_rate")
    assert rate["value"] == "0.7500"
    assert {r["key"] for r in rows if r["section"] == "status"} == {
        "under_review",
        "approved",
        "rejected",
        "expired",
    }


def test_tables_render_every_section() -> None:
    console = Console(record=True, width=120)
    print_report(build_report(sample(), now=NOW), console)
    text = console.export_text()
    assert "registered deals by stage" in text
    assert "EUR 1,300.50" in text
    assert "75% (3/4)" in text
    assert "1d 12h" in text
    assert "REG-1" in text
