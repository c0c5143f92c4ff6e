"""The published JSON Schema of connection files, and the check that it is current.

Editors validate ``connectors/*.yaml`` as admins type, against
``connectors/connection.schema.json``; it is generated from the models, and CI fails when the
committed copy is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channel_sync.config.connection import Connection
from channel_sync.config.connector_specs import BUILTIN_SPECS

SCHEMA_FILE_NAME = "connection.schema.json"


def connection_json_schema() -> dict[str, Any]:
    """JSON Schema of a connection file, with each built-in connector's credentials and urls."""
    schema = Connection.model_json_schema()
    branches: list[dict[str, Any]] = []
    for kind, spec in sorted(BUILTIN_SPECS.items()):
        branches.append(
            {
                "if": {"properties": {"connector": {"const": kind}}, "required": ["connector"]},
                "then": {
                    "properties": {
                        "credentials": _inline(spec.credentials.model_json_schema()),
                        "urls": _inline(spec.urls.model_json_schema()),
                    }
                },
            }
        )
    schema["allOf"] = branches
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["properties"]["connector"]["examples"] = sorted(BUILTIN_SPECS)
    return schema


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Sub-schemas carry their own ``$defs``; JSON Schema resolves ``#/$defs`` from the root,
    so the few enum definitions are inlined instead."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def render_connection_schema() -> str:
    """The schema file's exact text (stable key order, trailing newline)."""
    return json.dumps(connection_json_schema(), indent=2, sort_keys=True) + "\n"


def connection_schema_is_current(path: Path) -> bool:
    """Whether the committed schema at ``path`` matches the models."""
    try:
        return path.read_text(encoding="utf-8") == render_connection_schema()
    except OSError:
        return False


def write_connection_schema(path: Path) -> None:
    path.write_text(render_connection_schema(), encoding="utf-8")
