"""Bulk settling and per-transaction look-up caches: same results as one record at a time, in
a number of statements that does not grow with the batch, and correct across savepoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from channel_sync.store import (
    AuditEvent,
    Direction,
    DuplicateLinkError,
    MissingRowError,
    OutboxOp,
    OutboxStatus,
    Store,
)
from store.helpers import make_deal


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def _deals(store: Store, ids: list[str]) -> None:
    with store.transaction() as tx:
        for canonical_id in ids:
            tx.records.insert(make_deal(canonical_id, partner_id="acme"))


def test_confirm_many_settles_a_batch_in_one_statement(store: Store) -> None:
    ids = [f"d{i}" for i in range(30)]
    _deals(store, ids)
    with store.transaction() as tx:
        for canonical_id in ids:
            tx.outbox.enqueue("sf-vendor", canonical_id, {"name": canonical_id})
    batch = store.claim_outbox("sf-vendor", 100)
    assert len(batch.entries) == 30
    with statements(store) as seen, store.transaction() as tx:
        assert tx.outbox.confirm_many(e.id for e in batch.entries) == 30
    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE")]) == 1
    with store.read() as tx:
        assert all(tx.outbox.get(e.id).status is OutboxStatus.CONFIRMED for e in batch.entries)  # type: ignore[union-attr]


def test_confirm_many_refuses_an_entry_not_in_flight_and_changes_nothing(store: Store) -> None:
    _deals(store, ["a", "b"])
    with store.transaction() as tx:
        tx.outbox.enqueue("sf-vendor", "a", {"name": "a"})
        waiting = tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})
    claimed = store.claim_outbox("sf-vendor", 1).entries[0]
    with pytest.raises(MissingRowError, match="1 of 2"), store.transaction() as tx:
        tx.outbox.confirm_many([claimed.id, waiting.id])
    with store.read() as tx:
        assert tx.outbox.get(claimed.id).status is OutboxStatus.IN_FLIGHT  # type: ignore[union-attr]
        assert tx.outbox.get(waiting.id).status is OutboxStatus.PENDING  # type: ignore[union-attr]


def test_enqueue_folds_within_one_transaction_and_after_a_requeue(store: Store) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal("a", partner_id="acme"))
        first = tx.outbox.enqueue("sf-vendor", "a", {"name": "one"})
        second = tx.outbox.enqueue("sf-vendor", "a", {"amount": 5})
        assert second.id == first.id
        assert second.fields == {"name": "one", "amount": 5}
    claimed = store.claim_outbox("sf-vendor", 10).entries[0]
    with store.transaction() as tx:
        newer = tx.outbox.enqueue("sf-vendor", "a", {"name": "two"})
        assert newer.id != claimed.id
        tx.outbox.release(claimed.id)
        # the released entry is PENDING again and older; the newest pending is still ``newer``
        again = tx.outbox.enqueue("sf-vendor", "a", {"name": "three"})
        assert again.id == newer.id
    with store.read() as tx:
        assert [e.id for e in tx.outbox.pending("sf-vendor")] == [claimed.id, newer.id]


def test_failures_clear_many_removes_only_the_named_deals(store: Store) -> None:
    _deals(store, ["a", "b", "c"])
    with store.transaction() as tx:
        assert tx.failures.clear("sf-vendor", canonical_id="a") is False
        for canonical_id in ("a", "b", "c"):
            tx.failures.record("sf-vendor", ("RecordError", "bad"), canonical_id=canonical_id)
        tx.failures.record("hs-acme", ("RecordError", "bad"), canonical_id="a")
        tx.failures.record("sf-vendor", ("RecordError", "bad"), remote_id="006X")
        assert tx.failures.clear_many("sf-vendor", canonical_ids=["a", "b", "zzz"]) == 2
        assert tx.failures.clear_many("sf-vendor", remote_ids=["006X", "006Y"]) == 1
    with store.read() as tx:
        assert [f.canonical_id for f in tx.failures.for_connection("sf-vendor")] == ["c"]
        assert [f.canonical_id for f in tx.failures.for_connection("hs-acme")] == ["a"]
    with store.transaction() as tx:
        assert tx.failures.clear("sf-vendor", canonical_id="c") is True
        assert tx.failures.clear("sf-vendor", canonical_id="c") is False


def test_a_healthy_page_clears_no_quarantine_row_by_row(store: Store) -> None:
    ids = [f"d{i}" for i in range(20)]
    _deals(store, ids)
    with statements(store) as seen, store.transaction() as tx:
        for canonical_id in ids:
            assert tx.failures.clear("sf-vendor", canonical_id=canonical_id) is False
    assert not [s for s in seen if s.lstrip().upper().startswith("DELETE")]
    assert len([s for s in seen if "failed_records" in s]) == 1


def test_link_cache_forgets_what_a_rolled_back_savepoint_created(store: Store) -> None:
    _deals(store, ["a"])
    with store.transaction() as tx:
        assert tx.links.by_canonical("sf-vendor", "a") is None
        savepoint = tx.session.begin_nested()
        tx.links.link("sf-vendor", "a", "006A")
        assert tx.links.by_remote("sf-vendor", "006A") is not None
        savepoint.rollback()
        assert tx.links.by_canonical("sf-vendor", "a") is None
        assert tx.links.by_remote("sf-vendor", "006A") is None
        made = tx.links.link("sf-vendor", "a", "006B")
        assert made.remote_id == "006B"
        with pytest.raises(DuplicateLinkError):
            tx.links.link("sf-vendor", "a", "006C")
    with store.read() as tx:
        found = tx.links.by_remote("sf-vendor", "006B")
        assert found is not None
        assert found.canonical_id == "a"


def test_link_cache_follows_a_re_pointed_remote_id_and_unlink(store: Store) -> None:
    _deals(store, ["a", "b"])
    with store.transaction() as tx:
        tx.links.link("hs-acme", "a", "1")
    with store.transaction() as tx:
        assert tx.links.many_by_remote("hs-acme", ["1", "2"]).keys() == {"1"}
        tx.links.set_remote_id("hs-acme", "a", "2")
        assert tx.links.by_remote("hs-acme", "1") is None
        assert tx.links.by_remote("hs-acme", "2").canonical_id == "a"  # type: ignore[union-attr]
        tx.links.link("hs-acme", "b", "1")
        assert tx.links.unlink("hs-acme", "a") is True
        assert tx.links.by_canonical("hs-acme", "a") is None
        assert tx.links.by_remote("hs-acme", "2") is None
    with store.read() as tx:
        assert tx.links.by_remote("hs-acme", "1").canonical_id == "b"  # type: ignore[union-attr]
        assert tx.links.by_canonical("hs-acme", "a") is None


def test_audit_append_writes_a_page_of_events_in_one_statement(store: Store) -> None:
    _deals(store, ["a"])
    events = [
        AuditEvent(
            actor="channel-sync",
            source_system="hubspot",
            direction=Direction.INBOUND,
            canonical_id="a",
            field="name",
            old_value=None if i == 0 else f"n{i - 1}",
            new_value=f"n{i}",
        )
        for i in range(50)
    ]
    events.append(AuditEvent(actor="admin", source_system="cli", direction=Direction.INTERNAL))
    with statements(store) as seen, store.transaction() as tx:
        assert tx.audit.append(events) == 51
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert 1 <= len(inserts) <= 2  # rows with and without a deal may go in two groups
    with store.read() as tx:
        stored = tx.audit.for_record("a")
    assert [e.new_value for e in stored] == [f"n{i}" for i in range(50)]
    assert stored[0].old_value is None
    assert all(e.partner_id == "acme" and e.direction is Direction.INBOUND for e in stored)


def test_a_batch_of_links_is_written_in_one_insert_and_one_update(store: Store) -> None:
    ids = [f"d{i}" for i in range(25)]
    _deals(store, ids)
    with statements(store) as seen, store.transaction() as tx:
        for n, canonical_id in enumerate(ids):
            tx.links.link("sf-vendor", canonical_id, f"006{n:03d}", base={"name": canonical_id})
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT") and "links" in s]
    assert len(inserts) == 1
    with statements(store) as seen, store.transaction() as tx:
        found = tx.links.many_by_canonical("sf-vendor", ids)
        for canonical_id in ids:
            tx.links.update("sf-vendor", canonical_id, base={"amount": 10}, written={"amount": 10})
        assert len(found) == 25
    updates = [s for s in seen if s.lstrip().upper().startswith("UPDATE") and "links" in s]
    assert len(updates) == 1
    with store.read() as tx:
        link = tx.links.by_canonical("sf-vendor", "d7")
        assert link is not None
        assert dict(link.base) == {"name": "d7", "amount": 10}
        assert dict(link.written) == {"amount": 10}


def test_held_link_writes_survive_a_savepoint_rolled_back_after_them(store: Store) -> None:
    _deals(store, ["a", "b"])
    with store.transaction() as tx:
        tx.links.link("sf-vendor", "a", "006A", base={"name": "before"})
    with store.transaction() as tx:
        tx.links.update("sf-vendor", "a", base={"name": "kept"})
        savepoint = tx.savepoint()
        tx.links.link("sf-vendor", "b", "006B")
        tx.links.update("sf-vendor", "a", base={"name": "undone"})
        savepoint.rollback()
        assert tx.links.by_canonical("sf-vendor", "b") is None
        assert [link.canonical_id for link in tx.links.for_record("a")] == ["a"]
        kept = tx.links.by_canonical("sf-vendor", "a")
        assert kept is not None
        assert kept.base["name"] == "kept"
    with store.read() as tx:
        stored = tx.links.by_canonical("sf-vendor", "a")
        assert stored is not None
        assert stored.base["name"] == "kept"
        assert tx.links.by_remote("sf-vendor", "006B") is None


def test_a_held_link_write_is_seen_by_the_next_query_and_lost_with_a_rollback(
    store: Store,
) -> None:
    _deals(store, ["a"])
    with store.transaction() as tx:
        tx.links.link("sf-vendor", "a", "006A")
    seen: list[object] = []

    def edit_then_fail() -> None:
        with store.transaction() as tx:
            tx.links.update("sf-vendor", "a", base={"name": "not committed"})
            (link,) = tx.links.for_record("a")
            seen.append(link.base["name"])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        edit_then_fail()
    assert seen == ["not committed"]
    with store.read() as tx:
        link = tx.links.by_canonical("sf-vendor", "a")
        assert link is not None
        assert "name" not in link.base


def test_a_page_of_queued_writes_is_one_insert_and_folds_before_it_is_sent(store: Store) -> None:
    ids = [f"d{i}" for i in range(30)]
    _deals(store, ids)
    with statements(store) as seen, store.transaction() as tx:
        for canonical_id in ids:
            tx.outbox.queue("sf-vendor", canonical_id, {"name": canonical_id})
        tx.outbox.queue("sf-vendor", "d3", {"amount": 7})  # folds into the held entry
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT") and "outbox" in s]
    assert len(inserts) == 1
    with store.read() as tx:
        pending = tx.outbox.pending("sf-vendor")
    assert [e.canonical_id for e in pending] == ids  # queued order is claim order
    assert next(e for e in pending if e.canonical_id == "d3").fields == {"name": "d3", "amount": 7}


def test_held_outbox_writes_keep_their_order_and_survive_a_later_savepoint(store: Store) -> None:
    _deals(store, ["a", "b", "c"])
    with store.transaction() as tx:
        tx.outbox.queue("sf-vendor", "a", {"name": "a"})
        made = tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})  # sends what is held first
        tx.outbox.queue("sf-vendor", "b", {"amount": 3})  # folds into the sent row
        savepoint = tx.savepoint()
        tx.outbox.queue("sf-vendor", "c", {"name": "c"})
        savepoint.rollback()
        tx.outbox.queue("sf-vendor", "a", {"amount": 1})
    with store.read() as tx:
        pending = tx.outbox.pending("sf-vendor")
    assert [(e.canonical_id, dict(e.fields)) for e in pending] == [
        ("a", {"name": "a", "amount": 1}),
        ("b", {"name": "b", "amount": 3}),
    ]
    assert pending[1].id == made.id
    assert pending[0].id < made.id


def test_claim_in_the_queueing_transaction_sees_held_and_folded_entries(store: Store) -> None:
    _deals(store, ["a", "b"])
    with store.transaction() as tx:
        tx.outbox.queue("sf-vendor", "a", {"name": "a"})
        entry = tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})
        tx.outbox.queue("sf-vendor", "b", {"amount": 2})
        batch = tx.outbox.claim("sf-vendor", 10)
        assert [(e.canonical_id, dict(e.fields)) for e in batch.entries] == [
            ("a", {"name": "a"}), ("b", {"name": "b", "amount": 2}),
        ]
        got = tx.outbox.get(entry.id)
        assert got is not None
        assert got.status is OutboxStatus.IN_FLIGHT


def test_a_delete_queued_between_held_upserts_keeps_its_place(store: Store) -> None:
    _deals(store, ["a", "b", "c"])
    with store.transaction() as tx:
        tx.outbox.queue("sf-vendor", "a", {"name": "a"})
        tx.outbox.queue("sf-vendor", "b", {}, op=OutboxOp.DELETE)
        tx.outbox.queue("sf-vendor", "c", {"name": "c"})
    with store.read() as tx:
        pending = tx.outbox.pending("sf-vendor")
    assert [(e.canonical_id, e.op) for e in pending] == [
        ("a", OutboxOp.UPSERT), ("b", OutboxOp.DELETE), ("c", OutboxOp.UPSERT),
    ]
