"""One field entry compiled into two plain functions: wire value -> canonical value and back.

Each function is assembled once from only the steps the entry asks for, in a fixed order
(inbound: decode, trim, case, scale, currency, value map or type conversion, default; outbound:
the reverse), so translating a record never looks at the mapping file again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from channel_sync.mapping.spec import (
    Authority,
    Case,
    Connector,
    Direction,
    FieldSpec,
    OnConflict,
    Rounding,
    ValueMapSpec,
    WireType,
)
from channel_sync.mapping.valuemap import (
    CompiledValueMap,
    Issue,
    canonical_item,
    compile_value_map,
    literal,
    shown,
)
from channel_sync.mapping.wire import WireError, decoder, encoder
from channel_sync.model import canonical_fields
from channel_sync.model.currency import is_currency

Step = Callable[[Any], Any]

_ROUNDING = {
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.DOWN: ROUND_DOWN,
}


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """A compiled field entry. ``read``/``write`` are ``None`` in the direction it does not go."""

    index: int
    canonical: str | None
    remote: str | None
    direction: Direction
    wire: WireType | None
    read: Step | None
    write: Step | None
    #: Human-readable transform steps, in the order they run inbound.
    steps: tuple[str, ...]
    value_map: CompiledValueMap | None
    #: For constant entries: the canonical value read, or the wire value written.
    constant: Any = None
    authority: Authority | None = None
    #: For shared fields: what a conflict leads to (review unless the file says otherwise).
    on_conflict: OnConflict | None = None

    @property
    def is_constant(self) -> bool:
        return self.constant is not None


def chain(steps: Sequence[Step | None]) -> Step | None:
    """Compose steps left to right; ``None`` when there is nothing to do."""
    funcs = [s for s in steps if s is not None]
    if not funcs:
        return None
    if len(funcs) == 1:
        return funcs[0]
    if len(funcs) == 2:
        first, second = funcs
        return lambda value: second(first(value))

    def run(value: Any) -> Any:
        for func in funcs:
            value = func(value)
        return value

    return run


def _per_item(step: Step | None, items: bool) -> Step | None:
    if step is None or not items:
        return step
    return lambda values: [step(v) for v in values]


def zone_of(spec: FieldSpec) -> tzinfo:
    return ZoneInfo(spec.timezone) if spec.timezone else UTC


def _enum_reader(enum: type[Enum]) -> Step:
    allowed = ", ".join(repr(m.value) for m in enum)

    def read(value: Any) -> Any:
        try:
            return enum(value)
        except ValueError:
            raise WireError(f"{shown(value)} is not one of {allowed}") from None

    return read


def _decimal_to_int(value: Decimal) -> int:
    if value != value.to_integral_value():
        raise WireError(f"{value} is not a whole number")
    return int(value)


def _text_to_datetime(fmt: str | None, zone: tzinfo) -> Step:
    def parse(value: str) -> datetime:
        # Zone-less text is placed in the field's zone on the next line.
        moment = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)  # noqa: DTZ007
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    return parse


def _text_to_date(fmt: str | None, zone: tzinfo) -> Step:
    if fmt is None:
        return date.fromisoformat

    def parse(value: str) -> date:
        moment = datetime.strptime(value, fmt)  # noqa: DTZ007  (only the calendar date is kept)
        return (moment.astimezone(zone) if moment.tzinfo else moment).date()

    return parse


def _to_canonical(wire: WireType, ctype: type, fmt: str | None, zone: tzinfo) -> Step | None:
    """Neutral wire value -> canonical type (``None`` when they already agree)."""
    if isinstance(ctype, type) and issubclass(ctype, Enum):
        return _enum_reader(ctype)
    table: dict[tuple[type, WireType], Step] = {
        (int, WireType.NUMBER): _decimal_to_int,
        (Decimal, WireType.INTEGER): Decimal,
        (date, WireType.DATETIME): lambda value: value.astimezone(zone).date(),
        (date, WireType.STRING): _text_to_date(fmt, zone),
        (datetime, WireType.DATE): lambda value: datetime.combine(value, time(), zone).astimezone(
            UTC
        ),
        (datetime, WireType.STRING): _text_to_datetime(fmt, zone),
    }
    return table.get((ctype, wire))


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _datetime_to_text(fmt: str | None, zone: tzinfo) -> Step:
    if fmt:
        return lambda value: value.astimezone(zone).strftime(fmt)
    return lambda value: value.astimezone(zone).isoformat()


def _to_neutral(wire: WireType, ctype: type, fmt: str | None, zone: tzinfo) -> Step | None:
    """Canonical value -> neutral wire value (``None`` when they already agree)."""
    if isinstance(ctype, type) and issubclass(ctype, Enum):
        return _enum_value
    table: dict[tuple[type, WireType], Step] = {
        (int, WireType.NUMBER): Decimal,
        (Decimal, WireType.INTEGER): _decimal_to_int,
        (date, WireType.DATETIME): lambda value: datetime.combine(value, time(), zone).astimezone(
            UTC
        ),
        (date, WireType.STRING): (lambda value: value.strftime(fmt)) if fmt else date.isoformat,
        (datetime, WireType.DATE): lambda value: value.astimezone(zone).date(),
        (datetime, WireType.STRING): _datetime_to_text(fmt, zone),
    }
    return table.get((ctype, wire))


def _currency_step(allowed: frozenset[str] | None) -> Step:
    def check(value: str) -> str:
        code = value.strip().upper()
        if not is_currency(code):
            raise WireError(f"{shown(value)} is not an ISO 4217 currency code")
        if allowed is not None and code not in allowed:
            raise WireError(f"{code} is not one of the allowed currencies {sorted(allowed)}")
        return code

    return check


def _scale_step(places: int, rounding: Rounding) -> Step:
    exponent = Decimal(1).scaleb(-places)
    mode = _ROUNDING[rounding]
    return lambda value: value.quantize(exponent, rounding=mode)


def _describe(spec: FieldSpec, vmap: CompiledValueMap | None, zone: tzinfo) -> tuple[str, ...]:
    out: list[str] = []
    if spec.trim:
        out.append("trim")
    if spec.case:
        out.append(f"case {spec.case.value}")
    if spec.scale is not None:
        out.append(f"scale {spec.scale} ({spec.rounding.value})")
    if spec.currency:
        allowed = ", ".join(spec.currency.allowed) if spec.currency.allowed else "any"
        out.append(f"currency ({allowed})")
    if vmap is not None:
        name = f"lookup {spec.lookup}" if spec.lookup else "value map"
        detail = f"{len(vmap.forward)} values, unmapped {vmap.unmapped.value}"
        if vmap.shared:
            detail += f", {len(vmap.shared)} chosen back"
        out.append(f"{name} ({detail})")
    if spec.format:
        out.append(f"format {spec.format}")
    if spec.timezone or (spec.type is WireType.DATETIME and spec.canonical and _is_date(spec)):
        out.append(f"time zone {zone}")
    if spec.default is not None:
        out.append(f"default {shown(spec.default)}")
    if spec.constant is not None:
        out.append(f"constant {shown(spec.constant)}")
    return tuple(out)


def _is_date(spec: FieldSpec) -> bool:
    field = canonical_fields().get(spec.canonical or "")
    return field is not None and field.type is date


def build_field(
    spec: FieldSpec,
    index: int,
    connector: Connector,
    lookups: dict[str, ValueMapSpec],
) -> tuple[FieldCodec | None, list[Issue]]:
    """Compile one entry that passed the structural checks; value-map problems come back."""
    codec, issues = _build(spec, index, connector, lookups)
    if codec is None:
        return None, issues
    on_conflict = spec.on_conflict
    if spec.authority is Authority.SHARED and on_conflict is None:
        on_conflict = OnConflict.REVIEW
    return replace(codec, authority=spec.authority, on_conflict=on_conflict), issues


def _build(
    spec: FieldSpec,
    index: int,
    connector: Connector,
    lookups: dict[str, ValueMapSpec],
) -> tuple[FieldCodec | None, list[Issue]]:
    loc: tuple[str | int, ...] = ("fields", index)
    zone = zone_of(spec)
    if spec.constant is not None:
        return _build_constant(spec, index, connector, zone)
    assert spec.canonical is not None
    assert spec.type is not None
    info = canonical_fields()[spec.canonical]
    items = info.type is list
    ctype: type = (info.item_type or str) if items else info.type
    wire = spec.type

    vmap: CompiledValueMap | None = None
    map_spec = spec.value_map or (lookups.get(spec.lookup) if spec.lookup else None)
    if map_spec is not None:
        map_loc = (*loc, "value_map") if spec.value_map else ("lookups", spec.lookup or "")
        vmap, issues = compile_value_map(
            map_spec, wire=wire, path=spec.canonical, items=items,
            direction=spec.direction, loc=map_loc,
        )
        if issues:
            return None, issues

    default = None
    if spec.default is not None:
        try:
            default = canonical_item(spec.canonical, spec.default, items=False)
        except ValueError as exc:
            return None, [((*loc, "default"), f"not valid for {spec.canonical}: {exc}")]

    trim: Step | None = str.strip if spec.trim else None
    case: Step | None = None
    if spec.case is not None:
        case = str.lower if spec.case is Case.LOWER else str.upper
    scale = _scale_step(spec.scale, spec.rounding) if spec.scale is not None else None
    allowed = frozenset(spec.currency.allowed) if spec.currency and spec.currency.allowed else None
    currency = _currency_step(allowed) if spec.currency else None
    to_canon = _to_canonical(wire, ctype, spec.format, zone)
    to_neutral = _to_neutral(wire, ctype, spec.format, zone)

    read = write = None
    if spec.direction.reads:
        middle = vmap.inbound(to_canon or _same) if vmap else to_canon
        body = chain([_per_item(s, items) for s in (trim, case, scale, currency, middle)])
        read = _reader(decoder(connector, wire, zone), body, default)
    if spec.direction.writes:
        middle = vmap.outbound(to_neutral or _same) if vmap else to_neutral
        body = chain([_per_item(s, items) for s in (middle, currency, scale, case, trim)])
        write = _writer(encoder(connector, wire), body, default)
    codec = FieldCodec(
        index, spec.canonical, spec.remote, spec.direction, wire, read, write,
        _describe(spec, vmap, zone), vmap,
    )
    return codec, []


def _same(value: Any) -> Any:
    return value


def _reader(decode: Step, body: Step | None, default: Any) -> Step:
    if body is None and default is None:
        return decode
    steps = body or _same

    def read(raw: Any) -> Any:
        value = decode(raw)
        if value is None:
            return default
        return steps(value)

    return read


def _writer(encode: Step, body: Step | None, default: Any) -> Step:
    if body is None and default is None:
        return encode
    steps = body or _same

    def write(value: Any) -> Any:
        if value is None:
            value = default
            if value is None:
                return encode(None)
        return encode(steps(value))

    return write


def _build_constant(
    spec: FieldSpec, index: int, connector: Connector, zone: tzinfo
) -> tuple[FieldCodec | None, list[Issue]]:
    loc = ("fields", index, "constant")
    if spec.canonical is not None:
        try:
            value = canonical_item(spec.canonical, spec.constant, items=False)
        except ValueError as exc:
            return None, [(loc, f"not valid for {spec.canonical}: {exc}")]
        steps = _describe(spec, None, zone)
        return FieldCodec(
            index, spec.canonical, None, spec.direction, None, None, None, steps, None, value
        ), []
    assert spec.type is not None
    try:
        wire_value = encoder(connector, spec.type)(literal(spec.type, spec.constant))
    except (WireError, ValueError) as exc:
        return None, [(loc, str(exc))]
    steps = _describe(spec, None, zone)
    return FieldCodec(
        index, None, spec.remote, spec.direction, spec.type, None, None, steps, None, wire_value
    ), []
