from __future__ import annotations

import pytest

from channel_sync.mapping import load_mapping
from channel_sync.sandbox.salesforce.soql_lexer import tokenize

from .helpers import MAPPINGS, compiled, with_fields

STATUS = {"canonical": "registration.status", "remote": "Registration_Status__c",
          "type": "picklist", "direction": "inbound", "authority": "vendor",
          "value_map": {"values": {"Approved": "approved", "Submitted": "submitted"}}}


def test_shipped_partner_scopes() -> None:
    hubspot = load_mapping(MAPPINGS / "partner-hubspot-deal.yaml").compiled
    assert hubspot.in_scope({"channel_sync_register": "true"})
    assert not hubspot.in_scope({"channel_sync_register": "false"})
    assert not hubspot.in_scope({"channel_sync_register": ""})
    assert hubspot.scope.hubspot_filters() == [
        {"propertyName": "channel_sync_register", "operator": "EQ", "value": "true"}
    ]
    salesforce = load_mapping(MAPPINGS / "partner-salesforce-opportunity.yaml").compiled
    assert salesforce.scope.soql_where() == "Channel_Sync_Register__c = true"
    assert salesforce.in_scope({"Channel_Sync_Register__c": True})
    assert "Channel_Sync_Register__c" in salesforce.read_fields
    vendor = load_mapping(MAPPINGS / "vendor-salesforce-opportunity.yaml").compiled
    assert vendor.scope.soql_where() is None
    assert vendor.in_scope({})


@pytest.mark.parametrize(
    "value", ["O'Brien", "a\\' OR Name != null OR Name = \\'", "line\nbreak", 'say "hi"']
)
def test_soql_literals_cannot_escape_their_quotes(value: str) -> None:
    mapping = compiled(
        with_fields(scope=[{"field": "Customer_Name__c", "type": "string", "value": value}])
    )
    where = mapping.scope.soql_where()
    assert where is not None
    tokens = [t for t in tokenize(where) if t.kind != "EOF"]
    assert [t.kind for t in tokens] == ["IDENT", "OP", "STRING"]
    assert tokens[2].value == value


def test_every_operator_renders_and_matches() -> None:
    scope = [
        {"field": "Registration_Status__c", "op": "in", "value": ["Approved", "Submitted"]},
        {"field": "Amount", "type": "number", "op": "ne", "value": 0},
        {"field": "CloseDate", "type": "date", "op": "is_set"},
        {"field": "Partner_Account__c", "type": "string", "op": "not_in", "value": ["x"]},
        {"field": "Description", "type": "string", "op": "is_not_set"},
        {"field": "Registration_Decided__c", "type": "datetime", "op": "ne",
         "value": "2026-01-05T10:00:00Z"},
    ]
    mapping = compiled(with_fields(STATUS, scope=scope))
    assert mapping.scope.soql_where() == (
        "Registration_Status__c IN ('Approved', 'Submitted') AND Amount != 0 AND "
        "CloseDate != null AND Partner_Account__c NOT IN ('x') AND Description = null AND "
        "Registration_Decided__c != 2026-01-05T10:00:00Z"
    )
    operators = [f["operator"] for f in mapping.scope.hubspot_filters()]
    assert operators == ["IN", "NEQ", "HAS_PROPERTY", "NOT_IN", "NOT_HAS_PROPERTY", "NEQ"]
    assert mapping.scope.hubspot_filters()[5]["value"] == "1767607200000"
    record = {"Registration_Status__c": "Approved", "Amount": 10, "CloseDate": "2026-01-01",
              "Partner_Account__c": "y", "Description": None,
              "Registration_Decided__c": "2026-02-01T00:00:00.000+0000"}
    assert mapping.in_scope(record)
    assert not mapping.in_scope({**record, "Amount": 0})
    assert not mapping.in_scope({**record, "Registration_Status__c": "Rejected"})
    assert not mapping.in_scope({**record, "CloseDate": None})
    assert not mapping.in_scope({**record, "Description": "set"})
