"""Crash injection at each step of a cycle; a fresh engine resumes.

For every crash point (before the remote write, after it but before the local commit, in the
middle of a batch, in the middle of a commit) the test creates and then edits deals on both
partners and the vendor, kills the engine at that point, checks that no cursor is ahead of
durable data, lets a fresh engine take over once the dead worker's lease expires, and finally
compares both CRMs with the expected values: 0 lost updates, 0 duplicates.

Size: ``CHANNEL_SYNC_CRASH_N`` deals per partner (default 8). Seed: ``CHANNEL_SYNC_SEED``.
"""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import timedelta
from typing import Any

import pytest

from channel_sync.mapping import canonical_value
from channel_sync.sync.cycle import LEASE_TTL, load_cursor
from channel_sync.sync.engine import SyncEngine
from sync.conftest import BACKENDS
from sync.crash import Crash, CrashingConnector, CrashingStore, SimulatedCrash
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World

N = int(os.environ.get("CHANNEL_SYNC_CRASH_N", "8"))
SEED = int(os.environ.get("CHANNEL_SYNC_SEED", random.SystemRandom().randrange(2**32)))

POINTS = [
    ("before_write", 1),
    ("after_write", 1),
    ("mid_batch", 1),
    ("mid_commit", 1),  # the first page's transaction (data + cursor)
    ("mid_commit", 3),  # a later one: a page or the confirmation of written entries
]


def crashing_engine(world: World, crash: Crash) -> SyncEngine:
    runtimes = {
        name: dataclasses.replace(rt, connector=CrashingConnector(rt.connector, crash))
        for name, rt in world.runtimes.items()
    }
    return SyncEngine(runtimes, CrashingStore(world.store, crash), clock=world.clock,
                      holder="doomed-worker")


def crash_once(world: World, point: str, at_commit: int) -> int:
    crash = Crash(point, at_commit=at_commit)
    world.settle()
    with pytest.raises(SimulatedCrash):
        crashing_engine(world, crash).sync_once()
    assert crash.fired == 1
    assert_cursors_behind_durable_data(world)
    # The dead worker's lease runs out; a new worker takes over.
    world.clock.advance(LEASE_TTL + timedelta(seconds=1))
    world.engine = SyncEngine(world.runtimes, world.store, clock=world.clock, holder="new-worker")
    for report in world.sync(3):
        assert report.status.value == "ok", report.error
    return crash.fired


def assert_cursors_behind_durable_data(world: World) -> None:
    """Every in-scope remote record at or before a stored cursor is linked in the hub."""
    users = {VENDOR: world.vendor, PARTNER_A: world.partner_a, PARTNER_B: world.partner_b}
    with world.store.read() as tx:
        for name, user in users.items():
            cursor = load_cursor(tx, name)
            if cursor is None:
                continue
            mapping = world.runtimes[name].mapping
            covered = [
                r for r in user.records()
                if mapping.in_scope(r) and mapping.modstamp(r) < cursor.modstamp
            ]
            links = tx.links.many_by_remote(name, [mapping.remote_id(r) for r in covered])
            missing = [mapping.remote_id(r) for r in covered if mapping.remote_id(r) not in links]
            assert not missing, f"{name}: cursor ahead of durable data for {missing}"


def expect(world: World, connection: str, key: str, values: dict[str, Any]) -> None:
    user = {VENDOR: world.vendor, PARTNER_A: world.partner_a, PARTNER_B: world.partner_b}[
        connection
    ]
    record = user.by_key(key)
    assert record is not None, f"{connection} lost {key}"
    got = world.engine.hub.facts[connection].inbound(record)
    for path, value in values.items():
        assert got.get(path) == canonical_value(path, value), (connection, key, path)


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(("point", "at_commit"), POINTS)
def test_crash_then_resume_loses_and_duplicates_nothing(
    world: World, point: str, at_commit: int
) -> None:
    print(f"seed={SEED} n={N} point={point}@{at_commit}")
    rng = random.Random(SEED)
    deals: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for partner, user in ((PARTNER_A, world.partner_a), (PARTNER_B, world.partner_b)):
        for n in range(N):
            key = f"cs_crash_{partner[8]}_{n}_{rng.randrange(10**6)}"
            values = {"name": f"Crash deal {partner[8]}{n}", "amount": str(100 + n)}
            facts = world.engine.hub.facts[partner]
            wire = facts.mapping.outbound({
                "name": values["name"], "amount": canonical_value("amount", values["amount"]),
                "target_close_date": canonical_value("target_close_date", "2026-06-30"),
            })
            scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
            user.create(**{**wire, **scope, facts.mapping.keys.external_id: key})
            deals[key] = values
            owners[key] = partner
    crashes = crash_once(world, point, at_commit)

    # Second wave: partners change amounts, the vendor changes stages (different fields).
    for key in sorted(deals):
        partner = owners[key]
        if rng.random() < 0.5:
            amount = str(rng.randrange(1000, 9000))
            user_p = world.partner_a if partner == PARTNER_A else world.partner_b
            record = user_p.by_key(key)
            assert record is not None
            wire = world.engine.hub.facts[partner].mapping.outbound(
                {"amount": canonical_value("amount", amount)}
            )
            user_p.update(str(record[world.runtimes[partner].mapping.keys.remote_id]), **wire)
            deals[key]["amount"] = amount
        else:
            vendor_record = world.vendor.by_key(key)
            assert vendor_record is not None
            world.vendor.update(str(vendor_record["Id"]), StageName="Negotiation/Review")
            deals[key]["stage"] = "negotiation"
    crashes += crash_once(world, point, at_commit)

    for key, values in deals.items():
        expect(world, VENDOR, key, values)
        expect(world, owners[key], key, values)
    for connection, user in ((VENDOR, world.vendor), (PARTNER_A, world.partner_a),
                             (PARTNER_B, world.partner_b)):
        keys = [r.get(world.runtimes[connection].mapping.keys.external_id) for r in user.records()]
        assert len(keys) == len(set(keys)), f"duplicates on {connection}"
        wanted = len(deals) if connection == VENDOR else N
        assert len(keys) == wanted, f"{connection} holds {len(keys)} records, wanted {wanted}"
    with world.store.read() as tx:
        assert tx.conflicts.count_open() == 0
        assert not tx.failures.counts()
    print(f"crash point {point}@{at_commit}: {crashes} crashes injected, 0 lost, 0 duplicates")
