"""A mapping's scope: which remote records take part in the sync.

The scope is a short list of declarative predicates (AND-ed), never an expression, so the same
list can be checked against a record in Python, rendered as a SOQL ``WHERE`` clause, or rendered
as HubSpot search filters, and all three agree. Field names are identifiers (the schema enforces
it) and values are rendered through typed literal formatting with escaping, so a mapping file can
never inject query syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from channel_sync.mapping.spec import Connector, ScopeOp, ScopePredicate, WireType
from channel_sync.mapping.valuemap import literal
from channel_sync.mapping.wire import decoder, format_decimal

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_SOQL_OPS = {ScopeOp.EQ: "=", ScopeOp.NE: "!=", ScopeOp.IN: "IN", ScopeOp.NOT_IN: "NOT IN"}
_HUBSPOT_OPS = {
    ScopeOp.EQ: "EQ",
    ScopeOp.NE: "NEQ",
    ScopeOp.IN: "IN",
    ScopeOp.NOT_IN: "NOT_IN",
    ScopeOp.IS_SET: "HAS_PROPERTY",
    ScopeOp.IS_NOT_SET: "NOT_HAS_PROPERTY",
}


def _typed(wire: WireType, value: Any) -> Any:
    if wire is WireType.DATE:
        return date.fromisoformat(str(value))
    if wire is WireType.DATETIME:
        moment = datetime.fromisoformat(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return literal(wire, value)


def soql_literal(value: Any) -> str:
    """A typed value as a SOQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return format_decimal(Decimal(value))
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    if isinstance(value, date):
        return value.isoformat()
    text = "".join(_SOQL_ESCAPES.get(ch, ch) for ch in str(value))
    return f"'{text}'"


def _hubspot_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return format_decimal(Decimal(value))
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(
            value.year, value.month, value.day, tzinfo=UTC
        )
        return str(int(moment.timestamp() * 1000))
    return str(value)


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: ScopeOp
    wire: WireType
    values: tuple[Any, ...]
    decode: Callable[[Any], Any]

    def matches(self, record: Mapping[str, Any]) -> bool:
        value = self.decode(record.get(self.field))
        is_set = value not in (None, "", [])
        if self.op is ScopeOp.IS_SET:
            return is_set
        if self.op is ScopeOp.IS_NOT_SET:
            return not is_set
        if self.op is ScopeOp.EQ:
            return bool(value == self.values[0])
        if self.op is ScopeOp.NE:
            return bool(value != self.values[0])
        if self.op is ScopeOp.IN:
            return value in self.values
        return value not in self.values

    def soql(self) -> str:
        if self.op is ScopeOp.IS_SET:
            return f"{self.field} != null"
        if self.op is ScopeOp.IS_NOT_SET:
            return f"{self.field} = null"
        if self.op in (ScopeOp.IN, ScopeOp.NOT_IN):
            listed = ", ".join(soql_literal(v) for v in self.values)
            return f"{self.field} {_SOQL_OPS[self.op]} ({listed})"
        return f"{self.field} {_SOQL_OPS[self.op]} {soql_literal(self.values[0])}"

    def hubspot_filter(self) -> dict[str, Any]:
        out: dict[str, Any] = {"propertyName": self.field, "operator": _HUBSPOT_OPS[self.op]}
        if self.op in (ScopeOp.IN, ScopeOp.NOT_IN):
            out["values"] = [_hubspot_value(v) for v in self.values]
        elif self.values:
            out["value"] = _hubspot_value(self.values[0])
        return out


@dataclass(frozen=True, slots=True)
class Scope:
    """The compiled scope; an empty scope takes every record."""

    conditions: tuple[Condition, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(c.matches(record) for c in self.conditions)

    def soql_where(self) -> str | None:
        """The conditions as a SOQL boolean expression (without ``WHERE``), or ``None``."""
        if not self.conditions:
            return None
        return " AND ".join(c.soql() for c in self.conditions)

    def hubspot_filters(self) -> list[dict[str, Any]]:
        """The conditions as filters of one HubSpot search filter group (AND-ed)."""
        return [c.hubspot_filter() for c in self.conditions]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.field for c in self.conditions))


def compile_scope(
    predicates: list[ScopePredicate], connector: Connector, wires: Mapping[str, WireType]
) -> Scope:
    """Compile checked predicates; ``wires`` gives the type of fields the mapping maps."""
    conditions: list[Condition] = []
    for pred in predicates:
        wire = pred.type or wires[pred.field]
        raw = pred.value if isinstance(pred.value, list) else [pred.value]
        values = () if pred.value is None else tuple(_typed(wire, v) for v in raw)
        conditions.append(Condition(pred.field, pred.op, wire, values, decoder(connector, wire)))
    return Scope(tuple(conditions))
