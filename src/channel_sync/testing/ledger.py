"""Reading a sandbox call ledger: the evidence behind "limits never exceeded".

Ledger entries are what the emulated CRM saw: each request's arrival time, path, status and
duration. These helpers turn them into the figures conformance tests assert on.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Call:
    seq: int
    time: datetime
    method: str
    path: str
    status: int
    duration: timedelta
    counts: bool
    fault: str | None

    @property
    def answered(self) -> datetime:
        return self.time + self.duration

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Call:
        return cls(
            seq=int(entry["seq"]),
            time=datetime.fromisoformat(str(entry["time"])),
            method=str(entry["method"]),
            path=str(entry["path"]),
            status=int(entry["status"]),
            duration=timedelta(milliseconds=float(entry.get("duration_ms") or 0.0)),
            counts=bool(entry.get("counts_against_allowance", True)),
            fault=entry.get("fault"),
        )


def most_in_window(calls: Sequence[Call], window: timedelta) -> int:
    """The largest number of calls that arrived within any ``window``."""
    times = sorted(c.time for c in calls)
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def early_retries(
    calls: Sequence[Call], retry_after: Callable[[Call], float | None]
) -> list[tuple[Call, Call]]:
    """Pairs (refusal, next call) where the next call came before the refusal's Retry-After."""
    ordered = sorted(calls, key=lambda c: c.seq)
    early = []
    for refusal, following in itertools.pairwise(ordered):
        wait = retry_after(refusal)
        if wait is not None and following.time < refusal.answered + timedelta(seconds=wait):
            early.append((refusal, following))
    return early


def refused_for_limits(calls: Sequence[Call]) -> list[Call]:
    """Calls the CRM refused for a rate or allowance limit without a fault rule asking it to."""
    return [c for c in calls if c.fault is None and c.status in (429, 403)]


def settled(last_seq: Callable[[], int], *, quiet_s: float = 0.08, timeout_s: float = 5.0) -> int:
    """The ledger's last sequence number once it stops growing.

    A sandbox appends an entry after the response has left, so the client can be a step ahead
    of the ledger; reading it right after a call may miss that call.
    """
    deadline = time.monotonic() + timeout_s
    seen = last_seq()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = last_seq()
        if now == seen:
            return now
        seen = now
    return seen
