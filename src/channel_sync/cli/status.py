"""``channel-sync status``: every connection's health, from the state store alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.table import Table

from channel_sync.cli.sync import ENV_FILE, JSON, PROJECT, console, guarded, print_json, show
from channel_sync.cli.sync import workspace as open_ws
from channel_sync.clock import default_clock
from channel_sync.scheduler import read_schedule
from channel_sync.sync.status import ConnectionHealth, connection_health


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _reconcile_note(health: ConnectionHealth) -> str:
    if not health.reconcile_needed:
        return ""
    return f"reconcile needed: {health.reconcile_needed}"


def _table(rows: list[ConnectionHealth]) -> Table:
    table = Table(title="connections")
    for column in ("connection", "role", "partner", "state", "last run", "lag", "pending",
                   "failed writes", "failed records", "conflicts", "api used/left", "next run",
                   "error / note"):
        table.add_column(column)
    for h in rows:
        api = "-" if h.api_used is None else f"{h.api_used}/{h.api_left}"
        table.add_row(
            h.connection, h.role, h.partner_id or "-", h.state,
            show(h.last_run.isoformat(timespec="seconds") if h.last_run else None),
            _lag(h.lag_seconds), str(h.pending + h.in_flight), str(h.failed_writes),
            str(h.failed_records), str(h.conflicts), api,
            show(h.next_run.isoformat(timespec="seconds") if h.next_run else None),
            h.last_error or _reconcile_note(h),
        )
    return table


def status_command(
    *, as_json: bool = JSON, project: Path = PROJECT, env_file: Path | None = ENV_FILE
) -> None:
    """Last run, lag, pending writes, failures, conflicts and API allowance per connection."""
    with open_ws(project, env_file, offline=True) as ws:
        rows = guarded(lambda: connection_health(ws.store, ws.runtimes, default_clock()))
        plan = read_schedule(ws.project_dir)
    if plan is not None:
        rows = [replace(h, next_run=plan.next_run(h.connection)) for h in rows]
    if as_json:
        print_json({"connections": [h.to_json() for h in rows]})
    else:
        console().print(_table(rows))


def attach(root: typer.Typer) -> None:
    root.command("status")(status_command)
