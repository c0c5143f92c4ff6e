"""Engine behaviour beyond the scenarios: dry runs, leases, parking, stopping, hub rules,
hub-originated changes, reconciliation and the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
import requests

from channel_sync.mapping import canonical_value, flatten
from channel_sync.model import IllegalTransitionError, Opportunity, RegistrationStatus
from channel_sync.store import Direction
from channel_sync.sync.cycle import LEASE_TTL, lease_name
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleStatus, PlanAction
from channel_sync.sync.rules import RuleContext, RuleRefusalError
from channel_sync.sync.status import connection_health
from sync.conftest import BACKENDS
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World, positions, writes


def create(world: World, partner: str, key: str, **values: Any) -> str:
    facts = world.engine.hub.facts[partner]
    typed = {p.replace("__", "."): canonical_value(p.replace("__", "."), v)
             for p, v in {"target_close_date": "2026-06-30", **values}.items()}
    wire = facts.mapping.outbound(typed)
    scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
    user = world.partner_a if partner == PARTNER_A else world.partner_b
    return user.create(**{**wire, **scope, facts.mapping.keys.external_id: key})


def faults(world: World, connection: str, **update: Any) -> None:
    instance = world.instance(connection)
    with requests.Session() as http:
        http.trust_env = False
        http.post(f"{instance.control_url}/faults", json=update, verify=instance.verify,
                  timeout=10).raise_for_status()


def clear_faults(world: World, connection: str) -> None:
    instance = world.instance(connection)
    with requests.Session() as http:
        http.trust_env = False
        http.delete(f"{instance.control_url}/faults", verify=instance.verify,
                    timeout=10).raise_for_status()


def test_dry_run_plans_and_writes_nothing(world: World) -> None:
    create(world, PARTNER_A, "cs_dry_1", name="Dry deal", amount="10")
    since = positions(world)
    world.settle()
    reports = world.engine.sync_once(dry_run=True)
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    with world.store.read() as tx:
        assert tx.records.count() == 0
        assert tx.cursors.get(PARTNER_A) is None
        assert tx.runs.latest(PARTNER_A) is None
    [report] = [r for r in reports if r.connection == PARTNER_A]
    planned = {(i.action, i.field): i.new for i in report.plan}
    assert (PlanAction.CREATE, None) in planned
    assert planned[(PlanAction.CREATE, "name")] == "Dry deal"
    assert report.created == 1
    # The real run does what the plan said.
    world.sync(2)
    vendor = world.vendor.by_key("cs_dry_1")
    assert vendor is not None
    assert vendor["Name"] == "Dry deal"


def test_dry_run_shows_updates_and_conflicts(world: World) -> None:
    rid = create(world, PARTNER_A, "cs_dry_2", name="Deal", amount="10")
    world.sync(2)
    world.partner_a.update(rid, amount="20", dealname="Deal v2")
    vendor = world.vendor.by_key("cs_dry_2")
    assert vendor is not None
    world.vendor.update(str(vendor["Id"]), Amount=30)
    world.settle()
    reports = world.engine.sync_once(dry_run=True)
    items = [i for r in reports for i in r.plan]
    assert any(i.action is PlanAction.UPDATE and i.field == "name" and i.new == "Deal v2"
               for i in items)
    assert any(i.action is PlanAction.CONFLICT and i.field == "amount" for i in items)
    with world.store.read() as tx:
        assert tx.conflicts.count_open() == 0


def test_a_held_lease_stops_a_second_runner(world: World) -> None:
    lease = world.store.acquire_lease(lease_name(VENDOR), "other-runner", LEASE_TTL)
    assert lease is not None
    report = world.engine.run_cycle(VENDOR)
    assert report.status is CycleStatus.LEASE_HELD
    assert report.records_read == 0
    world.clock.advance(LEASE_TTL + timedelta(seconds=1))
    assert world.engine.run_cycle(VENDOR).status is CycleStatus.OK


def test_an_exhausted_allowance_parks_the_connection(world: World) -> None:
    create(world, PARTNER_A, "cs_park_1", name="Parked", amount="1")
    world.sync(1)
    faults(world, VENDOR, daily_limit=0)
    world.settle()
    report = world.engine.run_cycle(VENDOR)
    assert report.status is CycleStatus.PARKED
    health = {h.connection: h for h in connection_health(world.store, world.runtimes,
                                                         world.clock)}
    assert health[VENDOR].state == "parked"
    assert health[PARTNER_A].state == "healthy"


def test_stop_ends_the_cycle_at_a_safe_point(world: World) -> None:
    class StopAfterFirst:
        def __init__(self, engine: SyncEngine) -> None:
            self.engine = engine

        def apply(self, before: Opportunity | None, after: Opportunity,
                  ctx: RuleContext) -> Mapping[str, Any]:
            self.engine.stop()
            return {}

    engine = SyncEngine(world.runtimes, world.store, clock=world.clock)
    engine.hub = type(engine.hub)(engine.hub.runtimes, engine.hub.facts, engine.hub.routes,
                                  world.clock, (StopAfterFirst(engine),))
    create(world, PARTNER_A, "cs_stop_1", name="Stop", amount="1")
    world.settle()
    reports = engine.sync_once()
    assert {r.connection: r.status for r in reports}[PARTNER_A] is CycleStatus.STOPPED
    with world.store.read() as tx:
        assert tx.records.get("cs_stop_1") is not None  # the page before the stop committed
        assert tx.outbox.counts()[VENDOR]  # the drain did not run


def test_stop_is_sticky_until_resume(world: World) -> None:
    create(world, PARTNER_A, "cs_stop_2", name="Sticky", amount="1")
    world.settle()
    world.engine.stop()
    since = positions(world)
    report = world.engine.run_cycle(PARTNER_A)
    assert report.status is CycleStatus.STOPPED
    assert [r.status for r in world.engine.sync_once()] == [CycleStatus.STOPPED] * 3
    assert world.engine.reconcile(PARTNER_A).stopped
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    with world.store.read() as tx:
        assert tx.records.count() == 0
        assert tx.runs.latest(PARTNER_A) is None  # the lease was never taken, no run began
    # A new engine starts without the request; the old one runs again after resume().
    fresh = SyncEngine(world.runtimes, world.store, clock=world.clock)
    assert fresh.run_cycle(PARTNER_A).status is CycleStatus.OK
    world.engine.resume()
    assert not world.engine.stopping
    assert {r.status for r in world.sync(1)} == {CycleStatus.OK}
    assert world.vendor.by_key("cs_stop_2") is not None


class Numbering:
    """Gives every new submission a registration number; refuses a forbidden customer."""

    def apply(self, before: Opportunity | None, after: Opportunity,
              ctx: RuleContext) -> Mapping[str, Any]:
        if after.customer.domain == "forbidden.example":
            msg = "registrations for this customer are closed"
            raise RuleRefusalError(msg)
        if after.registration.status is RegistrationStatus.SUBMITTED and (
            after.registration.registration_number is None
        ):
            others = len(list(ctx.open_registrations()))
            return {"registration.registration_number": f"DR-{others + 1:04d}",
                    "registration.submitted_at": ctx.clock.now()}
        return {}


def test_hub_rules_change_the_deal_in_the_same_transaction(world: World) -> None:
    world.engine = SyncEngine(world.runtimes, world.store, clock=world.clock, rules=[Numbering()])
    create(world, PARTNER_A, "cs_rule_1", name="First", amount="1")
    create(world, PARTNER_B, "cs_rule_2", name="Refused", amount="1",
           customer__domain="forbidden.example")
    world.sync(2)
    vendor = world.vendor.by_key("cs_rule_1")
    assert vendor is not None
    assert vendor["Registration_Number__c"] == "DR-0001"
    partner = world.partner_a.by_key("cs_rule_1")
    assert partner is not None
    assert partner["channel_sync_registration_number"] == "DR-0001"
    assert world.vendor.by_key("cs_rule_2") is None
    with world.store.read() as tx:
        [failure] = tx.failures.for_connection(PARTNER_B)
        events = tx.audit.for_record("cs_rule_1")
    assert failure.message == "registrations for this customer are closed"
    assert any(e.field == "registration.registration_number" and e.decision == "rule:Numbering"
               for e in events)


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_hub_changes_reach_both_sides_and_are_audited(world: World) -> None:
    create(world, PARTNER_A, "cs_hub_1", name="Expiring", amount="5")
    world.sync(2)
    vendor = world.vendor.by_key("cs_hub_1")
    assert vendor is not None
    world.vendor.update(str(vendor["Id"]), Registration_Status__c="Approved")
    world.sync(2)
    world.engine.apply_hub_change(
        "cs_hub_1", {"registration.status": RegistrationStatus.EXPIRED}, actor="expiry-sweep",
        reason="protection window ended",
    )
    with pytest.raises(IllegalTransitionError):
        world.engine.apply_hub_change(
            "cs_hub_1", {"registration.status": RegistrationStatus.APPROVED}, actor="x",
            reason="not allowed",
        )
    world.sync(2)
    vendor = world.vendor.by_key("cs_hub_1")
    partner = world.partner_a.by_key("cs_hub_1")
    assert vendor is not None
    assert vendor["Registration_Status__c"] == "Expired"
    assert partner is not None
    assert partner["channel_sync_registration_status"] == "expired"
    with world.store.read() as tx:
        events = tx.audit.for_record("cs_hub_1")
    internal = [e for e in events if e.direction is Direction.INTERNAL]
    assert [(e.actor, e.field, e.new_value, e.decision) for e in internal] == [
        ("expiry-sweep", "registration.status", RegistrationStatus.EXPIRED,
         "protection window ended")
    ]
    inbound = [e for e in events if e.direction is Direction.INBOUND and e.field == "amount"]
    assert inbound[0].connection == PARTNER_A
    assert inbound[0].source_ts is not None
    assert inbound[0].run_id is not None
    assert inbound[0].external_key is not None
    assert inbound[0].engine_ts is not None
    outbound = {(e.connection, e.field) for e in events if e.direction is Direction.OUTBOUND}
    assert (VENDOR, "registration.status") in outbound
    assert (PARTNER_A, "registration.status") in outbound


def test_reconcile_repairs_drift_and_reports_hard_deletes(world: World) -> None:
    keys = [f"cs_rec_{n}_{uuid.uuid4().hex[:6]}" for n in range(3)]
    for n, key in enumerate(keys):
        create(world, PARTNER_A, key, name=f"Rec {n}", amount=str(100 + n))
    world.sync(2)
    # Drift: the vendor's change could not be written to the partner (refused for good), so
    # the partner still shows the old value although nothing is on its way any more.
    vendor = world.vendor.by_key(keys[0])
    assert vendor is not None
    world.vendor.update(str(vendor["Id"]), Amount=555)
    faults(world, PARTNER_A, rules=[{
        "method": "POST", "path": "batch/upsert", "status": 400, "count": 5,
        "body": {"status": "error", "category": "VALIDATION_ERROR",
                 "message": "Property values were not valid"},
    }])
    world.sync(1)
    with world.store.read() as tx:
        assert len(tx.outbox.failed(PARTNER_A)) == 1
    clear_faults(world, PARTNER_A)
    report = world.engine.reconcile(PARTNER_A)
    assert report.drifted == [keys[0]]
    assert report.requeued == 1
    assert report.linked == 3
    assert report.remote_records == 3
    world.sync(1)
    repaired = world.partner_a.by_key(keys[0])
    assert repaired is not None
    assert repaired["amount"] == "555"
    assert world.engine.reconcile(PARTNER_A).drifted == []

    # A hard delete the change feed never showed: emptied from the org's recycle bin.
    gone = world.vendor.by_key(keys[1])
    assert gone is not None
    backend: Any = world.instance(VENDOR).backend
    backend.store.records.pop(gone["Id"])
    report = world.engine.reconcile(VENDOR)
    assert report.missing_remote == [keys[1]]
    with world.store.read() as tx:
        assert tx.records.get(keys[1]) is not None  # reported, never deleted on a guess


def test_status_reports_each_connection(world: World) -> None:
    rid = create(world, PARTNER_A, "cs_status_1", name="Status", amount="1")
    world.sync(2)
    world.partner_a.update(rid, amount="7")
    vendor = world.vendor.by_key("cs_status_1")
    assert vendor is not None
    world.vendor.update(str(vendor["Id"]), Amount=8)
    world.sync(1)
    rows = {h.connection: h for h in connection_health(world.store, world.runtimes, world.clock)}
    assert set(rows) == {VENDOR, PARTNER_A, PARTNER_B}
    assert rows[VENDOR].state == "healthy"
    assert rows[VENDOR].lag_seconds is not None
    assert rows[VENDOR].conflicts == 1
    assert rows[PARTNER_A].conflicts == 1
    assert rows[PARTNER_B].conflicts == 0
    assert rows[VENDOR].api_limit is not None
    assert rows[VENDOR].api_used is not None
    data = rows[VENDOR].to_json()
    assert data["next_run"] is None
    assert data["api_left"] == rows[VENDOR].api_left
    with world.store.read() as tx:
        stored = tx.records.get("cs_status_1")
    assert stored is not None
    assert flatten(stored.opportunity)["amount"] is not None


def test_a_needed_reconcile_is_recorded_until_one_completes(world: World) -> None:
    create(world, PARTNER_A, "cs_gap_1", name="Gap", amount="1")
    world.sync(2)
    vendor = world.vendor.by_key("cs_gap_1")
    assert vendor is not None
    world.vendor.delete(str(vendor["Id"]))
    # The vendor org's delete log keeps 15 days: after that the deletion can only be found by
    # comparing key sets.
    world.clock.advance(timedelta(days=16))
    report = world.cycle(VENDOR)
    assert report.status is CycleStatus.OK
    assert report.reconcile_needed is not None
    assert "full reconcile" in report.reconcile_needed
    [row] = [h for h in connection_health(world.store, world.runtimes, world.clock)
             if h.connection == VENDOR]
    assert (row.state, row.reconcile_needed) == ("reconcile_needed", report.reconcile_needed)
    # A restarted engine still sees the request (the cursor has moved on since).
    restarted = SyncEngine(world.runtimes, world.store, clock=world.clock)
    world.settle()
    # (The connector may phrase it again with a later horizon: the request itself persists.)
    again = restarted.run_cycle(VENDOR).reconcile_needed
    assert again is not None
    assert "full reconcile" in again
    found = restarted.reconcile(VENDOR)
    assert found.missing_remote == ["cs_gap_1"]
    assert not found.stopped
    [row] = [h for h in connection_health(world.store, world.runtimes, world.clock)
             if h.connection == VENDOR]
    assert (row.state, row.reconcile_needed) == ("healthy", None)
