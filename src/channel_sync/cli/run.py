"""``channel-sync run``: the embedded scheduler, until SIGINT or SIGTERM.

Every connection syncs on its own interval, reconciliations and the registration expiry sweep run
periodically, and the plan (next run times) is kept in ``.channel-sync/schedule.json`` for
``channel-sync status``. Stopping finishes or safely abandons the cycle in flight; the next start
resumes from the last committed cursor.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import typer

from channel_sync.cli.sync import ENV_FILE, PROJECT, fail, workspace

LOG_LEVELS = ("debug", "info", "warning", "error")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # APScheduler logs every job start and finish at INFO; the scheduler's own lines say more.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _first_error(exc: Any) -> str:
    error = exc.errors(include_url=False)[0]
    field = "CHANNEL_SYNC_" + "_".join(str(part) for part in error["loc"]).upper()
    return f"{field}: {error['msg']}"


def run_command(
    *,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
    workers: int = typer.Option(
        1, "--workers", min=1, max=16, help="Connections that may sync at the same time."
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
) -> None:
    """Run every connection on its schedule, plus reconciliation and the expiry sweep."""
    from pydantic import ValidationError  # noqa: PLC0415

    from channel_sync.errors import ChannelSyncError  # noqa: PLC0415
    from channel_sync.scheduler.service import build_service  # noqa: PLC0415
    from channel_sync.workflow.settings import WorkflowSettings  # noqa: PLC0415

    if log_level.lower() not in LOG_LEVELS:
        raise fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    configure_logging(log_level)
    with workspace(project.resolve(), env_file, offline=False) as ws:
        try:
            settings = WorkflowSettings.from_env(ws.env)
            service = build_service(ws.project_dir, ws.runtimes, ws.store, settings=settings)
        except ValidationError as exc:
            raise fail(f"channel-sync run: invalid workflow setting: {_first_error(exc)}") from None
        except ChannelSyncError as exc:
            raise fail(f"channel-sync run: {exc}") from None
        count = len(ws.runtimes)
        typer.echo(f"running {count} connection(s); stop with Ctrl+C or SIGTERM", err=True)
        service.scheduler(workers=workers).run_until_signalled()


def attach(root: typer.Typer) -> None:
    root.command("run")(run_command)
