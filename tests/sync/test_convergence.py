"""Randomized edits on both sides against an oracle: every true conflict found, no false one.

Each round, every deal gets random edits on the partner side, the vendor side, both with the
same value, or both with different values, field by field. The oracle knows which fields must
be under review (shared fields changed differently on both sides), which an authority decides
(the partner owns the description), and what both CRMs must hold once conflicts are decided.

Size: ``CHANNEL_SYNC_CONVERGE_ROUNDS`` rounds (default 4) over 4 deals; seed from
``CHANNEL_SYNC_SEED`` (printed).
"""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from channel_sync.mapping import canonical_value
from sync.world import PARTNER_A, PARTNER_B, VENDOR, World, positions, writes

ROUNDS = int(os.environ.get("CHANNEL_SYNC_CONVERGE_ROUNDS", "4"))
SEED = int(os.environ.get("CHANNEL_SYNC_SEED", random.SystemRandom().randrange(2**32)))
REVIEW = ("amount", "target_close_date")
PARTNER_OWNED = ("description",)


def _value(rng: random.Random, path: str) -> Any:
    if path == "amount":
        return Decimal(rng.randrange(1, 10_000))
    if path == "target_close_date":
        return date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    return f"note {rng.randrange(10**6)}"


class Deal:
    def __init__(self, world: World, partner: str, key: str) -> None:
        self.world, self.partner, self.key = world, partner, key
        self.oracle: dict[str, Any] = {
            "amount": Decimal(100), "target_close_date": date(2026, 6, 30), "description": "new",
        }

    def user(self, side: str) -> Any:
        if side == VENDOR:
            return self.world.vendor
        return self.world.partner_a if self.partner == PARTNER_A else self.world.partner_b

    def create(self) -> None:
        facts = self.world.engine.hub.facts[self.partner]
        wire = facts.mapping.outbound({"name": f"Converge {self.key}", **self.oracle})
        scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
        key_field = facts.mapping.keys.external_id
        self.user(self.partner).create(**{**wire, **scope, key_field: self.key})

    def edit(self, side: str, values: dict[str, Any]) -> None:
        connection = VENDOR if side == VENDOR else self.partner
        mapping = self.world.runtimes[connection].mapping
        record = self.user(connection).by_key(self.key)
        assert record is not None
        remote_id = str(record[mapping.keys.remote_id])
        self.user(connection).update(remote_id, **mapping.outbound(values))

    def holds(self, connection: str) -> dict[str, Any]:
        record = self.user(connection).by_key(self.key)
        assert record is not None
        values = self.world.engine.hub.facts[connection].inbound(record)
        return {p: values.get(p) for p in self.oracle}


def test_random_edits_converge_with_exactly_the_true_conflicts(world: World) -> None:
    print(f"seed={SEED} rounds={ROUNDS}")
    rng = random.Random(SEED)
    deals = [Deal(world, PARTNER_A if n % 2 == 0 else PARTNER_B, f"cs_conv_{n}_{SEED % 10**6}")
             for n in range(4)]
    for deal in deals:
        deal.create()
    world.sync(2)
    detected = expected_total = false = 0
    for _ in range(ROUNDS):
        expected: set[tuple[str, str]] = set()
        for deal in deals:
            partner_edit: dict[str, Any] = {}
            vendor_edit: dict[str, Any] = {}
            for path in (*REVIEW, *PARTNER_OWNED):
                roll = rng.random()
                if roll < 0.4:
                    continue
                if roll < 0.6:
                    partner_edit[path] = deal.oracle[path] = _value(rng, path)
                elif roll < 0.8:
                    vendor_edit[path] = deal.oracle[path] = _value(rng, path)
                elif roll < 0.9:
                    partner_edit[path] = vendor_edit[path] = deal.oracle[path] = _value(rng, path)
                else:
                    partner_edit[path] = _value(rng, path)
                    vendor_edit[path] = _value(rng, path)
                    while vendor_edit[path] == partner_edit[path]:
                        vendor_edit[path] = _value(rng, path)
                    if path in REVIEW:
                        expected.add((deal.key, path))
                        deal.oracle[path] = vendor_edit[path]  # decided below: take vendor
                    else:
                        deal.oracle[path] = partner_edit[path]  # the partner's authority
            if partner_edit:
                deal.edit(deal.partner, partner_edit)
            if vendor_edit:
                deal.edit(VENDOR, vendor_edit)
        world.sync(2)
        with world.store.read() as tx:
            found = {(c.canonical_id, c.field): c.id for c in tx.conflicts.list_open(limit=1000)}
        detected += len(set(found) & expected)
        expected_total += len(expected)
        false += len(set(found) - expected)
        assert set(found) == expected
        for conflict_id in found.values():
            world.engine.resolve_conflict(conflict_id, "vendor", actor="oracle")
        world.sync(2)
        for deal in deals:
            for connection in (VENDOR, deal.partner):
                holds = deal.holds(connection)
                want = {p: canonical_value(p, v) for p, v in deal.oracle.items()}
                assert holds == want, (connection, deal.key)
    since = positions(world)
    world.sync(3)
    assert writes(world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
    print(f"conflicts detected {detected} of {expected_total} expected; false conflicts {false}")
