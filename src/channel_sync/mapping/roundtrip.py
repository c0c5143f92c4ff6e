"""The round-trip check for ``both`` fields, on the examples and on generated probe values.

A ``both`` field is read from and written to the same remote field, so translating must not
lose anything the sync relies on. Two checks, each judged on the canonical side:

* canonical -> remote -> canonical must give back the same canonical value, for every probe in
  the field's declared domain (the value map's canonical values, the allowed currencies, or
  typical values of the canonical type: padded and mixed-case text, fractional amounts,
  non-midnight times in several zones ...);
* remote -> canonical -> remote -> canonical must be stable: a value read and written back must
  read as what was read. Where a value map sends several remote values to one canonical value,
  writing back the declared choice passes; that is the mapping saying those values are one.

A value the mapping refuses to read (not in the value map, invalid for the model) is not a
round-trip failure; ``mappings validate`` and the record quarantine deal with those. An empty
text and no value are the same thing here: neither Salesforce nor HubSpot can store an empty
string as distinct from an empty field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

from channel_sync.mapping.compiled import CompiledMapping
from channel_sync.mapping.flat import canonical_value, nullable_paths
from channel_sync.mapping.spec import Direction, FieldSpec, Unmapped, WireType
from channel_sync.mapping.transforms import FieldCodec
from channel_sync.mapping.wire import encoder, format_sf_datetime
from channel_sync.model import canonical_fields

_DATA_ERRORS = (ValueError, ArithmeticError, TypeError)

_TEXT = (
    "",
    "   ",
    "Acme Renewal 2026",
    "  padded value  ",
    "MiXeD Case Text",
    "Ünïcødé ✓ — 東京",
    "O'Brien & Co. \"quoted\" \\ slash",
    "line one\nline two",
    "x",
    "example.com",
    "sub.example.co.uk",
    "Jane.Doe@Example.com",
    "DE",
    "us",
    "EUR",
    "JPY",
)
_DECIMALS = ("0", "1", "0.01", "1000.5", "1234567.89", "999999999999.99")
_INTEGERS = (0, 1, 42, 100)
_DATES = (date(2026, 3, 31), date(2024, 2, 29), date(1999, 12, 31), date(2026, 1, 1))
_DATETIMES = (
    datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2026, 6, 15, 8, 30, tzinfo=timezone(timedelta(hours=2))),
    datetime(1999, 12, 31, 23, 0, 0, 500000, tzinfo=UTC),
)
_PRODUCTS = ((), ("CLOUD-CORE",), ("TRAINING", "ANALYTICS", "CLOUD-CORE"))


@dataclass(frozen=True)
class Failure:
    """One probe that did not come back as it went."""

    start: str  # "canonical" or "remote": which side the probe started on
    value: Any
    trail: tuple[Any, ...]
    reason: str


@dataclass
class FieldRoundTrip:
    index: int
    canonical: str
    remote: str
    canonical_probes: int = 0
    remote_probes: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def same_canonical(left: Any, right: Any) -> bool:
    """Canonical equality, with empty text and no value taken as the same (see above)."""
    if left in (None, "") and right in (None, ""):
        return True
    return bool(left == right)


def _unique(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not any(type(value) is type(seen) and value == seen for seen in out):
            out.append(value)
    return out


def _type_candidates(kind: type) -> list[Any]:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind)
    table: dict[type, Iterable[Any]] = {
        bool: (True, False),
        int: _INTEGERS,
        Decimal: (Decimal(d) for d in _DECIMALS),
        date: _DATES,
        datetime: _DATETIMES,
        list: (list(p) for p in _PRODUCTS),
    }
    return list(table.get(kind, _TEXT))


def canonical_probes(codec: FieldCodec, entry: FieldSpec) -> list[Any]:
    """Canonical values in the field's declared domain, normalized by the model."""
    assert codec.canonical is not None
    info = canonical_fields()[codec.canonical]
    vmap = codec.value_map
    candidates: list[Any] = []
    if vmap is not None:
        targets: list[Any] = list(vmap.reverse)
        candidates += [[t] for t in targets] + [targets] if info.type is list else targets
    if vmap is None or vmap.unmapped is Unmapped.PASS:
        candidates += _type_candidates(info.type)
    if entry.currency is not None and entry.currency.allowed:
        candidates = list(entry.currency.allowed)
    if codec.canonical in nullable_paths() and entry.default is None:
        candidates.append(None)
    out = []
    for candidate in candidates:
        try:
            out.append(canonical_value(codec.canonical, candidate))
        except ValueError:
            continue
    return _unique(out)


