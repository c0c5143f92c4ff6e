"""Echo and ping-pong suppression, counted on the sandboxes' own ledgers.

N user changes (``CHANNEL_SYNC_ECHO_N``, default 200) are split across both sides: half are new
registered deals on the two partners, half are edits (partners change amounts, the vendor
changes stages). Each change is written exactly once to each target that should see it; then
20 idle cycles write nothing at all and change no value in the hub.
"""

from __future__ import annotations

import os
import random
from typing import Any

from channel_sync.mapping import canonical_value, flatten
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World, positions, writes

N = int(os.environ.get("CHANNEL_SYNC_ECHO_N", "200"))
SEED = int(os.environ.get("CHANNEL_SYNC_SEED", random.SystemRandom().randrange(2**32)))
IDLE_CYCLES = 20


def _create(world: World, partner: str, key: str, n: int) -> None:
    facts = world.engine.hub.facts[partner]
    wire = facts.mapping.outbound({
        "name": f"Echo deal {n}",
        "amount": canonical_value("amount", str(10 * n)),
        "target_close_date": canonical_value("target_close_date", "2026-06-30"),
    })
    scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
    user = world.partner_a if partner == PARTNER_A else world.partner_b
    user.create(**{**wire, **scope, facts.mapping.keys.external_id: key})


def _hub_state(world: World) -> dict[str, Any]:
    with world.store.read() as tx:
        ids = tx.records.ids(limit=100_000)
        return {cid: flatten(r.opportunity) for cid, r in tx.records.get_many(ids).items()}


def test_changes_travel_once_and_idle_cycles_write_nothing(world: World) -> None:
    print(f"seed={SEED} n={N}")
    rng = random.Random(SEED)
    creates = N // 2
    owners: dict[str, str] = {}
    for n in range(creates):
        partner = PARTNER_A if n % 2 == 0 else PARTNER_B
        key = f"cs_echo_{n}_{rng.randrange(10**6)}"
        _create(world, partner, key, n)
        owners[key] = partner
    since = positions(world)
    world.sync(2)
    created = writes(world, since)
    by_partner = {p: sum(1 for o in owners.values() if o == p) for p in (PARTNER_A, PARTNER_B)}
    # One create on the vendor per deal; one write back per deal (the registration status the
    # partner sees), nothing else.
    assert created == {VENDOR: creates, **by_partner}

    edits = min(N - creates, creates)
    expected = {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    keys = sorted(owners)
    for n in range(edits):
        key = keys[n % len(keys)]
        partner = owners[key]
        if rng.random() < 0.5:
            user = world.partner_a if partner == PARTNER_A else world.partner_b
            record = user.by_key(key)
            assert record is not None
            wire = world.engine.hub.facts[partner].mapping.outbound(
                {"amount": canonical_value("amount", str(5000 + n))}
            )
            user.update(str(record[world.runtimes[partner].mapping.keys.remote_id]), **wire)
            expected[VENDOR] += 1
        else:
            record = world.vendor.by_key(key)
            assert record is not None
            world.vendor.update(str(record["Id"]), CloseDate=f"2027-01-{1 + n % 28:02d}")
            expected[partner] += 1
    since = positions(world)
    world.sync(2)
    edited = writes(world, since)
    # Each deal was edited once, on one side: one write on the other side, none back.
    assert edited == expected
    before_idle = _hub_state(world)

    since = positions(world)
    reports = world.sync(IDLE_CYCLES)
    idle = writes(world, since)
    print(f"{N} changes synced; {IDLE_CYCLES} idle cycles wrote {sum(idle.values())} records")
    assert idle == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    assert all(r.status.value == "ok" and r.written == 0 and r.updated == 0 for r in reports)
    assert _hub_state(world) == before_idle
