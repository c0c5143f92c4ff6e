from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from channel_sync.clock import FrozenClock
from channel_sync.model import Stage
from channel_sync.store import (
    ConcurrentUpdateError,
    CursorState,
    DuplicateLinkError,
    IntegrityRuleError,
    MissingRowError,
    Store,
    TenantViolationError,
    UnstorableValueError,
)
from channel_sync.store.tables import CursorRow
from store.helpers import make_deal


def test_record_insert_update_versions_and_timestamps(store: Store, clock: FrozenClock) -> None:
    with store.transaction() as tx:
        first = tx.records.insert(make_deal(amount="10.50", target_close_date="2024-09-30"))
    assert first.version == 1
    assert first.created_at == first.updated_at == clock.now()
    clock.advance(timedelta(minutes=5))
    with store.transaction() as tx:
        current = tx.records.get("cs_1")
        assert current is not None
        changed = current.opportunity.model_copy(update={"stage": Stage.PROPOSAL})
        second = tx.records.update(changed, expected_version=current.version)
    assert second.version == 2
    assert second.created_at == first.created_at
    assert second.updated_at == clock.now()
    with store.read() as tx:
        stored = tx.records.get("cs_1")
    assert stored is not None
    assert stored.opportunity.stage is Stage.PROPOSAL
    assert stored.opportunity.amount == Decimal("10.5")
    assert stored.opportunity.target_close_date == date(2024, 9, 30)
    assert stored.updated_at.tzinfo is UTC


def test_stale_version_is_refused(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal())
    with store.transaction() as tx:
        tx.records.update(make_deal(name="first writer"), expected_version=1)
    with (
        pytest.raises(ConcurrentUpdateError, match="no longer at version 1"),
        store.transaction() as tx,
    ):
        tx.records.update(make_deal(name="second writer"), expected_version=1)
    with store.read() as tx:
        stored = tx.records.get("cs_1")
    assert stored is not None
    assert stored.opportunity.name == "first writer"
    assert stored.version == 2


def test_unknown_record_update_is_a_missing_row(store: Store) -> None:
    with pytest.raises(MissingRowError), store.transaction() as tx:
        tx.records.update(make_deal("nope"), expected_version=1)


def test_partner_id_cannot_change(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal(partner_id="acme"))
    with pytest.raises(TenantViolationError), store.transaction() as tx:
        tx.records.update(make_deal(partner_id="globex"), expected_version=1)
    # The database refuses it too, whatever the code path.
    with pytest.raises(IntegrityRuleError, match="immutable"), store.transaction() as tx:
        tx.session.execute(text("UPDATE records SET partner_id = 'globex'"))
    with store.read() as tx:
        stored = tx.records.get("cs_1")
    assert stored is not None
    assert stored.partner_id == "acme"


def test_deleted_marker_and_restore(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal())
        deleted = tx.records.mark_deleted("cs_1", expected_version=1)
        assert deleted.is_deleted
        assert tx.records.count() == 0
        assert tx.records.count(include_deleted=True) == 1
        restored = tx.records.restore("cs_1", expected_version=2)
    assert not restored.is_deleted
    assert restored.version == 3


def test_get_many_ids_and_changed_since(store: Store, clock: FrozenClock) -> None:
    with store.transaction() as tx:
        for n in range(5):
            tx.records.insert(make_deal(f"cs_{n}", partner_id="acme" if n % 2 else "globex"))
    mark = clock.now()
    clock.advance(timedelta(seconds=1))
    with store.transaction() as tx:
        tx.records.update(make_deal("cs_3", partner_id="acme", name="x"), expected_version=1)
    with store.read() as tx:
        assert set(tx.records.get_many(["cs_1", "cs_3", "missing"])) == {"cs_1", "cs_3"}
        assert tx.records.ids(partner_id="acme") == ["cs_1", "cs_3"]
        assert tx.records.ids(after="cs_2", limit=2) == ["cs_3", "cs_4"]
        assert [r.canonical_id for r in tx.records.changed_since(mark)] == ["cs_3"]


def test_links_map_both_ways_and_keep_base_and_written(store: Store, clock: FrozenClock) -> None:
    modstamp = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    with store.transaction() as tx:
        tx.records.insert(make_deal())
        link = tx.links.link(
            "hs-acme",
            "cs_1",
            "9001",
            base={"amount": Decimal("10.50"), "stage": Stage.PROPOSAL},
            written={"amount": Decimal("10.5")},
            remote_modstamp=modstamp,
        )
    assert link.partner_id == "acme"
    with store.read() as tx:
        by_remote = tx.links.by_remote("hs-acme", "9001")
        by_canonical = tx.links.by_canonical("hs-acme", "cs_1")
        assert tx.links.by_remote("other", "9001") is None
    assert by_remote == by_canonical
    assert by_remote is not None
    assert by_remote.base == {"amount": Decimal("10.5"), "stage": Stage.PROPOSAL}
    assert by_remote.written == {"amount": Decimal("10.5")}
    assert by_remote.remote_modstamp == modstamp

    with store.transaction() as tx:
        merged = tx.links.update("hs-acme", "cs_1", base={"stage": Stage.NEGOTIATION})
        assert merged.base == {"amount": Decimal("10.5"), "stage": Stage.NEGOTIATION}
        replaced = tx.links.update("hs-acme", "cs_1", written={"name": "Deal"}, merge=False)
        assert replaced.written == {"name": "Deal"}


