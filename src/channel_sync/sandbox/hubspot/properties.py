"""The deal properties the emulated portal defines: HubSpot's standard ones and channel-sync's.

The list follows docs/default-fields.md so the shipped mappings work unchanged. Each definition
knows how HubSpot describes it (``GET /crm/v3/properties/deals``) and how values are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from channel_sync.sandbox.hubspot.pipelines import PIPELINE_ID, PIPELINE_LABEL, STAGES

PropertyType = Literal["string", "number", "date", "datetime", "enumeration", "bool"]

PRODUCT_CODES = (
    "CLOUD-CORE",
    "CLOUD-PLUS",
    "SECURITY-SUITE",
    "ANALYTICS",
    "SUPPORT-PREMIUM",
    "TRAINING",
)
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "INR", "BRL")
REGISTRATION_STATUSES = (
    "submitted",
    "under_review",
    "approved",
    "rejected",
    "expired",
    "withdrawn",
)
CO_SELL_STATUSES = ("none", "requested", "accepted", "engaged", "declined")

#: When a client names no properties, HubSpot returns these for deals.
DEFAULT_PROPERTIES = (
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
)
#: Returned on every object whatever the client asked for.
ALWAYS_PROPERTIES = ("createdate", "hs_lastmodifieddate", "hs_object_id")
#: Written by the portal itself; a client write is refused with READ_ONLY_VALUE.
READ_ONLY = frozenset(
    {"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_deal_stage_probability"}
)


@dataclass(frozen=True)
class Option:
    label: str
    value: str

    def to_wire(self, order: int) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "displayOrder": order,
            "hidden": False,
            "description": "",
        }


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: PropertyType
    field_type: str
    group: str
    options: tuple[Option, ...] = ()
    unique: bool = False
    hubspot_defined: bool = True
    description: str = ""
    option_values: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_values", frozenset(o.value for o in self.options))

    @property
    def read_only(self) -> bool:
        return self.name in READ_ONLY

    @property
    def multi(self) -> bool:
        """A multiple-checkbox enumeration: values joined with ``;``."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_wire(self, order: int, created_at: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [o.to_wire(i) for i, o in enumerate(self.options)],
            "displayOrder": order if not self.hubspot_defined else -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only,
            "archived": False,
            "createdAt": created_at,
            "updatedAt": created_at,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
                "readOnlyOptions": self.name == "dealstage",
            },
        }
        return out


def _options(values: tuple[str, ...], labels: dict[str, str] | None = None) -> tuple[Option, ...]:
    names = labels or {}
    return tuple(Option(names.get(v, v.replace("_", " ").title()), v) for v in values)


def _standard() -> list[PropertyDef]:
    info = "dealinformation"
    return [
        PropertyDef("hs_object_id", "Record ID", "number", "number", info),
        PropertyDef("dealname", "Deal Name", "string", "text", info),
        PropertyDef(
            "dealstage",
            "Deal Stage",
            "enumeration",
            "radio",
            info,
            options=tuple(Option(s.label, s.id) for s in STAGES),
        ),
        PropertyDef(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            info,
            options=(Option(PIPELINE_LABEL, PIPELINE_ID),),
        ),
        PropertyDef("amount", "Amount", "number", "number", info),
        PropertyDef(
            "deal_currency_code",
            "Currency",
            "enumeration",
            "select",
            info,
            options=_options(CURRENCIES, {c: c for c in CURRENCIES}),
        ),
        PropertyDef("closedate", "Close Date", "datetime", "date", info),
        PropertyDef("description", "Deal Description", "string", "textarea", info),
        PropertyDef("hs_deal_stage_probability", "Deal probability", "number", "number", info),
        PropertyDef("createdate", "Create Date", "datetime", "date", info),
        PropertyDef("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", info),
    ]


def _custom() -> list[PropertyDef]:
    group = "channel_sync"

    def custom(
        name: str, label: str, kind: PropertyType, field_type: str, **kw: Any
    ) -> PropertyDef:
        return PropertyDef(name, label, kind, field_type, group, hubspot_defined=False, **kw)

    return [
        custom(
            "channel_sync_id",
            "Channel Sync ID",
            "string",
            "text",
            unique=True,
            description="Canonical deal id kept by channel-sync; unique per portal.",
        ),
        custom(
            "channel_sync_register",
            "Register with vendor",
            "bool",
            "booleancheckbox",
            options=(Option("Yes", "true"), Option("No", "false")),
        ),
        custom(
            "channel_sync_registration_status",
            "Vendor registration status",
            "enumeration",
            "select",
            options=_options(REGISTRATION_STATUSES),
        ),
        custom("channel_sync_registration_number", "Vendor registration number", "string", "text"),
        custom(
            "channel_sync_registration_expires", "Vendor registration expires", "datetime", "date"
        ),
        custom("channel_sync_decision_reason", "Vendor decision reason", "string", "textarea"),
        custom(
            "channel_sync_co_sell_status",
            "Co-sell status",
            "enumeration",
            "select",
            options=_options(CO_SELL_STATUSES),
        ),
        custom("channel_sync_vendor_rep", "Vendor rep", "string", "text"),
        custom("channel_sync_next_step", "Vendor next step", "string", "text"),
        custom("channel_sync_co_sell_notes", "Co-sell notes", "string", "textarea"),
        custom("channel_sync_customer_name", "End customer", "string", "text"),
        custom("channel_sync_customer_domain", "End customer domain", "string", "text"),
        custom("channel_sync_customer_country", "End customer country", "string", "text"),
        custom("channel_sync_customer_industry", "End customer industry", "string", "text"),
        custom(
            "channel_sync_products",
            "Products",
            "enumeration",
            "checkbox",
            options=tuple(Option(code, code) for code in PRODUCT_CODES),
        ),
        custom("channel_sync_partner_contact_email", "Partner contact e-mail", "string", "text"),
    ]


PROPERTIES: tuple[PropertyDef, ...] = tuple(_standard() + _custom())
PROPERTIES_BY_NAME: dict[str, PropertyDef] = {p.name: p for p in PROPERTIES}
UNIQUE_PROPERTIES: frozenset[str] = frozenset(p.name for p in PROPERTIES if p.unique)
