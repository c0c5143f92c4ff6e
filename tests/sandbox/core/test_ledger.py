from __future__ import annotations

import threading
from datetime import UTC, datetime

from channel_sync.sandbox.core import Ledger

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add(ledger: Ledger, *, counts: bool = True, status: int = 200) -> int:
    return ledger.append(
        time=T0, method="get", path="/x", status=status, counts_against_allowance=counts
    ).seq


def test_entries_are_numbered_and_serialised() -> None:
    ledger = Ledger()
    entry = ledger.append(
        time=T0,
        method="post",
        path="/services/data/v59.0/sobjects/Opportunity",
        query="a=1",
        status=201,
        records_read=0,
        records_written=1,
        duration_ms=1.23456,
        fault="f-1",
    )
    assert entry.seq == 1
    assert entry.to_json() == {
        "seq": 1,
        "time": "2026-03-01T12:00:00+00:00",
        "method": "POST",
        "path": "/services/data/v59.0/sobjects/Opportunity",
        "query": "a=1",
        "status": 201,
        "records_read": 0,
        "records_written": 1,
        "counts_against_allowance": True,
        "duration_ms": 1.235,
        "fault": "f-1",
    }


def test_since_returns_only_newer_entries() -> None:
    ledger = Ledger()
    seqs = [add(ledger) for _ in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [e.seq for e in ledger.entries(3)] == [4, 5]
    assert [e.seq for e in ledger.entries(0)] == seqs
    assert ledger.entries(5) == []


def test_api_calls_count_only_billable_entries() -> None:
    ledger = Ledger()
    add(ledger)
    add(ledger, counts=False, status=401)
    add(ledger)
    assert ledger.api_calls() == 2
    assert len(ledger) == 3


def test_clear_keeps_sequence_numbers_growing() -> None:
    ledger = Ledger()
    add(ledger)
    add(ledger)
    ledger.clear()
    assert ledger.entries() == []
    assert ledger.api_calls() == 0
    assert add(ledger) == 3
    assert ledger.last_seq() == 3


def test_concurrent_appends_get_distinct_numbers() -> None:
    ledger = Ledger()

    def work() -> None:
        for _ in range(500):
            add(ledger)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [e.seq for e in ledger.entries()]
    assert seqs == list(range(1, 2001))
