"""Batch writes: chunking, isolating a poison record, re-sending only what failed transiently.

Both CRMs accept batches that succeed or fail per record, but each also refuses a *whole* batch
for one bad record in some cases (a Salesforce JSON type error, a HubSpot invalid property
value). :func:`isolate` bisects such a batch until the offending records stand alone, so the
good records are written and only the bad ones are quarantined: at most ``ceil(log2 n) + 1``
rounds for one poison record. :func:`settle` re-sends records that failed with a retriable
per-record error (a row lock), never the ones that succeeded or failed for good.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from channel_sync.connectors.protocol import Delete, Upsert, WriteOp, WriteResult
from channel_sync.connectors.retry import RetryPolicy
from channel_sync.errors import ChannelSyncError, RateLimitedError, RecordError, RetriableError

T = TypeVar("T")

#: Sends one batch; returns one result per item in order, or raises for the whole batch.
SendBatch = Callable[[Sequence[T]], list[WriteResult]]


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def by_unique_key(ops: Sequence[tuple[int, Upsert]]) -> list[list[tuple[int, Upsert]]]:
    """Split indexed upserts into rounds in which no key appears twice.

    Both CRMs refuse a batch that names one external id twice; later operations on the same
    key go to later rounds, so they are applied in the order given.
    """
    rounds: list[list[tuple[int, Upsert]]] = []
    seen: list[set[str]] = []
    for item in ops:
        for keys, bucket in zip(seen, rounds, strict=True):
            if item[1].key not in keys:
                keys.add(item[1].key)
                bucket.append(item)
                break
        else:
            seen.append({item[1].key})
            rounds.append([item])
    return rounds


def isolate(
    items: Sequence[T],
    send: SendBatch[T],
    failed: Callable[[T, ChannelSyncError], WriteResult],
) -> list[WriteResult]:
    """Send ``items``; when the whole batch is refused for its data, bisect to the culprits.

    Only a batch-level :class:`RecordError` is bisected; any other error is the batch's own
    (auth, budget, a bug) and propagates unchanged.
    """
    try:
        return send(items)
    except RecordError as error:
        if len(items) == 1:
            return [failed(items[0], error)]
        middle = len(items) // 2
        return isolate(items[:middle], send, failed) + isolate(items[middle:], send, failed)


def settle(
    items: Sequence[Upsert],
    send_round: Callable[[Sequence[Upsert]], list[WriteResult]],
    *,
    policy: RetryPolicy,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> list[WriteResult]:
    """Send ``items``, then re-send only the ones that failed retriably, up to ``attempts`` rounds.

    Results are returned in input order; a record still failing after the last round keeps its
    (retriable) error so the engine re-queues it. A round that fails as a whole after its own
    retries (a timeout, a 5xx) gives its records that retriable error rather than raising, so the
    results already learned -- above all records refused for good -- are never lost and never
    sent again.
    """
    jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    results: list[WriteResult | None] = [None] * len(items)
    pending = list(range(len(items)))
    for round_no in range(1, max(1, attempts) + 1):
        try:
            answered = send_round([items[i] for i in pending])
        except RetriableError as error:
            for index in pending:
                results[index] = WriteResult(items[index].key, error=error)
            break
        retry: list[int] = []
        wait = 0.0
        for index, result in zip(pending, answered, strict=True):
            results[index] = result
            if result.retriable:
                retry.append(index)
                if isinstance(result.error, RateLimitedError) and result.error.retry_after:
                    wait = max(wait, result.error.retry_after)
        if not retry or round_no >= attempts:
            break
        sleep(max(wait, policy.backoff(round_no, jitter)))
        pending = retry
    return [r for r in results if r is not None]


def apply_ops(
    ops: Sequence[WriteOp],
    *,
    chunk_size: int,
    upsert: Callable[[Sequence[Upsert]], list[WriteResult]],
    delete: Callable[[Sequence[Delete]], list[WriteResult]],
    policy: RetryPolicy,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> list[WriteResult]:
    """Apply a connector's write operations; one result per operation, in input order.

    Upserts go in rounds with no key twice (so repeated keys apply in order), in chunks of
    ``chunk_size``, each settled (retriable per-record failures re-sent); deletes go last.
    """
    results: list[WriteResult | None] = [None] * len(ops)
    upserts = [(i, op) for i, op in enumerate(ops) if isinstance(op, Upsert)]
    for round_ops in by_unique_key(upserts):
        for chunk in chunked(round_ops, chunk_size):
            answered = settle(
                [op for _, op in chunk],
                upsert,
                policy=policy,
                attempts=attempts,
                sleep=sleep,
                rng=rng,
            )
            for (index, _), result in zip(chunk, answered, strict=True):
                results[index] = result
    deletes = [(i, op) for i, op in enumerate(ops) if isinstance(op, Delete)]
    if deletes:
        done = delete([op for _, op in deletes])
        for (index, _), result in zip(deletes, done, strict=True):
            results[index] = result
    return [r for r in results if r is not None]
