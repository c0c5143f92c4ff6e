"""Pages are fetched one ahead on a worker thread, handed over in order, errors where they fell."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from channel_sync.sync.read_ahead import ReadAhead


class Pages:
    """A page iterator that records which thread advanced and closed it."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.fetched: list[int] = []
        self.threads: set[str] = set()
        self.closed_on: str | None = None

    def run(self) -> Iterator[int]:
        try:
            for n in range(self.count):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    msg = f"page {n} could not be read"
                    raise RuntimeError(msg)
                self.fetched.append(n)
                yield n
        finally:
            self.closed_on = threading.current_thread().name


def test_pages_arrive_in_order_and_all_of_them() -> None:
    pages = Pages(25)
    with ReadAhead(pages.run()) as ahead:
        assert list(ahead) == list(range(25))
    assert pages.fetched == list(range(25))


def test_no_pages_is_an_empty_iteration() -> None:
    with ReadAhead(iter(())) as ahead:
        assert list(ahead) == []
        assert list(ahead) == []  # stays exhausted


def test_the_next_page_is_fetched_while_the_caller_works_on_this_one() -> None:
    second_fetched = threading.Event()

    def run() -> Iterator[int]:
        yield 1
        second_fetched.set()
        yield 2

    with ReadAhead(run()) as ahead:
        first = next(ahead)
        # The caller has not asked for page 2 yet; the worker fetches it anyway.
        assert second_fetched.wait(timeout=5)
        assert first == 1
        assert list(ahead) == [2]


def test_pages_are_fetched_and_closed_on_the_worker_thread_only() -> None:
    pages = Pages(5)
    with ReadAhead(pages.run(), name="page-reader") as ahead:
        list(ahead)
    caller = threading.current_thread().name
    assert caller not in pages.threads
    assert all(name.startswith("page-reader") for name in pages.threads)
    assert pages.closed_on is not None
    assert pages.closed_on.startswith("page-reader")


def test_a_fetch_error_reaches_the_caller_after_the_pages_before_it() -> None:
    pages = Pages(10, fail_at=3)
    got: list[int] = []
    with ReadAhead(pages.run()) as ahead, pytest.raises(RuntimeError, match="page 3"):
        got.extend(ahead)
    assert got == [0, 1, 2]


def test_an_interrupt_while_fetching_is_raised_in_the_caller() -> None:
    def run() -> Iterator[int]:
        yield 1
        raise KeyboardInterrupt

    with ReadAhead(run()) as ahead:
        assert next(ahead) == 1
        with pytest.raises(KeyboardInterrupt):
            next(ahead)


def test_stopping_early_waits_for_the_fetch_in_hand_and_closes_the_pages() -> None:
    pages = Pages(100)
    with ReadAhead(pages.run()) as ahead:
        assert next(ahead) == 0
        assert next(ahead) == 1
    # Page 2 was being fetched when the caller stopped: fetched, dropped, nothing further.
    assert pages.fetched == [0, 1, 2]
    assert pages.closed_on is not None


def test_an_error_in_the_callers_work_still_closes_the_pages() -> None:
    pages = Pages(100)

    def merge_until_four() -> None:
        with ReadAhead(pages.run()) as ahead:
            for page in ahead:
                if page == 4:
                    msg = "merge failed"
                    raise ValueError(msg)

    with pytest.raises(ValueError, match="merge failed"):
        merge_until_four()
    assert pages.fetched == [0, 1, 2, 3, 4, 5]
    assert pages.closed_on is not None


def test_an_error_in_the_dropped_fetch_is_not_raised_on_close() -> None:
    pages = Pages(10, fail_at=1)
    with ReadAhead(pages.run()) as ahead:
        assert next(ahead) == 0
    assert pages.fetched == [0]
