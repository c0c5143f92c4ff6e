from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from channel_sync.clock import FrozenClock
from channel_sync.errors import RecordError
from channel_sync.model import Stage
from channel_sync.store import (
    DELETED,
    AuditEvent,
    ConflictSide,
    ConflictStatus,
    Direction,
    IntegrityRuleError,
    MissingRowError,
    RunStatus,
    Store,
    UnstorableValueError,
)
from store.helpers import make_deal


def _deal(store: Store, canonical_id: str = "cs_1", partner_id: str | None = "acme") -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal(canonical_id, partner_id=partner_id))


def test_audit_events_round_trip_typed_values(store: Store, clock: FrozenClock) -> None:
    _deal(store)
    source_ts = datetime(2024, 5, 1, 8, 59, tzinfo=UTC)
    with store.transaction() as tx:
        run = tx.runs.start("hs-acme")
        written = tx.audit.append(
            [
                AuditEvent(
                    actor="hubspot:user-7",
                    source_system="hubspot",
                    direction=Direction.INBOUND,
                    canonical_id="cs_1",
                    connection="hs-acme",
                    external_key="9001",
                    field="amount",
                    old_value=Decimal("10.50"),
                    new_value=Decimal("12"),
                    source_ts=source_ts,
                    run_id=run.id,
                    decision="partner_only_change",
                ),
                AuditEvent(
                    actor="channel-sync",
                    source_system="channel-sync",
                    direction=Direction.OUTBOUND,
                    canonical_id="cs_1",
                    connection="sf-vendor",
                    field="stage",
                    old_value=Stage.PROSPECTING,
                    new_value=Stage.PROPOSAL,
                    run_id=run.id,
                ),
            ]
        )
    assert written == 2
    with store.read() as tx:
        events = tx.audit.for_record("cs_1")
        assert tx.audit.for_run(run.id) == events
    first = events[0]
    assert (first.old_value, first.new_value) == (Decimal("10.5"), Decimal("12"))
    assert first.source_ts == source_ts
    assert first.engine_ts == clock.now()
    assert first.partner_id == "acme"
    assert (first.external_key, first.decision) == ("9001", "partner_only_change")
    assert events[1].new_value is Stage.PROPOSAL


def test_audit_values_must_name_their_field(store: Store) -> None:
    with pytest.raises(ValueError, match="name the field"), store.transaction() as tx:
        tx.audit.append([AuditEvent("u", "hubspot", Direction.INBOUND, new_value="x")])
    with (
        pytest.raises(UnstorableValueError, match="not a canonical field"),
        store.transaction() as tx,
    ):
        tx.audit.append([AuditEvent("u", "hubspot", Direction.INBOUND, field="amout", new_value=1)])


