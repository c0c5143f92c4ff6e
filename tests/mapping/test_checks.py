from __future__ import annotations

import pytest

from channel_sync.errors import ConfigurationError
from channel_sync.mapping import MappingError, MappingSpec, compile_mapping

from .helpers import issues, messages, with_fields

STAGE = {"canonical": "stage", "remote": "StageName", "type": "picklist", "authority": "shared"}


def test_every_problem_is_reported_in_one_run() -> None:
    data = with_fields(
        {"canonical": "amount", "remote": "Amount", "type": "boolean", "authority": "shared"},
        {"canonical": "customer.nmae", "remote": "X__c", "type": "string", "authority": "partner"},
        {"canonical": "partner_id", "remote": "P__c", "type": "string", "authority": "partner"},
    )
    locations = [loc for loc, _ in issues(data)]
    assert ("fields", 1, "type") in locations
    assert ("fields", 2, "canonical") in locations
    assert ("fields", 3, "direction") in locations


def test_compile_mapping_raises_a_configuration_error() -> None:
    data = with_fields({**STAGE, "lookup": "missing"})
    with pytest.raises(MappingError) as caught:
        compile_mapping(MappingSpec.model_validate(data))
    assert isinstance(caught.value, ConfigurationError)
    assert "fields[1].lookup: unknown lookup 'missing'" in str(caught.value)


def test_a_shared_lookup_problem_is_reported_once() -> None:
    lookups = {"stages": {"values": {"Won": "won"}}}
    data = with_fields(
        {**STAGE, "lookup": "stages", "direction": "inbound"},
        {**STAGE, "remote": "Stage2__c", "lookup": "stages", "direction": "outbound"},
        lookups=lookups,
    )
    found = issues(data)
    assert [loc for loc, _ in found] == [("lookups", "stages", "values", "Won")]


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ({**STAGE, "trim": True, "type": "number"}, "trim and case apply to text fields only"),
        ({"canonical": "name", "remote": "N2", "type": "string", "scale": 2,
          "authority": "partner", "direction": "outbound"}, "scale applies to fields of type"),
        ({"canonical": "name", "remote": "N2", "type": "string", "authority": "partner",
          "direction": "outbound", "currency": {}}, "currency transform applies to currency_code"),
        ({"canonical": "currency_code", "remote": "C", "type": "picklist", "authority": "shared",
          "currency": {"allowed": ["XYZ"]}}, "'XYZ' is not ISO 4217"),
        ({"canonical": "target_close_date", "remote": "T", "type": "string", "format": "plain",
          "authority": "shared"}, "no % directives"),
        ({"canonical": "products", "remote": "P", "type": "string", "authority": "shared"},
         "it maps to a multipicklist"),
        ({"canonical": "name", "remote": "Channel_Sync_Id__c", "type": "string",
          "direction": "inbound", "authority": "partner"}, "holds the canonical id"),
        ({"canonical": "name", "constant": "x", "remote": "N2", "type": "string",
          "direction": "outbound", "authority": "partner"}, "not both"),
        ({"canonical": "name", "constant": "x", "direction": "inbound", "authority": "partner",
          "trim": True}, "'trim' does not apply to a constant"),
        ({"canonical": "description"}, "needs both 'canonical' and 'remote'"),
        ({"remote": "R", "type": "string", "constant": "x", "direction": "outbound",
          "authority": "vendor"}, "authority applies to entries with a 'canonical' path"),
        ({**STAGE, "value_map": {"values": {"A": "prospecting"}, "default": "prospecting"}},
         "'default' is only used with 'unmapped: default'"),
        ({**STAGE, "direction": "inbound", "value_map": {"values": {"A": "prospecting"},
                                                         "unmapped": "default"}},
         "unmapped: default needs a 'default' value"),
        ({**STAGE, "default": "won"}, "not valid for stage"),
        ({"canonical": "registration.channel_conflict", "remote": "B", "type": "boolean",
          "authority": "vendor", "value_map": {"values": {"maybe": True}}},
         "remote value 'maybe': expected true or false"),
    ],
)
def test_field_problems(field: dict[str, object], fragment: str) -> None:
    assert fragment in messages(with_fields(field))


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [
        ([{"field": "Name", "op": "is_set", "value": "x"}], "'is_set' takes no value"),
        ([{"field": "Name", "op": "in", "value": "x"}], "needs a non-empty list"),
        ([{"field": "Name", "op": "eq", "value": ["x"]}], "use 'in' for a list"),
        ([{"field": "Name", "value": None}], "use is_set / is_not_set"),
        ([{"field": "Name", "type": "boolean", "value": True}], "mapped as 'string'"),
        ([{"field": "Flag__c", "type": "boolean", "value": "perhaps"}], "not a boolean value"),
        ([{"field": "D__c", "type": "date", "value": "31.03.2026"}], "not a date value"),
        ([{"field": "P__c", "type": "multipicklist", "value": "A"}], "only is_set and is_not_set"),
    ],
)
def test_scope_problems(scope: list[dict[str, object]], fragment: str) -> None:
    assert fragment in messages(with_fields(scope=scope))


def test_key_fields_must_differ() -> None:
    data = with_fields()
    data["keys"]["modstamp"] = "Id"
    assert "'Id' is already keys.remote_id" in messages(data)
