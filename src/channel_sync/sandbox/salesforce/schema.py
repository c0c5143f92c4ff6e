"""The Opportunity object every sandbox org describes: standard fields, the union of the vendor
and partner custom fields of docs/default-fields.md, and the stages of a new org.

One table drives describe, SOQL field resolution, write validation and wire rendering, so the
four can never disagree about a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

OBJECT_NAME: Final = "Opportunity"
KEY_PREFIX: Final = "006"
USER_PREFIX: Final = "005"
ORG_PREFIX: Final = "00D"
EXTERNAL_ID_FIELD: Final = "Channel_Sync_Id__c"

# Types whose values are text on the wire and in SOQL.
TEXT_TYPES: Final = frozenset(
    {"string", "textarea", "email", "picklist", "multipicklist", "phone", "url"}
)
ID_TYPES: Final = frozenset({"id", "reference"})
NUMBER_TYPES: Final = frozenset({"currency", "percent", "double", "int"})
LONG_TEXT_THRESHOLD: Final = 255


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int
    is_closed: bool
    is_won: bool
    forecast: str


STAGES: Final = (
    Stage("Prospecting", 10, False, False, "Pipeline"),
    Stage("Qualification", 10, False, False, "Pipeline"),
    Stage("Needs Analysis", 20, False, False, "Pipeline"),
    Stage("Value Proposition", 50, False, False, "Pipeline"),
    Stage("Id. Decision Makers", 60, False, False, "Pipeline"),
    Stage("Perception Analysis", 70, False, False, "Pipeline"),
    Stage("Proposal/Price Quote", 75, False, False, "Pipeline"),
    Stage("Negotiation/Review", 90, False, False, "Pipeline"),
    Stage("Closed Won", 100, True, True, "Closed"),
    Stage("Closed Lost", 0, True, False, "Omitted"),
)
STAGE_BY_NAME: Final = MappingProxyType({s.name: s for s in STAGES})

CURRENCIES: Final = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "INR", "BRL")
DEFAULT_CURRENCY: Final = "USD"
REGISTRATION_STATUSES: Final = (
    "Submitted",
    "Under Review",
    "Approved",
    "Rejected",
    "Expired",
    "Withdrawn",
)
CO_SELL_STATUSES: Final = ("None", "Requested", "Accepted", "Engaged", "Declined")
PRODUCTS: Final = (
    "CLOUD-CORE",
    "CLOUD-PLUS",
    "SECURITY-SUITE",
    "ANALYTICS",
    "SUPPORT-PREMIUM",
    "TRAINING",
)


@dataclass(frozen=True)
class FieldSpec:
    """What an org knows about one field (the parts of a describe the emulator acts on)."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def is_long_text(self) -> bool:
        return self.type == "textarea" and self.length > LONG_TEXT_THRESHOLD

    @property
    def filterable(self) -> bool:
        return not self.is_long_text

    @property
    def sortable(self) -> bool:
        return not self.is_long_text and self.type != "multipicklist"

    @property
    def soql_type(self) -> str:
        """The type name Salesforce uses in filter-criterion errors."""
        if self.type in NUMBER_TYPES:
            return "double"
        if self.type == "datetime":
            return "dateTime"
        if self.type in ("date", "boolean"):
            return self.type
        return "string"


