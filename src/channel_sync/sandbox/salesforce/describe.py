"""Describe results built from the schema table: global describe, the object's basic info and
the full Opportunity describe with every field and picklist."""

from __future__ import annotations

from typing import Any

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.schema import FieldSpec

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "double": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def _urls(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{schema.OBJECT_NAME}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def object_summary(version: str) -> dict[str, Any]:
    """The entry of global describe (and the ``objectDescribe`` of basic info)."""
    return {
        "activateable": False,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": True,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": schema.KEY_PREFIX,
        "label": "Opportunity",
        "labelPlural": "Opportunities",
        "layoutable": True,
        "mergeable": False,
        "mruEnabled": True,
        "name": schema.OBJECT_NAME,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": _urls(version),
    }


def global_describe(version: str) -> dict[str, Any]:
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [object_summary(version)]}


def basic_info(version: str) -> dict[str, Any]:
    return {"objectDescribe": object_summary(version), "recentItems": []}


def _picklist(spec: FieldSpec) -> list[dict[str, Any]]:
    default = schema.DEFAULT_CURRENCY if spec.name == "CurrencyIsoCode" else None
    return [
        {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
        for v in spec.picklist
    ]


def field_describe(spec: FieldSpec) -> dict[str, Any]:
    is_bool = spec.type == "boolean"
    return {
        "aggregatable": not spec.is_long_text and spec.type != "multipicklist",
        "autoNumber": False,
        "byteLength": spec.length * 3 if spec.length else 0,
        "calculated": False,
        "caseSensitive": False,
        "createable": spec.createable,
        "custom": spec.custom,
        "defaultValue": False if is_bool and spec.createable else None,
        "defaultedOnCreate": spec.name in ("Id", "IsDeleted", "CreatedDate", "SystemModstamp")
        or is_bool,
        "digits": 0,
        "externalId": spec.external_id,
        "filterable": spec.filterable,
        "groupable": spec.sortable and spec.type not in schema.NUMBER_TYPES,
        "htmlFormatted": False,
        "idLookup": spec.name == "Id" or spec.external_id,
        "label": spec.label,
        "length": spec.length,
        "name": spec.name,
        "nameField": spec.name == "Name",
        "nillable": spec.nillable and not is_bool,
        "permissionable": spec.custom,
        "picklistValues": _picklist(spec),
        "precision": spec.precision,
        "referenceTo": list(spec.reference_to),
        "relationshipName": spec.relationship_name,
        "restrictedPicklist": spec.restricted,
        "scale": spec.scale,
        "soapType": _SOAP_TYPES.get(spec.type, "xsd:string"),
        "sortable": spec.sortable,
        "type": spec.type,
        "unique": spec.unique,
        "updateable": spec.updateable,
    }


def object_describe(version: str) -> dict[str, Any]:
    return {
        **object_summary(version),
        "childRelationships": [],
        "fields": [field_describe(f) for f in schema.FIELDS],
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
            }
        ],
        "supportedScopes": [
            {"label": "All opportunities", "name": "everything"},
            {"label": "My opportunities", "name": "mine"},
        ],
    }
