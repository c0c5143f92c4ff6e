"""What a cycle, a dry run and a reconciliation report back to callers and the CLI.

Reports are plain data so the CLI can print them as tables or JSON and the scheduler can log
them; they never carry another partner's identity (a refused record is counted, not named).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CycleStatus(StrEnum):
    OK = "ok"
    PARKED = "parked"  # the daily API allowance is used up; the connection waits for the reset
    FAILED = "failed"
    STOPPED = "stopped"  # asked to stop; stopped at a safe point between pages or batches
    LEASE_HELD = "lease_held"  # another runner holds the connection's lease


class PlanAction(StrEnum):
    CREATE = "create"  # a new deal in the hub
    UPDATE = "update"  # a field of a known deal changes
    CONFLICT = "conflict"  # both sides changed the field to different values
    REFUSED = "refused"  # the record is refused (illegal transition, isolation, bad data)
    SKIPPED = "skipped"  # out of scope


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One line of a dry run's plan: a record, and for field changes the field and values."""

    action: PlanAction
    canonical_id: str | None
    remote_id: str | None
    field: str | None = None
    old: Any = None
    new: Any = None
    decision: str | None = None
    message: str | None = None


@dataclass
class CycleReport:
    connection: str
    run_id: int | None
    started: datetime
    finished: datetime | None = None
    records_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    written: int = 0
    failed: int = 0
    api_calls: int = 0
    status: CycleStatus = CycleStatus.OK
    plan: list[PlanItem] = field(default_factory=list)
    error: str | None = None
    #: Unlinked records skipped because they are out of scope (linked ones are still merged).
    skipped: int = 0
    #: IN_FLIGHT entries settled at the start of the cycle (confirmed, re-queued).
    settled: int = 0
    #: A full reconciliation is due (the connector said incremental reads may have missed data).
    reconcile_needed: str | None = None

    def counts(self) -> dict[str, int]:
        """The counters stored on the run row."""
        return {
            "records_read": self.records_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "written": self.written,
            "failed": self.failed,
            "skipped": self.skipped,
            "settled": self.settled,
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat() if self.finished else None
        data["plan"] = [_plan_json(item) for item in self.plan]
        return data


def _plan_json(item: PlanItem) -> dict[str, Any]:
    data = asdict(item)
    data["action"] = item.action.value
    data["old"] = _jsonable(item.old)
    data["new"] = _jsonable(item.new)
    return data


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass
class ReconcileReport:
    """A full comparison of one connection's remote key set with the hub's links."""

    connection: str
    remote_records: int = 0
    linked: int = 0
    #: Linked deals whose remote record is gone (hard deletes the change feed did not show).
    missing_remote: list[str] = field(default_factory=list)
    #: Linked deals whose remote record no longer matches the mapping's scope.
    left_scope: list[str] = field(default_factory=list)
    #: Deals whose remote values differ from the hub's agreed values; re-queued for writing.
    drifted: list[str] = field(default_factory=list)
    #: Remote records in scope that the hub does not know (picked up by the next cycle).
    unknown_remote: int = 0
    requeued: int = 0
    api_calls: int = 0
    #: The engine was asked to stop: the comparison ended early (or never started) and the
    #: lists above are incomplete.
    stopped: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