def test_link_uniqueness_both_ways_per_connection(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal("cs_1"))
        tx.records.insert(make_deal("cs_2"))
        tx.links.link("hs-acme", "cs_1", "9001")
        tx.links.link("sf-vendor", "cs_1", "006A")  # another connection: fine
    with pytest.raises(DuplicateLinkError, match="already linked"), store.transaction() as tx:
        tx.links.link("hs-acme", "cs_2", "9001")
    with pytest.raises(DuplicateLinkError, match="already linked"), store.transaction() as tx:
        tx.links.link("hs-acme", "cs_1", "9002")
    with pytest.raises(MissingRowError), store.transaction() as tx:
        tx.links.link("hs-acme", "cs_unknown", "9003")
    with store.read() as tx:
        assert [link.connection for link in tx.links.for_record("cs_1")] == ["hs-acme", "sf-vendor"]
        assert set(tx.links.many_by_remote("hs-acme", ["9001", "9002"])) == {"9001"}
        assert set(tx.links.many_by_canonical("hs-acme", ["cs_1", "cs_2"])) == {"cs_1"}


def test_remote_id_filled_in_later_and_repointed(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal("cs_1"))
        tx.records.insert(make_deal("cs_2"))
        tx.links.link("hs-acme", "cs_1", None)
        tx.links.link("hs-acme", "cs_2", None)  # several pending links may lack a remote id
        tx.links.set_remote_id("hs-acme", "cs_1", "100")
        tx.links.set_remote_id("hs-acme", "cs_2", "200")
    with store.transaction() as tx:
        # a CRM merge re-keyed the deal: follow the survivor
        tx.links.set_remote_id("hs-acme", "cs_1", "101")
        with pytest.raises(DuplicateLinkError):
            tx.links.set_remote_id("hs-acme", "cs_1", "200")
    with store.read() as tx:
        assert tx.links.by_remote("hs-acme", "100") is None
        link = tx.links.by_remote("hs-acme", "101")
        assert link is not None
        assert link.canonical_id == "cs_1"
    with store.transaction() as tx:
        assert tx.links.unlink("hs-acme", "cs_1")
        assert not tx.links.unlink("hs-acme", "cs_1")


def test_cursor_saves_and_resets(store: Store) -> None:
    stamp = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    with store.read() as tx:
        assert tx.cursors.get("hs-acme") is None
    with store.transaction() as tx:
        tx.cursors.save("hs-acme", CursorState(stamp, "9001", {"after": "abc", "n": 3}))
    with store.transaction() as tx:
        cursor = tx.cursors.get("hs-acme")
        assert cursor is not None
        assert (cursor.modstamp, cursor.last_id, dict(cursor.extras)) == (
            stamp,
            "9001",
            {"after": "abc", "n": 3},
        )
        tx.cursors.save("hs-acme", CursorState(stamp + timedelta(seconds=1), "9002"))
        assert tx.cursors.reset("sf-vendor") is False
    with store.transaction() as tx:
        cursor = tx.cursors.get("hs-acme")
        assert cursor is not None
        assert cursor.last_id == "9002"
        assert tx.cursors.reset("hs-acme")
        assert tx.cursors.get("hs-acme") is None


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(UnstorableValueError, match="aware"), store.transaction() as tx:
        tx.cursors.save("hs-acme", CursorState(datetime(2024, 1, 1), "1"))


def test_timestamps_keep_their_instant_and_order_in_the_database(store: Store) -> None:
    """Any offset in, the same instant out in UTC; SQL comparisons order instants (on SQLite
    the stored text has a fixed width)."""
    stamps = [
        datetime(2024, 1, 1, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 1, 1, 7, 0, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    with store.transaction() as tx:
        for n, stamp in enumerate(stamps):
            tx.cursors.save(f"c{n}", CursorState(stamp, str(n)))
    with store.read() as tx:
        back = [tx.cursors.get(f"c{n}") for n in range(len(stamps))]
        assert [c.modstamp if c else None for c in back] == stamps
        assert all(c is not None and c.modstamp.utcoffset() == timedelta(0) for c in back)
        later = tx.session.scalars(
            select(CursorRow.connection)
            .where(CursorRow.modstamp > datetime(2024, 1, 1, 6, 30, 0, 2, tzinfo=UTC))
            .order_by(CursorRow.modstamp)
        ).all()
    assert later == ["c1"]
