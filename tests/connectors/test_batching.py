from __future__ import annotations

from collections.abc import Sequence

from channel_sync.connectors.batching import settle
from channel_sync.connectors.protocol import Upsert, WriteResult
from channel_sync.connectors.retry import RetryPolicy
from channel_sync.errors import RecordError, RetriableError

POLICY = RetryPolicy(max_attempts=2, initial_backoff_s=0.0, max_backoff_s=0.0)


def test_a_round_failing_whole_keeps_what_earlier_rounds_learned() -> None:
    ops = [Upsert("ok", {}), Upsert("bad", {}), Upsert("locked", {})]
    sent: list[list[str]] = []

    def send(batch: Sequence[Upsert]) -> list[WriteResult]:
        sent.append([op.key for op in batch])
        if len(sent) > 1:
            raise RetriableError("read timed out")
        return [
            WriteResult("ok", remote_id="1"),
            WriteResult("bad", error=RecordError("INVALID_OPTION")),
            WriteResult("locked", error=RetriableError("UNABLE_TO_LOCK_ROW")),
        ]

    results = settle(ops, send, policy=POLICY, attempts=3, sleep=lambda _: None)
    assert sent == [["ok", "bad", "locked"], ["locked"]]  # refused and written: never resent
    assert [r.key for r in results] == ["ok", "bad", "locked"]
    assert results[0].ok
    assert not results[1].ok
    assert not results[1].retriable
    assert results[2].retriable
    assert "timed out" in str(results[2].error)