def test_database_refuses_audit_update_and_delete(store: Store) -> None:
    _deal(store)
    with store.transaction() as tx:
        tx.audit.append(
            [AuditEvent("u", "hubspot", Direction.INBOUND, "cs_1", field="name", new_value="A")]
        )
    for statement in (
        "UPDATE audit_events SET actor = 'someone else'",
        "UPDATE audit_events SET new_value = NULL WHERE field = 'name'",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(IntegrityRuleError, match="append-only"), store.transaction() as tx:
            tx.session.execute(text(statement))
    if store.dialect == "postgresql":
        with pytest.raises(IntegrityRuleError, match="append-only"), store.transaction() as tx:
            tx.session.execute(text("TRUNCATE audit_events"))
    with store.read() as tx:
        (event,) = tx.audit.for_record("cs_1")
    assert (event.actor, event.new_value) == ("u", "A")


def test_conflict_open_update_and_resolve(store: Store, clock: FrozenClock) -> None:
    _deal(store)
    vendor = ConflictSide(Decimal("100.00"), "salesforce", "sf-vendor")
    partner = ConflictSide(Decimal("120"), "hubspot", "hs-acme")
    with store.transaction() as tx:
        opened = tx.conflicts.open("cs_1", "amount", base=Decimal("90"), a=vendor, b=partner)
    assert opened.status is ConflictStatus.OPEN
    assert (opened.base, opened.a.value, opened.b.value) == (
        Decimal(90),
        Decimal(100),
        Decimal(120),
    )
    assert opened.partner_id == "acme"
    clock.advance(timedelta(minutes=1))
    newer = ConflictSide(Decimal("125"), "hubspot", "hs-acme")
    with store.transaction() as tx:
        again = tx.conflicts.open("cs_1", "amount", base=Decimal("90"), a=vendor, b=newer)
        assert again.id == opened.id  # one open conflict per field
        assert again.detected_at == opened.detected_at
        assert again.b.value == Decimal("125")
        tx.conflicts.open(
            "cs_1",
            "stage",
            base=Stage.PROSPECTING,
            a=ConflictSide(Stage.PROPOSAL, "salesforce", "sf-vendor"),
            b=ConflictSide(Stage.CLOSED_LOST, "hubspot", "hs-acme"),
        )
        assert tx.conflicts.open_fields(["cs_1", "cs_2"]) == {"cs_1": {"amount", "stage"}}
        assert tx.conflicts.count_open() == 2
    with store.transaction() as tx:
        resolved = tx.conflicts.resolve(
            opened.id, decision="take_a", value=Decimal("100"), resolved_by="alice@vendor.example"
        )
        with pytest.raises(MissingRowError):
            tx.conflicts.resolve(opened.id, decision="take_b", value=None, resolved_by="bob")
    assert resolved.status is ConflictStatus.RESOLVED
    assert (resolved.resolved_value, resolved.resolved_at) == (Decimal(100), clock.now())
    with store.read() as tx:
        assert [c.field for c in tx.conflicts.list_open()] == ["stage"]
        assert [c.field for c in tx.conflicts.list_open(canonical_id="cs_1")] == ["stage"]
    with store.transaction() as tx:
        reopened = tx.conflicts.open("cs_1", "amount", base=Decimal(100), a=vendor, b=partner)
    assert reopened.id != opened.id  # a new disagreement after the decision


def test_refreshing_one_side_keeps_what_the_other_side_reported(store: Store) -> None:
    _deal(store)
    decided = ConflictSide(Decimal("100"), "salesforce", "sf-vendor")  # the hub's decided value
    vendor_edit = ConflictSide(Decimal("130"), "salesforce", "sf-vendor")
    partner_edit = ConflictSide(Decimal("140"), "hubspot", "hs-acme")
    with store.transaction() as tx:
        # The partner's edit arrives first: the vendor side is known only by the hub's value.
        opened = tx.conflicts.refresh_side(
            "cs_1", "amount", partner_edit, base=Decimal("90"), other=decided
        )
        assert (opened.a.value, opened.a.connection) == (Decimal(100), "sf-vendor")
        assert (opened.b.value, opened.b.connection) == (Decimal(140), "hs-acme")
        # Then the vendor's own edit: only the vendor side changes.
        both = tx.conflicts.refresh_side(
            "cs_1", "amount", vendor_edit, base=Decimal("90"),
            other=ConflictSide(Decimal("100"), "hubspot", "hs-acme"),
        )
    assert both.id == opened.id
    assert (both.a.value, both.b.value) == (Decimal(130), Decimal(140))
    assert (both.a.connection, both.b.connection) == ("sf-vendor", "hs-acme")
    assert both.base == Decimal(90)


def test_conflicts_decided_by_authority_and_delete_versus_edit(store: Store) -> None:
    _deal(store)
    with store.transaction() as tx:
        decided = tx.conflicts.record_decided(
            "cs_1",
            "registration.status",
            base="submitted",
            a=ConflictSide("approved", "salesforce", "sf-vendor"),
            b=ConflictSide("withdrawn", "hubspot", "hs-acme"),
            decision="authority:vendor",
            value="approved",
            decided_by="channel-sync",
        )
        delete_edit = tx.conflicts.open(
            "cs_1",
            DELETED,
            base=False,
            a=ConflictSide(True, "salesforce", "sf-vendor"),
            b=ConflictSide(False, "hubspot", "hs-acme"),
        )
        history = tx.conflicts.history("cs_1")
    assert decided.status is ConflictStatus.RESOLVED
    assert str(decided.resolved_value) == "approved"
    assert (delete_edit.a.value, delete_edit.b.value) == (True, False)
    assert [c.id for c in history] == [decided.id, delete_edit.id]


def test_runs_record_cycles(store: Store, clock: FrozenClock) -> None:
    with store.transaction() as tx:
        run = tx.runs.start("hs-acme")
    assert run.status is RunStatus.RUNNING
    clock.advance(timedelta(seconds=42))
    with store.transaction() as tx:
        done = tx.runs.finish(
            run.id, RunStatus.FAILED, counts={"read": 10, "written": 3}, api_calls=7, error="boom"
        )
        with pytest.raises(ValueError, match="finishes as"):
            tx.runs.finish(run.id, RunStatus.RUNNING)
        second = tx.runs.start("hs-acme")
        tx.runs.start("sf-vendor")
    assert done.finished_at == clock.now()
    assert (dict(done.counts), done.api_calls, done.error) == (
        {"read": 10, "written": 3},
        7,
        "boom",
    )
    with store.read() as tx:
        assert [r.id for r in tx.runs.recent("hs-acme")] == [second.id, run.id]
        assert tx.runs.latest("hs-acme") == tx.runs.get(second.id)


def test_failed_record_index(store: Store, clock: FrozenClock) -> None:
    _deal(store)
    with store.transaction() as tx:
        tx.failures.record("hs-acme", RecordError("amount is not a number"), remote_id="9001")
    clock.advance(timedelta(minutes=5))
    with store.transaction() as tx:
        again = tx.failures.record("hs-acme", ("ValidationError", "still bad"), remote_id="9001")
        outbound = tx.failures.record(
            "sf-vendor", ("RecordError", "FIELD_CUSTOM_VALIDATION"), canonical_id="cs_1"
        )
        with pytest.raises(ValueError, match="remote id or a canonical id"):
            tx.failures.record("sf-vendor", ("X", "y"))
    assert (again.attempts, again.error_class, again.message) == (2, "ValidationError", "still bad")
    assert again.first_seen == again.last_seen - timedelta(minutes=5)
    assert outbound.partner_id == "acme"
    assert store.status().failed_records == {"hs-acme": 1, "sf-vendor": 1}
    with store.transaction() as tx:
        assert tx.failures.clear("hs-acme", remote_id="9001")
        assert not tx.failures.clear("hs-acme", remote_id="9001")
        assert [f.canonical_id for f in tx.failures.for_connection("sf-vendor")] == ["cs_1"]
