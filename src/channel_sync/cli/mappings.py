"""``channel-sync mappings``: validate, test and explain mapping files; publish their schema.

Exit codes are for scripts and CI: 0 all good, 2 a file is invalid (every problem on stderr as
``file:line:col: field: message``), 1 examples or round-trips fail (with a diff on stdout).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from channel_sync.config import FileError, Problem
from channel_sync.config.schema import SCHEMA_FILE_NAME, render_connection_schema
from channel_sync.mapping import (
    Connector,
    LoadedMapping,
    check_round_trips,
    load_mapping,
    mapping_files,
    run_examples,
)
from channel_sync.mapping.examples import ExampleResult
from channel_sync.mapping.roundtrip import FieldRoundTrip
from channel_sync.mapping.schema import mapping_json_schema, render

EXIT_FAILED = 1
EXIT_INVALID = 2
MAPPING_SCHEMA = Path("mappings") / "mapping.schema.json"
CONNECTION_SCHEMA = Path("connectors") / SCHEMA_FILE_NAME

mappings_app = typer.Typer(
    name="mappings",
    help="Validate, test and explain mapping files (mappings/*.yaml).",
    no_args_is_help=True,
)

_PATHS = typer.Argument(
    None, help="Mapping files or directories (default: mappings/).", show_default=False
)


def _load_all(paths: list[Path] | None) -> list[LoadedMapping]:
    """Load every file; print every problem of every file and exit 2 if any is invalid."""
    files = mapping_files(paths or [Path("mappings")])
    if not files:
        shown = ", ".join(str(p) for p in paths or [Path("mappings")])
        typer.echo(f"{shown}: no mapping files (*.yaml) found", err=True)
        raise typer.Exit(EXIT_INVALID)
    loaded: list[LoadedMapping] = []
    problems: list[Problem] = []
    for path in files:
        try:
            loaded.append(load_mapping(path))
        except FileError as exc:
            problems.extend(exc.problems)
    if problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        bad = len({p.file for p in problems})
        typer.echo(f"{bad} of {len(files)} mapping file(s) invalid", err=True)
        raise typer.Exit(EXIT_INVALID)
    return loaded


def show(value: Any) -> str:
    """A value the way an admin writes it in a mapping file."""
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


def _example_report(path: Path, results: Iterable[ExampleResult]) -> int:
    failed = 0
    for result in results:
        if result.ok:
            continue
        failed += 1
        typer.echo(
            f"FAIL {path}: examples[{result.index}] {result.name!r} ({result.direction.value})"
        )
        for diff in result.differences:
            typer.echo(f"    {diff.key}: expected {show(diff.expected)}, got {show(diff.actual)}")
    return failed


def _round_trip_report(path: Path, results: Iterable[FieldRoundTrip]) -> int:
    failed = 0
    for result in results:
        if result.ok:
            continue
        failed += 1
        typer.echo(
            f"FAIL {path}: fields[{result.index}] {result.canonical} <-> {result.remote} "
            "does not round-trip"
        )
        for failure in result.failures[:5]:
            if failure.start == "canonical":
                steps = ["canonical " + show(failure.value)]
                names = ["remote", "canonical"]
            else:
                steps = ["remote " + show(failure.value)]
                names = ["canonical", "remote", "canonical"]
            steps += [f"{name} {show(v)}" for name, v in zip(names, failure.trail, strict=False)]
            typer.echo(f"    {' -> '.join(steps)}: {failure.reason}")
        if len(result.failures) > 5:
            typer.echo(f"    ... and {len(result.failures) - 5} more")
    return failed


@mappings_app.command("validate")
def validate_command(paths: list[Path] | None = _PATHS) -> None:
    """Check mapping files: syntax, schema, canonical paths, keys, value maps, examples."""
    for mapping in _load_all(paths):
        spec = mapping.spec
        typer.echo(
            f"ok {mapping.path}: {spec.connector.value} {spec.object}, "
            f"{len(spec.fields)} fields, {len(spec.examples)} examples"
        )


@mappings_app.command("test")
def run_tests_command(paths: list[Path] | None = _PATHS) -> None:
    """Run the examples both ways and check that every 'both' field round-trips."""
    failed = 0
    for mapping in _load_all(paths):
        examples = run_examples(mapping.compiled)
        trips = check_round_trips(mapping.compiled)
        bad = _example_report(mapping.path, examples) + _round_trip_report(mapping.path, trips)
        failed += bad
        probes = sum(t.canonical_probes + t.remote_probes for t in trips)
        status = "FAILED" if bad else "ok"
        typer.echo(
            f"{status} {mapping.path}: {sum(r.ok for r in examples)}/{len(examples)} example "
            f"checks, {sum(t.ok for t in trips)}/{len(trips)} round-trip fields "
            f"({probes} probes)"
        )
    if failed:
        raise typer.Exit(EXIT_FAILED)


@mappings_app.command("explain")
def explain_command(
    file: Path = typer.Argument(..., help="The mapping file to explain."),
) -> None:
    """Show a mapping as a table: fields, directions, authority and transforms."""
    mapping = _load_all([file])[0]
    spec, compiled = mapping.spec, mapping.compiled
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 150))
    keys = spec.keys
    console.print(
        f"[bold]{mapping.path}[/bold]: {spec.connector.value} {spec.object} "
        f"(id {keys.remote_id}, canonical id in {keys.external_id}, modstamp {keys.modstamp}"
        + (f", deleted {keys.deleted})" if keys.deleted else ")")
    )
    if not compiled.scope.conditions:
        where = "every record"
    elif spec.connector is Connector.HUBSPOT:
        where = json.dumps(compiled.scope.hubspot_filters())
    else:
        where = compiled.scope.soql_where() or ""
    console.print(f"scope: {where}", markup=False)
    table = Table(show_lines=False)
    for column in ("#", "canonical", "remote", "type", "direction", "authority"):
        table.add_column(column, no_wrap=True)
    table.add_column("transforms")
    for codec in compiled.fields:
        entry = spec.fields[codec.index]
        authority = codec.authority.value if codec.authority else ""
        if codec.on_conflict is not None:
            authority += f" ({codec.on_conflict.value})"
        table.add_row(
            str(codec.index),
            codec.canonical or "",
            codec.remote or "",
            entry.type.value if entry.type else "",
            codec.direction.value,
            authority,
            ", ".join(codec.steps),
        )
    console.print(table)


@mappings_app.command("schema")
def schema_command(
    check: bool = typer.Option(
        False, "--check", help="Exit 1 if a committed schema is stale instead of writing it."
    ),
) -> None:
    """Write mappings/mapping.schema.json and connectors/connection.schema.json from the models.

    Run from the repository root.
    """
    outputs = {
        MAPPING_SCHEMA: render(mapping_json_schema()),
        CONNECTION_SCHEMA: render_connection_schema(),
    }
    stale: list[Path] = []
    for path, text in outputs.items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current == text:
            continue
        if check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {path}")
    for path in stale:
        typer.echo(
            f"{path} is stale or missing: run 'channel-sync mappings schema' from the repository "
            "root and commit the result",
            err=True,
        )
    if stale:
        raise typer.Exit(EXIT_FAILED)


def attach(root: typer.Typer) -> None:
    root.add_typer(mappings_app, name="mappings")
