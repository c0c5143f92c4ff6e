"""Conformance: faults (classification, Retry-After, lost answers, timeouts, tokens, limits)."""

from __future__ import annotations

import pytest

from channel_sync.errors import (
    AuthError,
    BudgetExhaustedError,
    ChannelSyncError,
    RetriableError,
)
from channel_sync.testing.harness import ConformanceHarness
from channel_sync.testing.ledger import early_retries, most_in_window, refused_for_limits
from channel_sync.testing.reads import read_all, write_ok

STATUSES = (400, 401, 403, 404, 409, 423, 429, 500, 502, 503, 504)


class FaultConformance:
    """Faults: every failure classified, retried only when that can help, limits respected."""

    @pytest.mark.parametrize("status", STATUSES)
    def test_every_injected_status_is_classified(
        self, harness: ConformanceHarness, status: int
    ) -> None:
        h = harness
        h.connector.check()
        seq = h.last_seq()
        h.faults(
            rules=[{"id": f"st{status}", "path": h.paths.read, "status": status, "count": None}]
        )
        with pytest.raises(ChannelSyncError) as caught:
            read_all(h)
        h.clear_faults()
        hits = [c for c in h.calls(seq) if c.fault == f"st{status}"]
        error = caught.value
        if isinstance(error, RetriableError):
            assert 1 <= len(hits) <= h.max_attempts
        elif isinstance(error, AuthError):
            assert 1 <= len(hits) <= 2, "a refused token may be replaced once, no more"
        else:
            assert len(hits) == 1, f"{type(error).__name__} was retried"

    def test_retry_after_is_honoured(self, harness: ConformanceHarness) -> None:
        h = harness
        h.connector.check()
        seq = h.last_seq()
        rule = {"id": "slow-down", "path": h.paths.read, "status": 429, "count": 1}
        h.faults(rules=[{**rule, "headers": {"Retry-After": "1"}}])
        read_all(h)
        calls = h.calls(seq)
        assert any(c.fault == "slow-down" for c in calls)
        assert early_retries(calls, lambda c: 1.0 if c.fault == "slow-down" else None) == []

    def test_a_lost_answer_to_a_write_lands_exactly_once(self, harness: ConformanceHarness) -> None:
        h = harness
        keys = [f"conf-drop-{n:03d}" for n in range(40)]
        h.connector.check()
        h.faults(rules=[{"id": "drop", "path": h.paths.write, "drop_response": True, "count": 1}])
        write_ok(h, h.upserts(keys))
        found = h.connector.read_by_keys(h.object_name, keys)
        assert set(found) == set(keys)
        rows = [r for r in h.snapshot() if _key(h, r) in set(keys)]
        assert len(rows) == len(keys), "a retried write created a duplicate"

    def test_a_hung_request_times_out_and_is_retried(self, harness: ConformanceHarness) -> None:
        h = harness
        h.connector.check()
        write_ok(h, h.upserts(["conf-hang-1"]))
        h.faults(rules=[{"id": "hang", "path": h.paths.read, "timeout": True, "count": 1}])
        pages = read_all(h)
        assert any(r.get(h.key_field) == "conf-hang-1" for p in pages for r in p.records)

    def test_token_expiry_mid_run(self, harness: ConformanceHarness) -> None:
        h = harness
        write_ok(h, h.upserts(["conf-token-1"]))
        seq = h.last_seq()
        h.faults(expire_tokens=True)
        if h.refreshable:
            write_ok(h, h.upserts(["conf-token-2"]))
            assert h.paths.token is not None
            refreshes = [c for c in h.calls(seq) if _matches(h.paths.token, c.path)]
            assert len(refreshes) == 1
        else:
            with pytest.raises(AuthError):
                h.connector.write_batch(h.object_name, h.upserts(["conf-token-2"]))
            refused = [c for c in h.calls(seq) if c.status == 401]
            assert len(refused) == 1, "a static token that was refused is not retried"

    def test_an_exhausted_allowance_parks_the_connection(self, harness: ConformanceHarness) -> None:
        h = harness
        h.connector.check()
        h.faults(daily_limit=h.used_allowance() + 2)
        with pytest.raises(BudgetExhaustedError):
            _write_until_refused(h, 6)
        seq = h.last_seq()
        with pytest.raises(BudgetExhaustedError):
            read_all(h)
        assert h.calls(seq) == [], "a parked connection still called the API"

    def test_limits_are_never_exceeded(self, harness: ConformanceHarness) -> None:
        h = harness
        limits = h.limits
        if limits.burst is not None:
            seconds = limits.burst_window.total_seconds()
            h.faults(burst_limit=limits.burst, burst_window_s=seconds)
        seq = h.last_seq()
        keys = [f"conf-limits-{n:04d}" for n in range(int(h.page_size * 2))]
        for n in range(0, len(keys), 20):
            write_ok(h, h.upserts(keys[n : n + 20], offset=n))
        for _ in range(3):
            read_all(h)
        calls = [c for c in h.calls(seq) if c.counts]
        assert refused_for_limits(calls) == []
        if limits.burst is not None:
            bursty = [c for c in calls if not _matches(limits.burst_exempt, c.path)]
            assert most_in_window(bursty, limits.burst_window) <= limits.burst
        for pattern, (count, window) in limits.per_path.items():
            matching = [c for c in calls if _matches(pattern, c.path)]
            assert most_in_window(matching, window) <= count, pattern


def _write_until_refused(h: ConformanceHarness, attempts: int) -> None:
    for n in range(attempts):
        write_ok(h, h.upserts([f"conf-budget-{n}"]))


def _matches(pattern: str | None, path: str) -> bool:
    import re  # noqa: PLC0415

    return pattern is not None and re.search(pattern, path) is not None


def _key(h: ConformanceHarness, row: dict[str, object]) -> object:
    props = row.get("properties")
    if isinstance(props, dict) and h.key_field in props:
        return props[h.key_field]
    return row.get(h.key_field)
