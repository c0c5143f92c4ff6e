"""Small builders for mapping tests: a valid base mapping to vary, and compile shortcuts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from channel_sync.config import load_document
from channel_sync.mapping import CompiledMapping, MappingSpec, compile_mapping, compile_spec
from channel_sync.mapping.valuemap import Issue

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"
SHIPPED = sorted(p for p in MAPPINGS.glob("*.yaml"))
CORPUS = ROOT / "tests" / "corpus" / "mappings"


def base(connector: str = "salesforce") -> dict[str, Any]:
    """The smallest valid mapping for ``connector``: one name field."""
    if connector == "hubspot":
        keys = {"remote_id": "hs_object_id", "external_id": "channel_sync_id",
                "modstamp": "hs_lastmodifieddate"}
        name = "dealname"
    else:
        keys = {"remote_id": "Id", "external_id": "Channel_Sync_Id__c",
                "modstamp": "SystemModstamp", "deleted": "IsDeleted"}
        name = "Name"
    return {
        "version": 1,
        "connector": connector,
        "object": "deals" if connector == "hubspot" else "Opportunity",
        "keys": keys,
        "fields": [{"canonical": "name", "remote": name, "type": "string", "authority": "partner"}],
    }


def with_fields(
    *fields: dict[str, Any], connector: str = "salesforce", **top: Any
) -> dict[str, Any]:
    data = base(connector)
    data["fields"] = [*data["fields"], *fields]
    data.update(top)
    return data


def compiled(data: dict[str, Any]) -> CompiledMapping:
    return compile_mapping(MappingSpec.model_validate(data))


def issues(data: dict[str, Any]) -> list[Issue]:
    result, found = compile_spec(MappingSpec.model_validate(data))
    assert result is None, "expected the mapping to be refused"
    return found


def messages(data: dict[str, Any]) -> str:
    return "\n".join(message for _, message in issues(data))


def shipped_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_document(MAPPINGS / name).data
    return copy.deepcopy(data)
