"""A sync's writes through a storm of faults: every record lands exactly once.

Faults (seeded, reproducible): 429 with Retry-After, 503s, a hung request, answers lost after
the write committed, row locks on chosen records, an access token expiring mid-run (where the
connector can refresh), and records the CRM refuses for good. The loop below plays the engine's
outbox: it re-queues only retriable failures. Size: CHANNEL_SYNC_FAULT_N; seed:
CHANNEL_SYNC_FAULT_SEED (printed either way).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any

import pytest

from channel_sync.connectors.protocol import Upsert
from channel_sync.errors import RetriableError
from channel_sync.testing import ConformanceHarness
from channel_sync.testing.ledger import early_retries

FAULT_N = int(os.environ.get("CHANNEL_SYNC_FAULT_N", "300"))
BATCH = 60


def seed() -> int:
    raw = os.environ.get("CHANNEL_SYNC_FAULT_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(1, 2**31)


def _spy_on_sends(harness: ConformanceHarness) -> list[str]:
    """Records every key sent again after the CRM refused it for good (must stay empty)."""
    resent: list[str] = []
    refused: set[str] = set()
    writer: Any = getattr(harness.connector, "writer")  # noqa: B009 - both connectors have one
    original = writer.upsert

    def upsert(*args: Any) -> Any:
        ops = args[-1]
        resent.extend(op.key for op in ops if op.key in refused)
        results = original(*args)
        refused.update(r.key for r in results if not r.ok and not r.retriable)
        return results

    writer.upsert = upsert
    return resent


@pytest.mark.parametrize("which", ["sf_harness", "hs_harness"])
def test_every_record_lands_exactly_once_through_faults(
    which: str, request: pytest.FixtureRequest
) -> None:
    run_seed = seed()
    print(f"fault run: connector={which} n={FAULT_N} seed={run_seed}")
    rng = random.Random(run_seed)
    h: ConformanceHarness = request.getfixturevalue(which)
    h.connector = request.getfixturevalue(f"{which}_fast")
    keys = [f"fault-{n:05d}" for n in range(FAULT_N)]
    invalid = set(rng.sample(keys, 3))
    valid = [k for k in keys if k not in invalid]
    locked = rng.sample(valid, 5)
    ops = {
        k: Upsert(k, dict(h.invalid_fields) if k in invalid else dict(h.make_fields(n)))
        for n, k in enumerate(keys)
    }
    batches = -(-FAULT_N // BATCH)
    after = [rng.randrange(batches) for _ in range(4)]
    rules: list[dict[str, Any]] = [
        {"id": "ra", "status": 429, "headers": {"Retry-After": "1"}, "after": after[0]},
        {"id": "unavailable", "status": 503, "count": 2, "after": after[1]},
        {"id": "lost", "drop_response": True, "count": 2, "after": after[2]},
        {"id": "hang", "timeout": True, "after": after[3]},
    ]
    h.connector.check()
    seq = h.last_seq()
    resent = _spy_on_sends(h)
    h.faults(rules=[{**r, "path": h.paths.write} for r in rules], locked_records=locked)

    pending = [ops[k] for k in keys]
    landed: set[str] = set()
    refused: set[str] = set()
    for round_no in range(12):
        if not pending:
            break
        queue, pending = pending, []
        for start in range(0, len(queue), BATCH):
            batch = queue[start : start + BATCH]
            try:
                results = h.connector.write_batch(h.object_name, batch)
            except RetriableError:
                pending += batch  # the whole call failed after its retries: re-queue it all
                continue
            for op, result in zip(batch, results, strict=True):
                if result.ok:
                    landed.add(op.key)
                elif result.retriable:
                    pending.append(op)
                else:
                    refused.add(op.key)
        if round_no == 0:
            h.faults(unlocked_records=locked)
            if h.refreshable:
                h.faults(expire_tokens=True)

    assert landed == set(valid), f"seed {run_seed}: not every record landed"
    assert refused == invalid
    copies = Counter(_key(h, row) for row in h.snapshot())
    assert all(copies[k] == 1 for k in valid), f"seed {run_seed}: duplicates or losses"
    assert all(copies[k] == 0 for k in invalid)
    assert resent == [], "a record refused for good was sent again"
    calls = h.calls(seq)
    fired = {c.fault for c in calls if c.fault}
    assert {"ra", "unavailable", "lost", "hang"} <= fired, fired
    assert early_retries(calls, lambda c: 1.0 if c.fault == "ra" else None) == []


def _key(h: ConformanceHarness, row: dict[str, Any]) -> Any:
    props = row.get("properties")
    if isinstance(props, dict):
        return props.get(h.key_field)
    return None if row.get("IsDeleted") else row.get(h.key_field)
