"""Crash injection: a connector and a store that die at a chosen point, like a killed worker.

Once the crash fires, the shared :class:`Crash` is dead and the store refuses every further
transaction, so the crashed engine cannot clean up (no run row, no lease release): what a
``kill -9`` leaves behind. A fresh engine on a healthy store then has to recover.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from channel_sync.connectors import (
    CheckReport,
    Connector,
    Cursor,
    ObjectDescription,
    Page,
    RemoteRecord,
    WriteOp,
    WriteResult,
)
from channel_sync.store import Lease, Store, Transaction, UnitOfWork


class SimulatedCrash(BaseException):
    """The worker died here."""


@dataclass
class Crash:
    """Where to die: ``point`` and, for commits, which unit of work (1-based)."""

    point: str
    at_commit: int = 1
    dead: bool = False
    commits: int = 0
    fired: int = 0

    def die(self) -> SimulatedCrash:
        self.dead = True
        self.fired += 1
        return SimulatedCrash(self.point)

    def check(self) -> None:
        if self.dead:
            raise SimulatedCrash("the worker is gone")


class CrashingStore(Store):
    """The same database, through a store that dies with the worker."""

    def __init__(self, inner: Store, crash: Crash) -> None:
        super().__init__(inner.engine, clock=inner.clock)
        self.crash = crash

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        self.crash.check()
        with super().read() as tx:
            yield tx

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        self.crash.check()
        with super().transaction() as tx:
            yield tx

    @contextmanager
    def unit_of_work(self, lease: Lease) -> Iterator[UnitOfWork]:
        self.crash.check()
        with super().unit_of_work(lease) as uow:
            yield uow
            if self.crash.point == "mid_commit":
                self.crash.commits += 1
                if self.crash.commits == self.crash.at_commit:
                    raise self.crash.die()  # inside the transaction: it rolls back


class CrashingConnector:
    """Delegates to a real connector and dies around the first write, as configured."""

    def __init__(self, inner: Connector, crash: Crash) -> None:
        self.inner = inner
        self.crash = crash
        self.kind = inner.kind

    @property
    def transport(self) -> Any:
        return getattr(self.inner, "transport", None)

    def check(self) -> CheckReport:
        self.crash.check()
        return self.inner.check()

    def describe(self, object_name: str) -> ObjectDescription:
        self.crash.check()
        return self.inner.describe(object_name)

    def read_changes(self, object_name: str, cursor: Cursor | None) -> Iterator[Page]:
        self.crash.check()
        return self.inner.read_changes(object_name, cursor)

    def read_by_keys(self, object_name: str, keys: Sequence[str]) -> dict[str, RemoteRecord]:
        self.crash.check()
        return self.inner.read_by_keys(object_name, keys)

    def write_batch(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        self.crash.check()
        point = self.crash.point
        if point == "before_write":
            raise self.crash.die()
        if point == "mid_batch":
            half = max(1, len(ops) // 2)
            self.inner.write_batch(object_name, ops[:half])
            raise self.crash.die()
        results = self.inner.write_batch(object_name, ops)
        if point == "after_write":
            raise self.crash.die()
        return results

    def close(self) -> None:
        self.inner.close()
