from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from channel_sync.mapping import check_round_trips, load_mapping

from .helpers import SHIPPED, compiled, shipped_data, with_fields


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_both_fields_round_trip(path: Any) -> None:
    results = check_round_trips(load_mapping(path).compiled)
    assert results, "every shipped mapping has both-way fields"
    assert [r.canonical for r in results if not r.ok] == []
    assert all(r.canonical_probes > 0 and r.remote_probes > 0 for r in results)


def _failures(field: dict[str, Any], connector: str = "salesforce") -> list[Any]:
    results = check_round_trips(compiled(with_fields(field, connector=connector)))
    return [f for r in results for f in r.failures]


def test_rounding_away_decimals_is_caught() -> None:
    field = {"canonical": "amount", "remote": "Amount", "type": "number", "scale": 0,
             "authority": "shared"}
    failures = _failures(field)
    lost = [f for f in failures if f.start == "canonical" and f.value == Decimal("1000.5")]
    assert lost, failures
    assert lost[0].trail == (1000, Decimal("1000"))


def test_trimming_text_the_model_keeps_padded_is_caught() -> None:
    notes = {"canonical": "co_sell.notes", "remote": "Notes__c", "type": "string", "trim": True,
             "authority": "vendor"}
    assert any(f.value == "  padded value  " for f in _failures(notes))
    # The model strips names itself, so trimming them loses nothing.
    name = {"canonical": "customer.company_name", "remote": "C__c", "type": "string",
            "trim": True, "authority": "partner"}
    assert _failures(name) == []


def test_datetime_stored_as_date_is_caught_but_date_as_datetime_is_not() -> None:
    lossy = {"canonical": "registration.decided_at", "remote": "D__c", "type": "date",
             "authority": "vendor"}
    assert any(f.start == "canonical" for f in _failures(lossy))
    fine = {"canonical": "target_close_date", "remote": "closedate", "type": "datetime",
            "authority": "shared"}
    assert _failures(fine, connector="hubspot") == []


def test_text_format_without_seconds_is_caught() -> None:
    field = {"canonical": "registration.decided_at", "remote": "D__c", "type": "string",
             "format": "%Y-%m-%d %H:%M", "authority": "vendor"}
    assert _failures(field)


def test_several_stages_for_one_canonical_stage_pass_on_the_canonical_side() -> None:
    data = shipped_data("partner-hubspot-deal.yaml")
    data["examples"] = []
    results = check_round_trips(compiled(data))
    stage = next(r for r in results if r.canonical == "stage")
    assert stage.ok
    # decisionmakerboughtin and presentationscheduled both read as 'proposal'.
    assert stage.remote_probes >= 7
