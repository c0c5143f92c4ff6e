"""Fetching a connection's next page of changes while the current one is merged.

A page's merge is CPU and store work; its fetch is mostly waiting on the CRM. One worker thread
advances the connector's page iterator one page ahead, so the wait for page k+1 overlaps the
merge of page k. Nothing else changes: pages arrive in order, a page's cursor still moves only
with its own transaction, and an error the connector raises while fetching a page reaches the
caller where that page would have been handed over.

The iterator is only ever advanced (and finally closed) on the worker thread, one call at a
time, so connectors need not be thread-safe. When the caller stops early, the fetch already
under way is waited for and its result dropped; the next cycle reads the same changes again
from the committed cursor.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


def _advance(pages: Iterator[T]) -> T | object:
    return next(pages, _END)


class ReadAhead(Generic[T]):
    """Iterate ``pages`` with the next item already being fetched; use as a context manager
    (leaving it waits for the fetch in hand and closes ``pages``)."""

    def __init__(self, pages: Iterator[T], *, name: str = "channel-sync-read") -> None:
        self._pages = pages
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: Future[T | object] | None = self._pool.submit(_advance, pages)

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._pending is None:
            raise StopIteration
        item = self._pending.result()  # a fetch error is raised here, in the caller's thread
        if item is _END:
            self._pending = None
            raise StopIteration
        self._pending = self._pool.submit(_advance, self._pages)
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Wait for the fetch in hand (its result or error is dropped), close the iterator on
        the worker thread, and stop the worker."""
        pending, self._pending = self._pending, None
        try:
            if pending is not None:
                pending.exception()  # wait; the caller no longer wants this page
            if isinstance(self._pages, Generator):
                self._pool.submit(self._pages.close).result()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
