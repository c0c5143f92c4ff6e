"""Pausing Python's cyclic garbage collector while one page or batch is worked on.

Everything a page builds (the remote records, the merged deals, their flat views, decisions,
audit events, the writes held for the batch) stays alive until the page's transaction commits.
Left running, the collector's young generations fill with those objects every few hundred
allocations, promote them, and trigger full collections that walk them again and again: at
10,000 changed deals a side that was about a sixth of the cycle. Paused for the page, the
collector runs once the page is done, when most of it is already freed by reference counting.
The pause is bounded by one page (a few thousand deals at most), so memory can not run away.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; re-enable it after only if it was enabled
    (another thread's page, or the embedding application, may have it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
