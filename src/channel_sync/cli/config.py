"""``channel-sync config``: check a project's connection files before anything runs.

``validate`` exits 0 when the project is sound and 2 with every problem, one per line as
``file:line:column: field: message`` on stderr, so editors and CI can jump to each one.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from channel_sync.config.check import (
    MappingLoader,
    ProjectReport,
    check_environment,
    check_project,
)
from channel_sync.config.connection import format_interval
from channel_sync.config.connector_specs import BUILTIN_SPECS
from channel_sync.config.problems import FileError, Problem
from channel_sync.config.project import CONNECTORS_DIR
from channel_sync.config.schema import (
    SCHEMA_FILE_NAME,
    connection_schema_is_current,
    write_connection_schema,
)

EXIT_INVALID = 2

config_app = typer.Typer(
    name="config",
    help="Check connection files (connectors/*.yaml) and what they refer to.",
    no_args_is_help=True,
)

_PROJECT = typer.Option(
    Path(),
    "--project",
    help="The project directory (holds connectors/ and mappings/).",
    file_okay=False,
)


def _mapping_loader() -> MappingLoader | None:
    """The mapping language's loader; mappings are only checked for existence without it."""
    try:
        module: Any = importlib.import_module("channel_sync.mapping")
    except ImportError:
        return None
    loader = getattr(module, "load_mapping", None)
    return loader if callable(loader) else None


def _known_connectors() -> set[str]:
    """The built-in kinds plus every connector installed through an entry point."""
    from channel_sync.connectors.registry import available_kinds  # noqa: PLC0415

    return set(BUILTIN_SPECS) | set(available_kinds())


def _shown_path(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        shown = Problem(
            _shown_path(problem.file), problem.line, problem.column, problem.field, problem.message
        )
        typer.echo(str(shown), err=True)
    files = len({p.file for p in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    typer.echo(f"{len(problems)} {noun} in {files} file(s)", err=True)


def _summary(report: ProjectReport) -> Table:
    table = Table(title=f"connections in {_shown_path(report.project.root)}")
    for column in ("name", "connector", "role", "partner", "mapping", "every", "env"):
        table.add_column(column)
    for status in report.statuses:
        conn = status.entry.connection
        table.add_row(
            conn.name,
            conn.connector,
            conn.role.value,
            conn.partner_id or "-",
            ("ok " if status.mapping_ok else "bad ") + Path(conn.mapping).name,
            format_interval(conn.schedule.every),
            f"{status.references_set}/{status.references} set",
        )
    return table


def _alias_problems(project: Path) -> list[Problem]:
    """The project's customer aliases file, when it has one (the channel-conflict check)."""
    from channel_sync.workflow.match_alias_file import (  # noqa: PLC0415
        project_aliases_path,
        read_alias_file,
    )

    path = project_aliases_path(project)
    if not path.exists():
        return []
    try:
        read_alias_file(path)
    except FileError as exc:
        return list(exc.problems)
    return []


def validate(project: Path, env_file: Path | None) -> int:
    """Run every check on ``project``; returns the exit code."""
    env, env_problems = check_environment(env_file)
    report = check_project(
        project, env=env, load_mapping=_mapping_loader(), connectors=_known_connectors()
    )
    problems = env_problems + report.problems + _alias_problems(project)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(_summary(report))
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    typer.echo(f"{len(report.statuses)} connection(s) valid")
    return 0


@config_app.command("validate")
def validate_command(
    project: Path = _PROJECT,
    env_file: Path | None = typer.Option(
        None, "--env-file", help="A KEY=VALUE file the ${NAME} references may resolve from."
    ),
) -> None:
    """Validate every connection file, its mapping and its environment references."""
    code = validate(project, env_file)
    if code:
        raise typer.Exit(code)


@config_app.command("schema")
def schema_command(
    project: Path = _PROJECT,
    check: bool = typer.Option(
        False, "--check", help="Exit 1 if the committed schema is stale instead of writing it."
    ),
) -> None:
    """Write connectors/connection.schema.json from the models (or check that it is current)."""
    path = project / CONNECTORS_DIR / SCHEMA_FILE_NAME
    if check:
        if not connection_schema_is_current(path):
            typer.echo(f"{path} is stale: run 'channel-sync config schema'", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is current")
        return
    write_connection_schema(path)
    typer.echo(f"wrote {path}")


def attach(root: typer.Typer) -> None:
    root.add_typer(config_app)
