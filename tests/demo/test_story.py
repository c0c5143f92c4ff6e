"""The demo's story, step by step, end to end over the sandboxes through the real client libraries.

One world per module (three sandbox CRMs, the project, the scheduler); the tests run the steps in
order, each asserting what the CRMs show afterwards. Every log record written meanwhile is kept
for the isolation test.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from channel_sync.demo import story
from channel_sync.demo.narrator import count_conflicts, minimum_calls, tally
from channel_sync.demo.runner import check_isolation
from channel_sync.demo.story import Cast, StepResult
from channel_sync.demo.world import PROTECTION_DAYS, DemoWorld, open_world
from channel_sync.model import RegistrationStatus


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="module")
def world(logs: Collect) -> Iterator[DemoWorld]:
    with open_world() as opened:
        yield opened


@pytest.fixture(scope="module")
def cast() -> Cast:
    return Cast()


@pytest.fixture(scope="module")
def results() -> dict[str, StepResult]:
    return {}


def run(
    step: story.Step, world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> StepResult:
    result = step(world, cast)
    results[step.__name__] = result
    return result


def when(text: str | None) -> datetime:
    assert text
    return datetime.fromisoformat(text.replace("+0000", "+00:00").replace("Z", "+00:00"))


def test_partners_register_deals_and_they_appear_in_the_vendor_crm(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.partners_register, world, cast, results).facts
    vendor = facts["vendor"]
    assert {key: row["Partner_Account__c"] for key, row in vendor.items()} == {
        "kestrel": "partner-a",
        "larkspur": "partner-a",
        "quillon": "partner-b",
    }
    assert {row["Registration_Status__c"] for row in vendor.values()} == {"Submitted"}
    assert {row["Channel_Sync_Id__c"] for row in vendor.values()} == set(cast.canonical.values())
    with world.service.store.read() as tx:
        record = tx.records.get(cast.canonical["kestrel"])
    assert record is not None
    assert record.opportunity.registration.submitted_at is not None


def test_the_channel_managers_decisions_reach_the_partners(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.manager_decides, world, cast, results).facts
    a = facts["partner_a_kestrel"]
    assert a["channel_sync_registration_status"] == "approved"
    assert re.fullmatch(r"REG-\d{4}-\d{6}", a["channel_sync_registration_number"] or "")
    assert a["channel_sync_decision_reason"] == "Net-new logo; no overlap with direct accounts."
    vendor = facts["vendor_kestrel"]
    assert vendor["Registration_Number__c"] == a["channel_sync_registration_number"]
    with world.service.store.read() as tx:
        record = tx.records.get(cast.canonical["kestrel"])
    assert record is not None
    registration = record.opportunity.registration
    assert registration.decided_at is not None
    assert registration.expires_at == registration.decided_at + timedelta(days=PROTECTION_DAYS)
    assert when(a["channel_sync_registration_expires"]) == registration.expires_at
    b = facts["partner_b_quillon"]
    assert b["Vendor_Registration_Status__c"] == "Rejected"
    assert (
        b["Vendor_Registration_Decision_Reason__c"] == "Named account of the enterprise sales team."
    )
    assert b["Vendor_Registration_Number__c"] is None


def test_partner_b_registering_a_protected_customer_is_flagged_without_naming_partner_a(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.partner_b_claims_a_customer, world, cast, results).facts
    vendor = facts["vendor_kestrel_b"]
    assert vendor["Channel_Conflict__c"] is True
    assert vendor["Registration_Status__c"] == "Under Review"
    evidence = vendor["Channel_Conflict_Evidence__c"]
    assert "same web domain kestrel-foods.example" in evidence
    assert cast.canonical["kestrel"] in evidence
    partner = facts["partner_b_kestrel_b"]
    assert partner["Vendor_Registration_Status__c"] == "Under Review"
    assert partner["Channel_Conflict_Evidence__c"] is None
    assert partner["Channel_Conflict__c"] is False
    text = facts["partner_b_text"]
    assert "partner-a" not in text
    assert cast.canonical["kestrel"] not in text
    assert cast.canary_a not in text


def test_both_sides_editing_the_amount_queues_a_conflict_and_overwrites_neither(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.both_edit_amount, world, cast, results).facts
    conflict = facts["conflict"]
    assert conflict is not None
    assert conflict.field == "amount"
    assert {str(conflict.a.value), str(conflict.b.value)} == {"95000", "90000"}
    assert str(conflict.base) == "87500"
    assert facts["vendor_amount"] == 90000
    assert facts["partner_amount"] == "95000"


def test_resolving_the_conflict_writes_the_decision_to_both_sides(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.resolve_conflict, world, cast, results).facts
    assert facts["resolved"].status.value == "resolved"
    assert str(facts["resolved"].resolved_value) == "90000"
    assert facts["vendor_amount"] == 90000
    assert facts["partner_amount"] == "90000"
    with world.service.store.read() as tx:
        assert tx.conflicts.list_open(canonical_id=cast.canonical["larkspur"]) == []


def test_co_sell_engagement_reaches_the_partner(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.co_sell, world, cast, results).facts
    a = facts["partner_a_kestrel"]
    assert a["channel_sync_co_sell_status"] == "engaged"
    assert a["channel_sync_vendor_rep"] == story.VENDOR_REP
    assert a["channel_sync_co_sell_notes"] == "Security team wants a SOC 2 walkthrough."
    assert a["channel_sync_next_step"] == "Joint executive briefing"


def test_the_partners_co_sell_request_reaches_the_vendor(results: dict[str, StepResult]) -> None:
    assert results["co_sell"].facts["vendor_requested"] == "Requested"


def test_the_expiry_sweep_expires_on_both_sides(
    world: DemoWorld, cast: Cast, results: dict[str, StepResult]
) -> None:
    facts = run(story.expiry, world, cast, results).facts
    assert facts["expired"] == [cast.canonical["kestrel"]]
    assert facts["vendor_kestrel"]["Registration_Status__c"] == "Expired"
    assert facts["partner_a_kestrel"]["channel_sync_registration_status"] == "expired"
    with world.service.store.read() as tx:
        larkspur = tx.records.get(cast.canonical["larkspur"])
    assert larkspur is not None
    assert larkspur.opportunity.registration.status is RegistrationStatus.SUBMITTED


def test_each_partners_canaries_stay_out_of_the_other_partners_crm_and_the_logs(
    world: DemoWorld, cast: Cast, logs: Collect
) -> None:
    isolation = check_isolation(world, cast)
    assert not isolation.a_in_b
    assert not isolation.b_in_a
    assert not isolation.other_partner_named_in_b
    assert cast.canary_a in world.rep_a.all_text()  # the canaries are really there
    assert cast.canary_b in world.rep_b.all_text()
    logged = "\n".join(logs.lines)
    assert "cycle partner-a-hubspot" in logged  # the scheduler did log
    assert cast.canary_a not in logged
    assert cast.canary_b not in logged


def test_the_tally_counts_every_cycle_and_stays_near_the_minimum(world: DemoWorld) -> None:
    kinds = {name: rt.connector.kind for name, rt in world.service.runtimes.items()}
    rows = {row.connection: row for row in tally(kinds, world.reports)}
    assert rows["vendor-salesforce"].cycles == 9
    assert rows["partner-a-hubspot"].cycles == 18
    for row in rows.values():
        assert row.failed == 0
        assert row.minimum <= row.api_calls <= 2 * row.minimum
    counts = count_conflicts(world.service.store)
    assert (counts.reviewed, counts.resolved, counts.channel_conflicts) == (1, 1, 1)
    assert minimum_calls("hubspot", []) == 0
