"""``channel-sync status`` shows when a live scheduler runs each connection next."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli.register import attach
from channel_sync.scheduler.snapshot import (
    JobState,
    ScheduleSnapshot,
    cycle_job_id,
    schedule_path,
    write_snapshot,
)

ROOT = Path(__file__).resolve().parents[2]


def test_status_reports_the_next_run_of_a_live_scheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    for folder in ("connectors", "mappings"):
        shutil.copytree(ROOT / folder, project / folder)
    monkeypatch.setenv("CHANNEL_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    due = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
    now = datetime(2026, 11, 27, 12, 25, tzinfo=UTC)
    write_snapshot(
        schedule_path(project),
        ScheduleSnapshot(
            pid=os.getpid(), started=now, updated=now, running=True,
            jobs=[JobState(cycle_job_id("vendor-salesforce"), "cycle", "vendor-salesforce",
                           60.0, next_run=due)],
        ),
    )
    app = typer.Typer()
    attach(app)
    result = CliRunner().invoke(app, ["status", "--json", "--project", str(project)])
    assert result.exit_code == 0, result.output
    rows = {r["connection"]: r for r in json.loads(result.stdout)["connections"]}
    assert datetime.fromisoformat(rows["vendor-salesforce"]["next_run"]) == due
    assert rows["partner-a-hubspot"]["next_run"] is None


def test_the_status_table_says_why_a_reconcile_is_due() -> None:
    from rich.console import Console  # noqa: PLC0415

    from channel_sync.cli.status import _table  # noqa: PLC0415
    from channel_sync.sync.status import ConnectionHealth  # noqa: PLC0415

    rows = [
        ConnectionHealth("vendor-salesforce", "vendor", None, "reconcile_needed",
                         reconcile_needed="the delete log no longer reaches the cursor"),
        ConnectionHealth("partner-a-hubspot", "partner", "partner-a", "failing",
                         last_error="the token was refused",
                         reconcile_needed="the delete log no longer reaches the cursor"),
        ConnectionHealth("partner-b-salesforce", "partner", "partner-b", "healthy"),
    ]
    console = Console(width=400, record=True)
    console.print(_table(rows))
    lines = {line.split("│")[1].strip(): line for line in console.export_text().splitlines()
             if line.count("│") > 2 and "connection" not in line}
    assert "reconcile needed: the delete log no longer reaches the cursor" in (
        lines["vendor-salesforce"]
    )
    assert "the token was refused" in lines["partner-a-hubspot"]
    assert "reconcile needed" not in lines["partner-b-salesforce"]
