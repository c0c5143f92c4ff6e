"""Conformance: incremental reads (cursors, pages, ties, resumption, changes mid-read)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from channel_sync.connectors.cursor import Cursor
from channel_sync.connectors.protocol import Page, Upsert
from channel_sync.testing.harness import ConformanceHarness


def read_all(h: ConformanceHarness, cursor: Cursor | None = None) -> list[Page]:
    """One whole read, once the changes made so far are old enough to be read."""
    ready(h)
    return list(h.connector.read_changes(h.object_name, cursor))


def ready(h: ConformanceHarness) -> None:
    if h.read_delay > timedelta(0):
        h.clock.advance(h.read_delay + timedelta(seconds=1))


def keys_of(pages: Iterable[Page], key_field: str) -> list[str]:
    return [str(r.get(key_field)) for p in pages for r in p.records if r.get(key_field)]


def write_ok(h: ConformanceHarness, ops: list[Upsert]) -> None:
    results = h.connector.write_batch(h.object_name, ops)
    failed = [(r.key, str(r.error)) for r in results if not r.ok]
    assert not failed, f"writes refused: {failed[:5]}"


def settle_time(h: ConformanceHarness) -> None:
    """Let the clock move past the look-back so later reads start exactly at the mark."""
    h.clock.advance(timedelta(minutes=30))


class ReadConformance:
    """Reads: every change exactly once, whatever the page and tie boundaries."""

    def test_check_and_describe(self, harness: ConformanceHarness) -> None:
        report = harness.connector.check()
        assert harness.object_name in report.objects
        description = harness.connector.describe(harness.object_name)
        assert harness.key_field in description.fields

    def test_pages_cross_boundaries_without_loss_or_repeats(
        self, harness: ConformanceHarness
    ) -> None:
        h = harness
        baseline = read_all(h)
        start = baseline[-1].cursor if baseline else None
        keys = [f"conf-pages-{n:04d}" for n in range(int(h.page_size * 2.5))]
        for n in range(0, len(keys), 50):  # many writes, so modstamps spread over time
            write_ok(h, h.upserts(keys[n : n + 50], offset=n))
        pages = read_all(h, start)
        delivered = keys_of(pages, h.key_field)
        assert sorted(delivered) == sorted(keys)
        assert sum(1 for p in pages if p.records) >= 2, "the read never crossed a page"
        positions = [p.cursor.position for p in pages]
        assert positions == sorted(positions), "a cursor moved backwards"
        settle_time(h)
        again = read_all(h, pages[-1].cursor)
        assert keys_of(again, h.key_field) == [], "records were delivered twice"

    def test_resume_from_any_page_cursor(self, harness: ConformanceHarness) -> None:
        h = harness
        keys = [f"conf-resume-{n:04d}" for n in range(int(h.page_size * 2.5))]
        for n in range(0, len(keys), 50):
            write_ok(h, h.upserts(keys[n : n + 50], offset=n))
        pages = [p for p in read_all(h) if p.records]
        assert len(pages) >= 2
        for index in sorted({0, len(pages) // 2, len(pages) - 1}):
            stored = Cursor.from_json(pages[index].cursor.to_json())
            resumed = keys_of(read_all(h, stored), h.key_field)
            expected = keys_of(pages[index + 1 :], h.key_field)
            assert sorted(resumed) == sorted(expected), f"resuming after page {index}"

    def test_a_tie_run_straddling_pages_is_never_split(self, harness: ConformanceHarness) -> None:
        h = harness
        before = read_all(h)
        start = before[-1].cursor if before else None
        keys = [f"conf-tie-{n:04d}" for n in range(int(h.page_size * 2.5))]
        with h.clock.frozen():
            for n in range(0, len(keys), 100):
                write_ok(h, h.upserts(keys[n : n + 100], offset=n))
        pages = read_all(h, start)
        delivered = keys_of(pages, h.key_field)
        assert sorted(delivered) == sorted(keys)
        with_tie = [p for p in pages if any(str(r.get(h.key_field)) in keys for r in p.records)]
        assert len(with_tie) == 1, "a run of equal modstamps was split across pages"
        # Resuming from the page before the run (a crash mid-run) still yields the whole run.
        resumed = keys_of(read_all(h, start), h.key_field)
        assert sorted(resumed) == sorted(keys)

    def test_changes_during_a_read_are_not_lost(self, harness: ConformanceHarness) -> None:
        h = harness
        keys = [f"conf-live-{n:04d}" for n in range(int(h.page_size * 2.5))]
        for n in range(0, len(keys), 50):
            write_ok(h, h.upserts(keys[n : n + 50], offset=n))
        versions: list[tuple[str, Any]] = []
        cursor: Cursor | None = None
        changed = [keys[0], keys[len(keys) // 2], keys[-1]]
        ready(h)
        for index, page in enumerate(h.connector.read_changes(h.object_name, None)):
            versions += _versions(h, page)
            cursor = page.cursor
            if index == 0:
                write_ok(h, h.upserts(changed, offset=10_000))
        settle_time(h)
        for page in read_all(h, cursor):
            versions += _versions(h, page)
        assert len(versions) == len(set(versions)), "a version was delivered twice"
        latest = dict(versions)
        assert set(keys) <= set(latest)
        current = h.connector.read_by_keys(h.object_name, changed)
        for key in changed:
            assert latest[key] == _modstamp(h, current[key]), f"the change to {key} was missed"


def _modstamp(h: ConformanceHarness, record: dict[str, Any]) -> Any:
    return record.get(h.modstamp_field)


def _versions(h: ConformanceHarness, page: Page) -> list[tuple[str, Any]]:
    return [(str(r.get(h.key_field)), _modstamp(h, r)) for r in page.records if r.get(h.key_field)]
