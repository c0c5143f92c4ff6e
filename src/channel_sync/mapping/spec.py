"""The mapping file format, version 1, as pydantic models.

These models are the single source of truth for the format: ``mappings/mapping.schema.json`` is
generated from them, and the loader validates files against them before the semantic checks in
:mod:`channel_sync.mapping.checks` (which need the canonical model and the whole file at once).
Everything here is data; nothing in a mapping file is ever evaluated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from channel_sync.model import canonical_fields

SUPPORTED_VERSIONS = frozenset({1})

#: Remote field and object names end up in SOQL and HubSpot filters, so they are identifiers.
RemoteName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]
#: A YAML scalar as written in a file: canonical values, remote values, constants, defaults.
Scalar = str | bool | int | float | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Connector(StrEnum):
    """Which wire dialect the remote speaks (how numbers, dates and booleans are written)."""

    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"


class WireType(StrEnum):
    """The remote field's type as the CRM's API carries it."""

    STRING = "string"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


class Direction(StrEnum):
    BOTH = "both"
    INBOUND = "inbound"
    OUTBOUND = "outbound"

    @property
    def reads(self) -> bool:
        return self is not Direction.OUTBOUND

    @property
    def writes(self) -> bool:
        return self is not Direction.INBOUND


class Authority(StrEnum):
    """Who wins when both sides changed the field to different values since the last sync."""

    VENDOR = "vendor"
    PARTNER = "partner"
    SHARED = "shared"


class OnConflict(StrEnum):
    REVIEW = "review"
    VENDOR = "vendor"
    PARTNER = "partner"


class Unmapped(StrEnum):
    """What a value map does with a value it has no entry for."""

    ERROR = "error"
    DEFAULT = "default"
    PASS = "pass"  # noqa: S105  (a policy name, not a credential)


class Case(StrEnum):
    LOWER = "lower"
    UPPER = "upper"


class Rounding(StrEnum):
    HALF_EVEN = "half_even"
    HALF_UP = "half_up"
    DOWN = "down"


class ScopeOp(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


class ValueMapSpec(_Strict):
    """Remote values to canonical values, with the reverse choice made explicit.

    Several remote values may map to one canonical value (two Salesforce stages that both mean
    ``qualification``); writing that canonical value back then needs a declared choice in
    ``outbound``, because guessing would silently rewrite a partner's data.
    """

    values: Annotated[
        dict[str, Scalar],
        Field(
            min_length=1,
            description="remote value (as text, e.g. 'Closed Won' or 'true') -> canonical value",
        ),
    ]
    outbound: dict[str, Scalar] = Field(
        default_factory=dict,
        description="canonical value -> the remote value to write, where several remote "
        "values map to that canonical value (or to write a value no remote value maps to)",
    )
    unmapped: Unmapped = Field(
        default=Unmapped.ERROR,
        description="a value with no entry: error (the record is quarantined), default "
        "(use 'default'), pass (keep the value as it is)",
    )
    default: Scalar = Field(
        default=None, description="canonical value used for unmapped values (unmapped: default)"
    )


class CurrencySpec(_Strict):
    """ISO 4217 currency codes, optionally limited to the ones the remote CRM has enabled."""

    allowed: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] | None = Field(
        default=None, description="the currency codes the remote accepts; others are refused"
    )


def _canonical_paths_enum(schema: dict[str, JsonValue]) -> None:
    """Offer the canonical paths to editors (completion) on the text branch of the field."""
    paths: list[JsonValue] = [*sorted(canonical_fields())]
    branches = schema.get("anyOf")
    if isinstance(branches, list) and branches and isinstance(branches[0], dict):
        branches[0]["enum"] = paths


class FieldSpec(_Strict):
    """One canonical path <-> one remote field, and how values cross between them.

    Transforms run in a fixed order (inbound: decode, trim, case, value map or lookup, scale,
    currency, type conversion, default; outbound the reverse), so a file never has to spell out
    an order and two files with the same keys always behave the same.
    """

    canonical: str | None = Field(
        default=None,
        description="dotted canonical path, e.g. customer.domain",
        json_schema_extra=_canonical_paths_enum,
    )
    remote: RemoteName | None = Field(default=None, description="remote field / property name")
    type: WireType | None = Field(default=None, description="the remote field's wire type")
    direction: Direction = Direction.BOTH
    authority: Authority | None = None
    on_conflict: OnConflict | None = Field(
        default=None, description="for shared fields: what happens when both sides changed it"
    )
    description: str | None = None
    trim: bool = Field(default=False, description="strip surrounding whitespace from text")
    case: Case | None = Field(default=None, description="fold text to lower or upper case")
    value_map: ValueMapSpec | None = None
    lookup: str | None = Field(default=None, description="name of a table under 'lookups'")
    format: str | None = Field(
        default=None,
        description="strftime/strptime pattern for dates held in a text field (type: string)",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone for date <-> datetime conversion and zone-less text (default UTC)",
    )
    scale: Annotated[int, Field(ge=0, le=10)] | None = Field(
        default=None, description="decimal places numbers are rounded to"
    )
    rounding: Rounding = Rounding.HALF_EVEN
    currency: CurrencySpec | None = None
    constant: Scalar = Field(
        default=None,
        description="a fixed value: with only 'canonical', the canonical value read for every "
        "record; with only 'remote', the remote value written on every record",
    )
    default: Scalar = Field(
        default=None, description="canonical value used when the value is empty (null)"
    )


class KeysSpec(_Strict):
    """The remote fields that identify and order records; they are never mapped as data."""

    remote_id: RemoteName = Field(description="the remote record id (Id, hs_object_id)")
    external_id: RemoteName = Field(
        description="the unique remote field holding the canonical id (upsert key)"
    )
    modstamp: RemoteName = Field(description="last-modified timestamp used for the cursor")
    deleted: RemoteName | None = Field(
        default=None, description="boolean field marking deleted records (IsDeleted)"
    )


class ScopePredicate(_Strict):
    """One condition a remote record must meet to take part in the sync (all are AND-ed)."""

    field: RemoteName
    op: ScopeOp = ScopeOp.EQ
    value: Scalar | list[Scalar] = None
    type: WireType | None = Field(
        default=None, description="wire type of the field; needed when the field is not mapped"
    )


class ExampleSpec(_Strict):
    """A remote record and the canonical values it stands for; run by ``mappings test``."""

    name: str
    description: str | None = None
    direction: Direction = Field(
        default=Direction.BOTH,
        description="inbound: check remote -> canonical; outbound: canonical -> remote",
    )
    remote: dict[str, Any] = Field(description="remote field -> wire value")
    canonical: dict[str, Any] = Field(description="dotted canonical path -> value")


class MappingSpec(_Strict):
    """A mapping file: how one connector's object translates to the canonical opportunity."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="channel-sync mapping",
        json_schema_extra={"$id": "https://channel-sync.dev/schemas/mapping.schema.json"},
    )

    version: Literal[1]
    connector: Connector
    object: RemoteName
    description: str | None = None
    keys: KeysSpec
    scope: list[ScopePredicate] = Field(default_factory=list)
    lookups: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ValueMapSpec] = Field(
        default_factory=dict, description="named value maps that several fields can share"
    )
    fields: Annotated[list[FieldSpec], Field(min_length=1)]
    examples: list[ExampleSpec] = Field(default_factory=list)
