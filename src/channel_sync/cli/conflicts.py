"""``channel-sync conflicts``: list, show and decide fields both sides changed differently.

A decision (``--take vendor|partner|base`` or ``--take value=...``) is applied in the hub at
once and written to both CRMs by their next cycles; it is audited with who decided.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from channel_sync.cli.sync import (
    ENV_FILE,
    JSON,
    PROJECT,
    console,
    fail,
    guarded,
    print_json,
    show,
)
from channel_sync.cli.sync import workspace as open_ws
from channel_sync.store import Conflict
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.resolution import Take

conflicts_app = typer.Typer(
    name="conflicts", help="Review and decide sync conflicts.", no_args_is_help=True
)

_LIMIT = typer.Option(200, "--limit", min=1, help="Show at most this many conflicts.")


def conflict_json(conflict: Conflict) -> dict[str, Any]:
    return {
        "id": conflict.id,
        "deal": conflict.canonical_id,
        "field": conflict.field,
        "base": conflict.base,
        "sides": [
            {"connection": side.connection, "source": side.source, "value": side.value}
            for side in (conflict.a, conflict.b)
        ],
        "detected_at": conflict.detected_at,
        "status": conflict.status.value,
        "decision": conflict.decision,
        "resolved_value": conflict.resolved_value,
        "resolved_by": conflict.resolved_by,
        "resolved_at": conflict.resolved_at,
    }


@conflicts_app.command("list")
def list_command(
    *,
    limit: int = _LIMIT,
    as_json: bool = JSON,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
) -> None:
    """Open conflicts, oldest first."""
    with open_ws(project, env_file, offline=True) as ws:

        def load() -> list[Conflict]:
            with ws.store.read() as tx:
                return tx.conflicts.list_open(limit=limit)

        found = guarded(load)
    if as_json:
        print_json({"conflicts": [conflict_json(c) for c in found]})
        return
    table = Table(title=f"{len(found)} open conflict(s)")
    for column in ("id", "deal", "field", "base", "side a", "side b", "detected"):
        table.add_column(column)
    for c in found:
        table.add_row(
            str(c.id), c.canonical_id, c.field, show(c.base),
            f"{c.a.connection}: {show(c.a.value)}", f"{c.b.connection}: {show(c.b.value)}",
            c.detected_at.isoformat(timespec="seconds"),
        )
    console().print(table)


@conflicts_app.command("show")
def show_command(
    conflict_id: int = typer.Argument(..., help="The conflict's id (from conflicts list)."),
    *,
    as_json: bool = JSON,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
) -> None:
    """One conflict: the field, its base, both values and sources, and any decision."""
    with open_ws(project, env_file, offline=True) as ws:

        def load() -> Conflict | None:
            with ws.store.read() as tx:
                return tx.conflicts.get(conflict_id)

        found = guarded(load)
    if found is None:
        raise fail(f"no conflict {conflict_id}")
    data = conflict_json(found)
    if as_json:
        print_json(data)
        return
    table = Table(title=f"conflict {found.id}", show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key in ("deal", "field", "base", "status", "decision", "resolved_value", "resolved_by"):
        table.add_row(key, show(data[key]))
    for side in (found.a, found.b):
        table.add_row(f"{side.connection} ({side.source})", show(side.value))
    table.add_row("detected", found.detected_at.isoformat(timespec="seconds"))
    console().print(table)


def parse_take(raw: str) -> tuple[Take, Any]:
    """``vendor``, ``partner``, ``base`` or ``value=...`` (JSON, or plain text)."""
    name, sep, rest = raw.partition("=")
    try:
        take = Take(name.strip().lower())
    except ValueError:
        raise fail(f"--take must be vendor, partner, base or value=..., not {raw!r}") from None
    if (take is Take.VALUE) != bool(sep):
        raise fail("--take value needs the value: --take value=...")
    if take is not Take.VALUE:
        return take, None
    try:
        return take, json.loads(rest)
    except json.JSONDecodeError:
        return take, rest


@conflicts_app.command("resolve")
def resolve_command(
    conflict_id: int = typer.Argument(..., help="The conflict's id (from conflicts list)."),
    *,
    take: str = typer.Option(
        ..., "--take", help="vendor, partner, base, or value=... (JSON or text)."
    ),
    as_json: bool = JSON,
    project: Path = PROJECT,
    env_file: Path | None = ENV_FILE,
) -> None:
    """Decide a conflict; both CRMs get the chosen value on their next cycle."""
    choice, value = parse_take(take)
    actor = f"cli:{getpass.getuser()}"
    with open_ws(project, env_file, offline=True) as ws:
        engine = SyncEngine(ws.runtimes, ws.store)
        kwargs: dict[str, Any] = {"actor": actor}
        if choice is Take.VALUE:
            kwargs["value"] = value
        resolved = guarded(lambda: engine.resolve_conflict(conflict_id, choice, **kwargs))
    if as_json:
        print_json(conflict_json(resolved))
    else:
        typer.echo(
            f"conflict {resolved.id} resolved: {resolved.field} = {show(resolved.resolved_value)}"
            " (written to both sides on the next cycles)"
        )


def attach(root: typer.Typer) -> None:
    root.add_typer(conflicts_app)
