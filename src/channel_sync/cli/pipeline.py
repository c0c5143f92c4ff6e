"""``channel-sync pipeline``: registered deals, decisions and expiring protection, from the hub."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from channel_sync.cli.sync import ENV_FILE, PROJECT, fail, guarded, workspace
from channel_sync.reporting.pipeline import GroupBy


def pipeline_command(
    *,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
    by: GroupBy = typer.Option(GroupBy.STAGE, "--by", help="Group registered deals by this."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of tables."),
    expiring_days: int = typer.Option(
        30, "--expiring-days", min=0, max=3650, help="List approvals expiring within N days."
    ),
) -> None:
    """Count and amount of registered deals, registrations by status, approval rate, median
    time to decision, and approvals about to expire."""
    from channel_sync.clock import utcnow  # noqa: PLC0415
    from channel_sync.reporting import build_report, print_report, to_csv, to_json  # noqa: PLC0415
    from channel_sync.workflow.hub_records import iter_records  # noqa: PLC0415

    if as_json and as_csv:
        raise fail("choose one of --json and --csv")
    with workspace(project, env_file, offline=True) as ws:
        report = guarded(
            lambda: build_report(
                (r.opportunity for r in iter_records(ws.store)),
                now=utcnow(),
                group_by=by,
                expiring_days=expiring_days,
            )
        )
    if as_json:
        typer.echo(json.dumps(to_json(report), indent=2))
    elif as_csv:
        typer.echo(to_csv(report), nl=False)
    else:
        print_report(report)


def attach(root: typer.Typer) -> None:
    root.command("pipeline")(pipeline_command)
