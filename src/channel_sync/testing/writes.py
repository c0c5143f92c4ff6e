"""Conformance: writes (idempotent replay, per-record results, locks, deletes, round trips)."""

from __future__ import annotations

from typing import Any

import pytest

from channel_sync.connectors.protocol import Delete, Upsert
from channel_sync.errors import RecordError
from channel_sync.testing.harness import ConformanceHarness
from channel_sync.testing.reads import read_all, write_ok


def _copies(h: ConformanceHarness, keys: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(keys, 0)
    for row in h.snapshot():
        key = row.get(h.key_field)
        if key is None and isinstance(row.get("properties"), dict):
            key = row["properties"].get(h.key_field)
        if key in counts and not _deleted(row):
            counts[key] += 1
    return counts


def _deleted(row: dict[str, Any]) -> bool:
    return bool(row.get("IsDeleted") or row.get("archived"))


class WriteConformance:
    """Writes: upserts on the canonical id, so nothing is ever duplicated."""

    def test_replayed_write_batch_is_idempotent(self, harness: ConformanceHarness) -> None:
        h = harness
        keys = [f"conf-replay-{n:04d}" for n in range(250)]
        ops = h.upserts(keys)
        first = h.connector.write_batch(h.object_name, ops)
        second = h.connector.write_batch(h.object_name, ops)
        assert [r.key for r in first] == keys
        assert [r.key for r in second] == keys
        assert all(r.ok for r in first + second)
        assert [r.remote_id for r in first] == [r.remote_id for r in second]
        assert all(r.created is not False for r in first)
        assert all(r.created is not True for r in second)
        assert set(_copies(h, keys).values()) == {1}

    def test_partial_failure_reports_each_record(self, harness: ConformanceHarness) -> None:
        h = harness
        keys = [f"conf-partial-{n:03d}" for n in range(33)]
        bad = {keys[0], keys[15], keys[32]}
        ops = [
            Upsert(k, dict(h.invalid_fields) if k in bad else dict(h.make_fields(n)))
            for n, k in enumerate(keys)
        ]
        results = h.connector.write_batch(h.object_name, ops)
        assert [r.key for r in results] == keys
        for result in results:
            if result.key in bad:
                assert isinstance(result.error, RecordError), result
                assert not result.retriable
            else:
                assert result.ok, result
        found = h.connector.read_by_keys(h.object_name, keys)
        assert set(found) == set(keys) - bad

    def test_locked_records_fail_retriably_then_land_once(
        self, harness: ConformanceHarness
    ) -> None:
        h = harness
        keys = [f"conf-lock-{n:03d}" for n in range(20)]
        write_ok(h, h.upserts(keys))
        locked = [keys[2], keys[9], keys[17]]
        h.faults(locked_records=locked)
        results = h.connector.write_batch(h.object_name, h.upserts(keys, offset=500))
        assert [r.key for r in results if not r.ok] == locked
        assert all(r.retriable for r in results if not r.ok)
        h.faults(unlocked_records=locked)
        retry = [op for op in h.upserts(keys, offset=500) if op.key in locked]
        assert all(r.ok for r in h.connector.write_batch(h.object_name, retry))
        assert set(_copies(h, keys).values()) == {1}

    def test_deletes_are_applied_and_reported(self, harness: ConformanceHarness) -> None:
        h = harness
        start = read_all(h)
        cursor = start[-1].cursor if start else None
        keys = [f"conf-del-{n}" for n in range(5)]
        created = h.connector.write_batch(h.object_name, h.upserts(keys))
        doomed = [Delete(keys[0], remote_id=created[0].remote_id), Delete(keys[1])]
        results = h.connector.write_batch(h.object_name, [*doomed, Delete("conf-del-none")])
        assert all(r.ok for r in results)
        assert set(h.connector.read_by_keys(h.object_name, keys)) == set(keys[2:])
        deleted = {d.key for p in read_all(h, cursor) for d in p.deletions}
        assert {keys[0], keys[1]} <= deleted

    def test_mapped_fields_round_trip_losslessly(self, harness: ConformanceHarness) -> None:
        h = harness
        mapping = h.mapping
        if mapping is None:
            pytest.skip("no mapping configured for this connector's conformance run")
        from channel_sync.mapping.flat import canonical_value  # noqa: PLC0415

        both = [
            c.canonical
            for c in mapping.fields
            if c.canonical and c.remote and c.direction.reads and c.direction.writes
        ]
        external = mapping.keys.external_id
        checked = 0
        for n, example in enumerate(mapping.spec.examples):
            if example.direction.reads:
                canonical = mapping.inbound(example.remote)
            else:
                canonical = {p: canonical_value(p, v) for p, v in example.canonical.items()}
            canonical.pop("id", None)
            fields = {**h.make_fields(n), **mapping.outbound(canonical)}
            fields.pop(external, None)
            key = f"conf-map-{n}"
            write_ok(h, [Upsert(key, fields)])
            back = mapping.inbound(h.connector.read_by_keys(h.object_name, [key])[key])
            for path in both:
                if path in canonical:
                    assert back.get(path) == canonical[path], (example.name, path)
                    checked += 1
        assert checked > 0, "no field mapped both ways was exercised"