def _ro(name: str, label: str, type_: str, **kw: object) -> FieldSpec:
    return FieldSpec(name, label, type_, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _text(name: str, label: str, length: int, type_: str = "string", **kw: object) -> FieldSpec:
    return FieldSpec(name, label, type_, length=length, **kw)  # type: ignore[arg-type]


def _pick(name: str, label: str, values: tuple[str, ...], **kw: object) -> FieldSpec:
    return FieldSpec(name, label, "picklist", length=255, picklist=values, **kw)  # type: ignore[arg-type]


_STANDARD: tuple[FieldSpec, ...] = (
    _ro("Id", "Opportunity ID", "id", length=18, nillable=False),
    _ro("IsDeleted", "Deleted", "boolean", nillable=False),
    _text("Name", "Name", 120, nillable=False),
    _text("Description", "Description", 32000, "textarea"),
    _pick(
        "StageName",
        "Stage",
        tuple(s.name for s in STAGES),
        nillable=False,
        restricted=True,
    ),
    FieldSpec("Amount", "Amount", "currency", precision=18, scale=2),
    FieldSpec("Probability", "Probability (%)", "percent", precision=3, scale=0),
    FieldSpec("CloseDate", "Close Date", "date", nillable=False),
    _text("NextStep", "Next Step", 255),
    _ro("IsClosed", "Closed", "boolean", nillable=False),
    _ro("IsWon", "Won", "boolean", nillable=False),
    _pick("CurrencyIsoCode", "Opportunity Currency", CURRENCIES, restricted=True),
    _ro("CreatedDate", "Created Date", "datetime", nillable=False),
    _ro(
        "CreatedById",
        "Created By ID",
        "reference",
        length=18,
        nillable=False,
        reference_to=("User",),
        relationship_name="CreatedBy",
    ),
    _ro("LastModifiedDate", "Last Modified Date", "datetime", nillable=False),
    _ro(
        "LastModifiedById",
        "Last Modified By ID",
        "reference",
        length=18,
        nillable=False,
        reference_to=("User",),
        relationship_name="LastModifiedBy",
    ),
    _ro("SystemModstamp", "System Modstamp", "datetime", nillable=False),
)

_CUSTOM: tuple[FieldSpec, ...] = (
    _text("Channel_Sync_Id__c", "Channel Sync Id", 64, external_id=True, unique=True),
    _text("Partner_Account__c", "Partner Account", 64),
    _pick("Registration_Status__c", "Registration Status", REGISTRATION_STATUSES, restricted=True),
    _text("Registration_Number__c", "Registration Number", 80),
    FieldSpec("Registration_Submitted__c", "Registration Submitted", "datetime"),
    FieldSpec("Registration_Decided__c", "Registration Decided", "datetime"),
    FieldSpec("Registration_Expires__c", "Registration Expires", "datetime"),
    _text("Registration_Decision_Reason__c", "Registration Decision Reason", 2000, "textarea"),
    FieldSpec("Channel_Conflict__c", "Channel Conflict", "boolean", nillable=False),
    _text("Channel_Conflict_Evidence__c", "Channel Conflict Evidence", 4000, "textarea"),
    _pick("Co_Sell_Status__c", "Co-Sell Status", CO_SELL_STATUSES, restricted=True),
    _text("Co_Sell_Vendor_Rep__c", "Co-Sell Vendor Rep", 80, "email"),
    _text("Co_Sell_Notes__c", "Co-Sell Notes", 32000, "textarea"),
    _text("Customer_Name__c", "Customer Name", 255),
    _text("Customer_Domain__c", "Customer Domain", 255),
    _text("Customer_Country__c", "Customer Country", 2),
    _text("Customer_Industry__c", "Customer Industry", 120),
    FieldSpec(
        "Products__c",
        "Products",
        "multipicklist",
        length=4099,
        picklist=PRODUCTS,
        restricted=True,
    ),
    _text("Partner_Contact_Email__c", "Partner Contact Email", 80, "email"),
    FieldSpec("Channel_Sync_Register__c", "Channel Sync Register", "boolean", nillable=False),
    _pick(
        "Vendor_Registration_Status__c",
        "Vendor Registration Status",
        REGISTRATION_STATUSES,
        restricted=True,
    ),
    _text("Vendor_Registration_Number__c", "Vendor Registration Number", 80),
    FieldSpec("Vendor_Registration_Expires__c", "Vendor Registration Expires", "datetime"),
    _text(
        "Vendor_Registration_Decision_Reason__c",
        "Vendor Registration Decision Reason",
        2000,
        "textarea",
    ),
    _pick("Vendor_Co_Sell_Status__c", "Vendor Co-Sell Status", CO_SELL_STATUSES, restricted=True),
    _text("Vendor_Co_Sell_Rep__c", "Vendor Co-Sell Rep", 80, "email"),
    _text("Vendor_Co_Sell_Next_Step__c", "Vendor Co-Sell Next Step", 255),
    _text("Vendor_Co_Sell_Notes__c", "Vendor Co-Sell Notes", 32000, "textarea"),
)

FIELDS: Final = (*_STANDARD, *(FieldSpec(**{**f.__dict__, "custom": True}) for f in _CUSTOM))
FIELD_BY_LOWER: Final = MappingProxyType({f.name.lower(): f for f in FIELDS})
FIELD_NAMES: Final = tuple(f.name for f in FIELDS)

# Checkboxes are never null in Salesforce: an unset checkbox reads false.
BOOLEAN_DEFAULTS: Final = MappingProxyType(
    {f.name: False for f in FIELDS if f.type == "boolean" and f.createable}
)
REQUIRED_ON_CREATE: Final = ("Name", "StageName", "CloseDate")
MAX_CURRENCY: Final = Decimal(10) ** 16


def field(name: str) -> FieldSpec | None:
    """Case-insensitive lookup, as SOQL and the REST API resolve field names."""
    return FIELD_BY_LOWER.get(name.lower())
