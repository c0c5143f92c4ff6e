"""Attaches every sub-command group to the root app.

Each group lives in its own module; this is the single list of them so the root stays small.
"""

from __future__ import annotations

import typer

from channel_sync.cli import (
    audit,
    config,
    conflicts,
    demo,
    mappings,
    match,
    pipeline,
    run,
    sandbox,
    schema,
    status,
    sync,
)


def attach(app: typer.Typer) -> None:
    """Add the sub-command groups to ``app``."""
    schema.attach(app)
    config.attach(app)
    sandbox.attach(app)
    mappings.attach(app)
    sync.attach(app)
    status.attach(app)
    conflicts.attach(app)
    audit.attach(app)
    match.attach(app)
    run.attach(app)
    pipeline.attach(app)
    demo.attach(app)
