"""The call ledger: one entry per API request an emulated CRM answered.

Tests and benchmarks judge the sync engine by how many calls it makes and what each call did,
so every request is recorded with the numbers a real CRM would bill or log.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    time: datetime
    method: str
    path: str
    query: str
    status: int
    records_read: int
    records_written: int
    counts_against_allowance: bool
    duration_ms: float
    fault: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "records_read": self.records_read,
            "records_written": self.records_written,
            "counts_against_allowance": self.counts_against_allowance,
            "duration_ms": round(self.duration_ms, 3),
            "fault": self.fault,
        }


class Ledger:
    """Append-only, thread-safe record of requests.

    Sequence numbers keep growing across :meth:`clear`, so a reader polling with ``since`` never
    sees an old number reused for a different request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._seq = 0

    def append(
        self,
        *,
        time: datetime,
        method: str,
        path: str,
        query: str = "",
        status: int,
        records_read: int = 0,
        records_written: int = 0,
        counts_against_allowance: bool = True,
        duration_ms: float = 0.0,
        fault: str | None = None,
    ) -> LedgerEntry:
        with self._lock:
            self._seq += 1
            entry = LedgerEntry(
                seq=self._seq,
                time=time,
                method=method.upper(),
                path=path,
                query=query,
                status=status,
                records_read=records_read,
                records_written=records_written,
                counts_against_allowance=counts_against_allowance,
                duration_ms=duration_ms,
                fault=fault,
            )
            self._entries.append(entry)
            return entry

    def entries(self, since: int = 0) -> list[LedgerEntry]:
        """Entries with a sequence number greater than ``since``, oldest first."""
        with self._lock:
            if since <= 0:
                return list(self._entries)
            # Sequence numbers are increasing, so the first newer entry can be bisected for.
            lo, hi = 0, len(self._entries)
            while lo < hi:
                mid = (lo + hi) // 2
                if self._entries[mid].seq <= since:
                    lo = mid + 1
                else:
                    hi = mid
            return self._entries[lo:]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def last_seq(self) -> int:
        """The sequence number of the newest entry ever appended (0 if none)."""
        with self._lock:
            return self._seq

    def api_calls(self) -> int:
        """Requests since the last clear that count against the API allowance."""
        with self._lock:
            return sum(1 for e in self._entries if e.counts_against_allowance)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
