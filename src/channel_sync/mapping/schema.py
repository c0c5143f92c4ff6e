"""The published JSON Schema of mapping files, generated from :class:`MappingSpec`.

The file in the repository (``mappings/mapping.schema.json``) lets editors validate and complete
mapping files as admins type; CI regenerates it and fails when the committed copy is stale, so
it cannot drift from the models that really validate files.
"""

from __future__ import annotations

import json
from typing import Any

from channel_sync.mapping.spec import MappingSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def mapping_json_schema() -> dict[str, Any]:
    schema = MappingSpec.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **schema}


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline (diff-friendly)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