def remote_probes(codec: FieldCodec, compiled: CompiledMapping) -> list[Any]:
    """Wire values of the field's type (and value map), as the remote would send them."""
    assert codec.wire is not None
    wire = codec.wire
    neutral: list[Any] = [None]
    if codec.value_map is not None:
        keys = list(codec.value_map.forward)
        neutral += [[k] for k in keys] + [keys] if wire is WireType.MULTIPICKLIST else keys
    if codec.value_map is None or codec.value_map.unmapped is not Unmapped.ERROR:
        neutral += _wire_candidates(wire)
    encode: Callable[[Any], Any] = encoder(compiled.connector, wire)
    out: list[Any] = []
    for value in neutral:
        try:
            out.append(encode(value))
        except _DATA_ERRORS:
            continue
    out += _raw_extras(wire, compiled.connector.value)
    return _unique(out)


_WIRE_CANDIDATES: dict[WireType, tuple[Any, ...]] = {
    WireType.STRING: _TEXT,
    WireType.PICKLIST: _TEXT,
    WireType.NUMBER: tuple(Decimal(d) for d in (*_DECIMALS, "1000.50", "1234567.891")),
    WireType.INTEGER: _INTEGERS,
    WireType.BOOLEAN: (True, False),
    WireType.DATE: _DATES,
    WireType.DATETIME: _DATETIMES,
}


def _wire_candidates(wire: WireType) -> list[Any]:
    if wire is WireType.MULTIPICKLIST:
        return [list(p) for p in _PRODUCTS]
    return list(_WIRE_CANDIDATES[wire])


def _raw_extras(wire: WireType, connector: str) -> list[Any]:
    """Forms a CRM sends that the encoder never produces."""
    hubspot = connector == "hubspot"
    if wire is WireType.DATETIME:
        return ["1767607200000", ""] if hubspot else [
            format_sf_datetime(_DATETIMES[0]).replace("+0000", "+0200")
        ]
    if wire is WireType.NUMBER:
        return ["1000.50", "1e3"] if hubspot else [1000.5, 12]
    if wire is WireType.BOOLEAN and hubspot:
        return ["TRUE", ""]
    return []


def _read(codec: FieldCodec, raw: Any) -> Any:
    assert codec.read is not None
    return canonical_value(codec.canonical or "", codec.read(raw))


def check_field(
    compiled: CompiledMapping, codec: FieldCodec, extra_canonical: Iterable[Any] = (),
    extra_remote: Iterable[Any] = (),
) -> FieldRoundTrip:
    """Round-trip every probe (plus the examples' values) through one ``both`` field."""
    assert codec.canonical is not None
    assert codec.remote is not None
    assert codec.write is not None
    entry = compiled.spec.fields[codec.index]
    result = FieldRoundTrip(codec.index, codec.canonical, codec.remote)
    for value in _unique([*canonical_probes(codec, entry), *extra_canonical]):
        result.canonical_probes += 1
        try:
            wire = codec.write(value)
        except _DATA_ERRORS as exc:
            result.failures.append(Failure("canonical", value, (), f"cannot be written: {exc}"))
            continue
        try:
            back = _read(codec, wire)
        except _DATA_ERRORS as exc:
            result.failures.append(
                Failure("canonical", value, (wire,), f"written value cannot be read: {exc}")
            )
            continue
        if not same_canonical(back, value):
            result.failures.append(Failure("canonical", value, (wire, back), "changed"))
    for raw in _unique([*remote_probes(codec, compiled), *extra_remote]):
        try:
            first = _read(codec, raw)
        except _DATA_ERRORS:
            continue  # refused on read: a record error, not a round-trip loss
        result.remote_probes += 1
        try:
            wire = codec.write(first)
            again = _read(codec, wire)
        except _DATA_ERRORS as exc:
            result.failures.append(
                Failure("remote", raw, (first,), f"read value cannot be written back: {exc}")
            )
            continue
        if not same_canonical(again, first):
            result.failures.append(Failure("remote", raw, (first, wire, again), "changed"))
    return result


def check_round_trips(compiled: CompiledMapping) -> list[FieldRoundTrip]:
    """Check every ``both`` field with a canonical path and a remote field."""
    results: list[FieldRoundTrip] = []
    for codec in compiled.fields:
        if codec.direction is not Direction.BOTH or codec.read is None or codec.write is None:
            continue
        path, remote = codec.canonical or "", codec.remote or ""
        canon_extra: list[Any] = []
        remote_extra: list[Any] = []
        for example in compiled.spec.examples:
            if remote in example.remote:
                remote_extra.append(example.remote[remote])
            if path in example.canonical:
                try:
                    canon_extra.append(canonical_value(path, example.canonical[path]))
                except ValueError:
                    continue  # reported as a file problem by the example checks
        results.append(check_field(compiled, codec, canon_extra, remote_extra))
    return results
