"""``channel-sync audit show ID``: a deal's field-level lineage, oldest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from channel_sync.cli.sync import ENV_FILE, JSON, PROJECT, console, guarded, print_json, show
from channel_sync.cli.sync import workspace as open_ws
from channel_sync.store import AuditEvent

audit_app = typer.Typer(name="audit", help="Who changed what, when, and why.",
                        no_args_is_help=True)


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "engine_ts": event.engine_ts,
        "source_ts": event.source_ts,
        "direction": event.direction.value,
        "actor": event.actor,
        "source_system": event.source_system,
        "connection": event.connection,
        "external_key": event.external_key,
        "field": event.field,
        "old": event.old_value,
        "new": event.new_value,
        "run_id": event.run_id,
        "decision": event.decision,
    }


@audit_app.command("show")
def show_command(
    canonical_id: str = typer.Argument(..., help="The deal's canonical id."),
    *,
    limit: int = typer.Option(1000, "--limit", min=1, help="Show at most this many events."),
    as_json: bool = JSON,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
) -> None:
    """Every recorded change of one deal, field by field."""
    with open_ws(project, env_file, offline=True) as ws:

        def load() -> list[AuditEvent]:
            with ws.store.read() as tx:
                return tx.audit.for_record(canonical_id, limit=limit)

        events = guarded(load)
    if as_json:
        print_json({"deal": canonical_id, "events": [event_json(e) for e in events]})
        return
    if not events:
        typer.echo(f"no audit events for {canonical_id}")
        return
    table = Table(title=f"audit trail of {canonical_id}")
    for column in ("when", "direction", "connection", "field", "old -> new", "actor", "decision",
                   "run"):
        table.add_column(column)
    for e in events:
        when = e.engine_ts.isoformat(timespec="seconds") if e.engine_ts else "-"
        change = "" if e.field is None else f"{show(e.old_value)} -> {show(e.new_value)}"
        table.add_row(
            when, e.direction.value, e.connection or "-", e.field or "(record)", change, e.actor,
            e.decision or "", show(e.run_id),
        )
    console().print(table)


def attach(root: typer.Typer) -> None:
    root.add_typer(audit_app)
