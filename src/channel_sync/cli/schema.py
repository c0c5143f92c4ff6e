"""``channel-sync schema``: print the JSON Schema of the canonical model and the file formats."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from channel_sync.model import Opportunity


class SchemaName(StrEnum):
    OPPORTUNITY = "opportunity"



def show(name: SchemaName) -> None:
    """Print the JSON Schema called ``name``."""
    schemas = {SchemaName.OPPORTUNITY: Opportunity.model_json_schema}
    typer.echo(json.dumps(schemas[name](), indent=2, sort_keys=True))


def attach(root: typer.Typer) -> None:
    @root.command("schema")
    def schema(name: SchemaName = typer.Argument(..., help="Which schema to print.")) -> None:
        """Print the JSON Schema of the canonical opportunity (or another named schema)."""
        show(name)
