"""The parsed form of a SOQL query, already resolved against the Opportunity schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from channel_sync.sandbox.salesforce.schema import FieldSpec

# A literal after typing: text, number, boolean, date, datetime, a date-literal range, or null.
Scalar = str | Decimal | bool | date | datetime | None


@dataclass(frozen=True)
class DateRange:
    """A relative date literal such as TODAY or LAST_N_DAYS:7, as a half-open UTC range."""

    start: datetime
    end: datetime


Value = Scalar | DateRange


@dataclass(frozen=True)
class Comparison:
    field: FieldSpec
    op: str  # = != < <= > >= IN NOTIN LIKE INCLUDES EXCLUDES
    value: Value | tuple[Value, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND OR
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    field: FieldSpec
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class SoqlQuery:
    fields: tuple[FieldSpec, ...] | None  # None for SELECT COUNT()
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int
