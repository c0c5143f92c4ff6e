"""``channel-sync sync``: run sync cycles now, or show what one would do (``--dry-run``).

Also holds what the engine's other commands share (``status``, ``conflicts``, ``audit``): the
``--project``/``--env-file`` options, opening the workspace, and turning errors into a clear
message and an exit code instead of a traceback. Exit codes: 0 done, 1 a cycle failed, parked
or found its connection busy, 2 bad arguments (an unknown conflict included) or configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from channel_sync.config import FileError
from channel_sync.errors import ChannelSyncError, ConfigurationError
from channel_sync.store import MissingRowError
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleReport, CycleStatus
from channel_sync.sync.workspace import Workspace, open_workspace

EXIT_FAILED = 1
EXIT_INVALID = 2

T = TypeVar("T")

PROJECT = typer.Option(
    Path(), "--project", help="The project directory (holds connectors/ and mappings/).",
    file_okay=False,
)
ENV_FILE = typer.Option(
    None, "--env-file", help="A KEY=VALUE file the ${NAME} references may resolve from."
)
JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")


def console() -> Console:
    out = Console()
    return out if out.is_terminal else Console(width=160)


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def workspace(project: Path, env_file: Path | None, *, offline: bool) -> Iterator[Workspace]:
    """Open the project; every admin-fixable problem exits 2 with its message."""
    try:
        opened = open_workspace(project, env_file, offline=offline)
    except FileError as exc:
        raise fail(str(exc)) from None
    except ConfigurationError as exc:
        raise fail(f"configuration error: {exc}") from None
    except ChannelSyncError as exc:
        raise fail(f"cannot open the state store: {exc}", EXIT_FAILED) from None
    try:
        yield opened
    finally:
        opened.close()


def guarded(work: Callable[[], T]) -> T:
    """Run a command body; product errors become a message and an exit code."""
    try:
        return work()
    except (FileError, ConfigurationError, MissingRowError) as exc:
        raise fail(str(exc)) from None
    except ChannelSyncError as exc:
        raise fail(str(exc), EXIT_FAILED) from None


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ";".join(show(v) for v in value) or "(empty)"
    return str(jsonable(value))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(jsonable(data), indent=2, sort_keys=True))


def _report_table(reports: list[CycleReport]) -> Table:
    table = Table(title="sync cycles")
    columns = ("connection", "status", "read", "created", "updated", "unchanged", "conflicts",
               "written", "failed", "api calls", "error")
    for column in columns:
        table.add_column(column)
    for r in reports:
        table.add_row(
            r.connection, r.status.value, str(r.records_read), str(r.created), str(r.updated),
            str(r.unchanged), str(r.conflicts), str(r.written), str(r.failed),
            str(r.api_calls), r.error or "",
        )
    return table


def _plan_table(reports: list[CycleReport]) -> Table:
    table = Table(title="dry run: nothing was written")
    for column in ("connection", "action", "deal", "remote id", "field", "old -> new", "note"):
        table.add_column(column)
    for r in reports:
        for item in r.plan:
            change = "" if item.field is None else f"{show(item.old)} -> {show(item.new)}"
            table.add_row(
                r.connection, item.action.value, item.canonical_id or "-", item.remote_id or "-",
                item.field or "", change, item.decision or item.message or "",
            )
    return table


def sync_command(
    connections: list[str] | None = typer.Argument(
        None, help="Connections to sync (default: all).", show_default=False
    ),
    *,
    once: bool = typer.Option(False, "--once", help="Run one cycle of each connection and exit."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Read and merge, print the plan, write nothing anywhere."
    ),
    as_json: bool = JSON,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
) -> None:
    """Run one sync cycle of each connection (reads first, then writes)."""
    if not once:
        raise fail("pass --once to run one cycle now (the scheduler runs cycles continuously)")
    with workspace(project, env_file, offline=False) as ws:
        engine = _workflow_engine(ws)
        reports = guarded(lambda: engine.sync_once(connections or None, dry_run=dry_run))
        due = [r.connection for r in reports
               if r.reconcile_needed and r.status is CycleStatus.OK and not dry_run]
        for name in due:
            typer.echo(f"{name}: incremental reads may have missed changes; reconciling", err=True)
            guarded(partial(engine.reconcile, name))
    if as_json:
        print_json({"dry_run": dry_run, "reports": [r.to_json() for r in reports]})
    else:
        out = console()
        if dry_run:
            out.print(_plan_table(reports))
        out.print(_report_table(reports))
    bad = [r for r in reports if r.status not in (CycleStatus.OK, CycleStatus.STOPPED)]
    if bad:
        raise typer.Exit(EXIT_FAILED)


def _workflow_engine(ws: Workspace) -> SyncEngine:
    """The engine with the same workflow rules ``channel-sync run`` applies."""
    from pydantic import ValidationError  # noqa: PLC0415

    from channel_sync.scheduler.service import workflow_engine  # noqa: PLC0415
    from channel_sync.workflow.settings import WorkflowSettings  # noqa: PLC0415

    try:
        settings = WorkflowSettings.from_env(ws.env)
        return workflow_engine(ws.project_dir, ws.runtimes, ws.store, settings=settings)[0]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = "CHANNEL_SYNC_" + "_".join(str(part) for part in error["loc"]).upper()
        raise fail(f"invalid workflow setting: {field}: {error['msg']}") from None
    except ChannelSyncError as exc:
        raise fail(str(exc)) from None


def attach(root: typer.Typer) -> None:
    root.command("sync")(sync_command)
