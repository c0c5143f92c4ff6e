"""The shipped mappings against the sandbox CRMs' schemas and docs/default-fields.md.

The sandboxes describe exactly the default fields, so a shipped mapping that names a field the
sandbox lacks, writes a read-only one or uses a picklist value it does not offer would fail
against a real org too.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest

from channel_sync.mapping import CompiledMapping, WireType, load_mapping
from channel_sync.mapping.transforms import FieldCodec
from channel_sync.model import canonical_fields
from channel_sync.sandbox.hubspot.properties import PROPERTIES_BY_NAME
from channel_sync.sandbox.salesforce.schema import FIELDS

from .helpers import MAPPINGS, ROOT, SHIPPED

SF_FIELDS = {f.name: f for f in FIELDS}
SF_WIRE = {
    "string": WireType.STRING, "textarea": WireType.STRING, "email": WireType.STRING,
    "id": WireType.STRING, "reference": WireType.STRING, "picklist": WireType.PICKLIST,
    "multipicklist": WireType.MULTIPICKLIST, "currency": WireType.NUMBER,
    "percent": WireType.NUMBER, "double": WireType.NUMBER, "int": WireType.INTEGER,
    "boolean": WireType.BOOLEAN, "date": WireType.DATE, "datetime": WireType.DATETIME,
}


def remote_info(mapping: CompiledMapping, name: str) -> tuple[WireType, bool, tuple[str, ...]]:
    """(wire type, writable, picklist values) of a sandbox field."""
    if mapping.connector.value == "salesforce":
        field = SF_FIELDS[name]
        return SF_WIRE[field.type], field.createable and field.updateable, field.picklist
    prop = PROPERTIES_BY_NAME[name]
    if prop.type == "enumeration":
        wire = WireType.MULTIPICKLIST if prop.multi else WireType.PICKLIST
    else:
        wire = {"string": WireType.STRING, "number": WireType.NUMBER, "bool": WireType.BOOLEAN,
                "datetime": WireType.DATETIME, "date": WireType.DATE}[prop.type]
    options = tuple(o.value for o in prop.options)
    return wire, not prop.read_only, options if wire is not WireType.BOOLEAN else ()


def written_values(codec: FieldCodec) -> list[object]:
    assert codec.write is not None
    if codec.value_map is not None:
        return list(codec.value_map.reverse.values())
    kind = canonical_fields()[codec.canonical or ""].type
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [codec.write(member) for member in kind]
    return []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_field_exists_with_its_type_and_values(path: Path) -> None:
    mapping = load_mapping(path).compiled
    keys = mapping.keys
    for name in (keys.remote_id, keys.external_id, keys.modstamp, keys.deleted,
                 *mapping.scope.fields):
        if name:
            remote_info(mapping, name)  # raises KeyError for an unknown field
    for codec in mapping.fields:
        assert codec.remote is not None
        wire, writable, options = remote_info(mapping, codec.remote)
        assert codec.wire is wire, codec.remote
        if codec.direction.writes:
            assert writable, f"{codec.remote} is read-only"
        if not options or wire is WireType.MULTIPICKLIST:
            continue
        if codec.is_constant:
            assert codec.constant in options
            continue
        if codec.read is not None and codec.value_map is not None:
            assert set(codec.value_map.forward) <= set(options), codec.remote
        if codec.write is not None:
            values = written_values(codec)
            entry = mapping.spec.fields[codec.index]
            if entry.currency is not None:
                values = list(entry.currency.allowed or [])
            assert values, codec.remote
            assert set(values) <= set(options), codec.remote


def _doc_tables() -> dict[str, set[str]]:
    """Field names per table in docs/default-fields.md, keyed by the line introducing it."""
    tables: dict[str, set[str]] = {}
    intro = ""
    for line in (ROOT / "docs" / "default-fields.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            tables.setdefault(intro, set()).update(re.findall(r"`([^`]+)`", first_cell))
        elif line.strip() and not line.startswith("|"):
            intro = line.strip()
    return tables


@pytest.mark.parametrize(
    ("file", "intro", "also"),
    [
        ("vendor-salesforce-opportunity.yaml", "Custom fields on the vendor Opportunity:", ()),
        (
            "partner-salesforce-opportunity.yaml",
            "Custom fields on the partner Opportunity (a partner running Salesforce):",
            ("Customer_Name__c", "Customer_Domain__c", "Customer_Country__c",
             "Customer_Industry__c", "Products__c", "Partner_Contact_Email__c"),
        ),
        ("partner-hubspot-deal.yaml", "Custom properties (group `channel_sync`):", ()),
    ],
)
def test_every_documented_custom_field_is_mapped(file: str, intro: str, also: tuple[str]) -> None:
    documented = _doc_tables()[intro] | set(also)
    assert len(documented) > 8
    mapping = load_mapping(MAPPINGS / file).compiled
    mapped = {c.remote for c in mapping.fields} | {mapping.keys.external_id}
    assert documented - mapped == set()


def test_authority_follows_the_registration_and_co_sell_roles() -> None:
    expectations = {
        "registration.registration_number": "vendor",
        "registration.expires_at": "vendor",
        "registration.decision_reason": "vendor",
        "co_sell.vendor_rep.email": "vendor",
        "co_sell.notes": "vendor",
        "stage": "shared",
        "amount": "shared",
        "target_close_date": "shared",
        "products": "shared",
    }
    for path in SHIPPED:
        mapping = load_mapping(path).compiled
        for codec in mapping.fields:
            want = expectations.get(codec.canonical or "")
            if want:
                assert codec.authority is not None
                assert codec.authority.value == want, (path.name, codec.canonical)
            if want == "shared":
                assert codec.on_conflict is not None
                assert codec.on_conflict.value == "review"
        status = {c.remote: c.authority for c in mapping.codecs_for("registration.status")}
        for remote, authority in status.items():
            assert authority is not None
            is_flag = remote in ("channel_sync_register", "Channel_Sync_Register__c")
            assert authority.value == ("partner" if is_flag else "vendor"), remote
