"""An idle cycle touches indexes only: its cost must not grow with the number of stored deals.

Checked on SQLite with ``EXPLAIN QUERY PLAN`` for every statement an idle cycle (and one page
of lookups) issues: no full scan of a table that grows with the deal count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from channel_sync.clock import FrozenClock
from channel_sync.model import Stage
from channel_sync.store import (
    AuditEvent,
    ConflictSide,
    CursorState,
    Direction,
    RunStatus,
    Store,
    open_store,
)
from store.helpers import START, make_deal

DEALS = int(os.environ.get("CHANNEL_SYNC_TEST_PLAN_DEALS", "60"))
GROWING = ("records", "links", "outbox", "audit_events", "conflicts", "runs")


@pytest.fixture
def busy_store(tmp_path: Path) -> Iterator[Store]:
    clock = FrozenClock(START)
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    with store.transaction() as tx:
        for n in range(DEALS):
            cid = f"cs_{n:06d}"
            tx.records.insert(make_deal(cid, partner_id="acme"))
            tx.links.link("hs-acme", cid, f"r{n}")
            tx.links.link("sf-vendor", cid, f"006{n:015d}")
            tx.outbox.enqueue("sf-vendor", cid, {"stage": Stage.PROPOSAL})
            tx.audit.append([AuditEvent("u", "hubspot", Direction.INBOUND, cid, field="name")])
            tx.conflicts.record_decided(
                cid,
                "stage",
                base=None,
                a=ConflictSide(None, "s", "sf-vendor"),
                b=ConflictSide(None, "h", "hs-acme"),
                decision="authority:vendor",
                value=None,
                decided_by="channel-sync",
            )
        for _ in range(3):
            tx.runs.start("hs-acme")
    with store.transaction() as tx:  # the history of a busy past: all confirmed
        batch = tx.outbox.claim("sf-vendor", DEALS)
        for entry in batch.entries:
            tx.outbox.confirm(entry.id)
    try:
        yield store
    finally:
        store.dispose()


def _idle_cycle(store: Store) -> None:
    lease = store.acquire_lease("hs-acme", "worker-1", timedelta(seconds=30))
    assert lease is not None
    with store.transaction() as tx:
        run = tx.runs.start("hs-acme")
    with store.read() as tx:
        cursor = tx.cursors.get("hs-acme")
        tx.leases.current("hs-acme")
    with store.unit_of_work(lease) as uow:
        # one small page of changes: looked up by key
        uow.links.many_by_remote("hs-acme", ["r1", "r2"])
        uow.links.many_by_canonical("sf-vendor", ["cs_000001"])
        uow.records.get_many(["cs_000001", "cs_000002"], lock=True)
        uow.conflicts.open_fields(["cs_000001", "cs_000002"])
        uow.cursors.save("hs-acme", cursor or CursorState(None, None))
    store.in_flight("sf-vendor")
    store.claim_outbox("sf-vendor", 200)
    store.claim_outbox("hs-acme", 200)
    with store.transaction() as tx:
        tx.runs.finish(run.id, RunStatus.SUCCEEDED)
        tx.outbox.counts()
        tx.conflicts.count_open()
        tx.runs.latest("hs-acme")
    store.release_lease(lease)


def test_an_idle_cycle_never_scans_a_growing_table(busy_store: Store) -> None:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            statements.append((statement, parameters))

    event.listen(busy_store.engine, "before_cursor_execute", capture)
    try:
        _idle_cycle(busy_store)
    finally:
        event.remove(busy_store.engine, "before_cursor_execute", capture)
    assert len(statements) > 10
    raw = busy_store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            plan = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            details = [row[-1] for row in plan]
            scans = [d for d in details if d.startswith("SCAN") and d.split()[1] in GROWING]
            assert scans == [], f"{statement}\n{details}"
    finally:
        raw.close()
