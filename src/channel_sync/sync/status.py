"""Per-connection health, from the store alone (no CRM is called).

``lag`` is the time since the connection's last successful cycle finished: how stale the hub's
view of that CRM may be. ``next_run`` is left for the scheduler to fill in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from channel_sync.clock import Clock
from channel_sync.store import OutboxStatus, Run, RunStatus, Store
from channel_sync.sync.cycle import reconcile_flag
from channel_sync.sync.runtime import ConnectionRuntime

#: How many recent runs are looked at for the last successful one.
_RECENT = 50


@dataclass
class ConnectionHealth:
    connection: str
    role: str
    partner_id: str | None
    #: healthy | parked | failing | never_run | reconcile_needed (an otherwise healthy
    #: connection whose incremental reads may have missed data until a full reconcile runs)
    state: str
    last_run: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_success: datetime | None = None
    lag_seconds: float | None = None
    pending: int = 0
    in_flight: int = 0
    failed_writes: int = 0
    failed_records: int = 0
    conflicts: int = 0
    api_used: int | None = None
    api_limit: int | None = None
    next_run: datetime | None = None
    #: Why a full reconciliation is due (the connector's words), until one completes.
    reconcile_needed: str | None = None

    @property
    def api_left(self) -> int | None:
        if self.api_used is None or self.api_limit is None:
            return None
        return max(0, self.api_limit - self.api_used)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["api_left"] = self.api_left
        for key in ("last_run", "last_success", "next_run"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def _state(latest: Run | None) -> str:
    if latest is None:
        return "never_run"
    if latest.counts.get("parked"):
        return "parked"
    if latest.status is RunStatus.FAILED:
        return "failing"
    return "healthy"


def connection_health(
    store: Store, runtimes: Mapping[str, ConnectionRuntime], clock: Clock
) -> list[ConnectionHealth]:
    now = clock.now()
    with store.read() as tx:
        outbox = tx.outbox.counts()
        failures = tx.failures.counts()
        conflicts: dict[str, int] = {}
        for conflict in tx.conflicts.list_open(limit=100_000):
            for name in {conflict.a.connection, conflict.b.connection}:
                conflicts[name] = conflicts.get(name, 0) + 1
        rows: list[ConnectionHealth] = []
        for name, runtime in sorted(runtimes.items()):
            runs = tx.runs.recent(name, limit=_RECENT)
            latest = runs[0] if runs else None
            success = next((r for r in runs if r.status is RunStatus.SUCCEEDED), None)
            counts = outbox.get(name, {})
            usage = next((r.counts for r in runs if "api_limit" in r.counts), {})
            health = ConnectionHealth(
                connection=name,
                role=runtime.role.value,
                partner_id=runtime.partner_id,
                state=_state(latest),
                last_run=latest.started_at if latest else None,
                last_status=latest.status.value if latest else None,
                last_error=latest.error if latest else None,
                last_success=success.finished_at if success else None,
                pending=counts.get(OutboxStatus.PENDING, 0),
                in_flight=counts.get(OutboxStatus.IN_FLIGHT, 0),
                failed_writes=counts.get(OutboxStatus.FAILED, 0),
                failed_records=failures.get(name, 0),
                conflicts=conflicts.get(name, 0),
                api_used=usage.get("api_used"),
                api_limit=usage.get("api_limit"),
            )
            health.reconcile_needed = reconcile_flag(tx, name)
            if health.reconcile_needed and health.state == "healthy":
                health.state = "reconcile_needed"
            if health.last_success is not None:
                health.lag_seconds = max(0.0, (now - health.last_success).total_seconds())
            rows.append(health)
    return rows
