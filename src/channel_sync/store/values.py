"""Lossless, normalized JSON encoding of canonical field values.

The engine decides merges by comparing stored base values with fresh ones, so one value must have
exactly one stored form: ``Decimal("10.50")`` and ``Decimal("10.5")`` are one amount and
``12:00+02:00`` and ``10:00Z`` are one instant. Encoding normalizes; decoding restores the Python
type named by the canonical field catalogue, so a round trip returns an equal value of the same
type and re-encoding it gives the same JSON. Values for paths outside the catalogue are refused:
a typo in a path must not become a silently untyped base.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from channel_sync.model import CanonicalField, canonical_fields
from channel_sync.store.errors import UnstorableValueError

#: What the store writes into JSON columns for one field value.
JSONValue = Any

_ZERO = Decimal(0)


def normalize_decimal(value: Decimal) -> str:
    """The one text form of a decimal: no exponent, no trailing zeros, no negative zero."""
    if not value.is_finite():
        msg = "only finite decimals can be stored"
        raise UnstorableValueError(msg)
    if value == _ZERO:
        return "0"
    return format(value.normalize(), "f")


def normalize_datetime(value: datetime) -> str:
    """ISO 8601 in UTC; naive datetimes are refused because their instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "naive datetimes cannot be stored; give a time zone"
        raise UnstorableValueError(msg)
    return value.astimezone(UTC).isoformat()


def _check_text(value: str) -> str:
    # PostgreSQL cannot hold NUL in text or JSONB, and lone surrogates are not Unicode: refusing
    # them on both back-ends keeps SQLite and PostgreSQL stores interchangeable.
    if "\x00" in value:
        msg = "text containing a NUL character cannot be stored"
        raise UnstorableValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        msg = "text that is not valid Unicode cannot be stored"
        raise UnstorableValueError(msg) from exc
    return value


#: Record-level facts that take part in merges and conflicts like fields do: ``_deleted`` is
#: true once a side deleted the deal (a delete against a concurrent edit is a conflict).
DELETED = "_deleted"
PSEUDO_FIELDS: dict[str, CanonicalField] = {
    DELETED: CanonicalField(path=DELETED, type=bool, item_type=None, optional=True, frozen=False),
}


def _field(path: str) -> CanonicalField:
    try:
        return canonical_fields().get(path) or PSEUDO_FIELDS[path]
    except KeyError:
        msg = f"not a canonical field path: {path!r}"
        raise UnstorableValueError(msg) from None


def _type_error(path: str, expected: type, value: object) -> UnstorableValueError:
    return UnstorableValueError(f"{path}: expected {expected.__name__}, got {type(value).__name__}")


def _encode_enum(path: str, kind: type, value: object) -> JSONValue:
    assert issubclass(kind, Enum)
    if isinstance(value, kind):
        return value.value
    if isinstance(value, str):
        try:
            return kind(value).value
        except ValueError:
            msg = f"{path}: {value!r} is not a {kind.__name__}"
            raise UnstorableValueError(msg) from None
    raise _type_error(path, kind, value)


def _encode_bool(path: str, value: object) -> JSONValue:
    if isinstance(value, bool):
        return value
    raise _type_error(path, bool, value)


def _encode_int(path: str, value: object) -> JSONValue:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _type_error(path, int, value)


def _encode_datetime(path: str, value: object) -> JSONValue:
    if isinstance(value, datetime):
        return normalize_datetime(value)
    raise _type_error(path, datetime, value)


def _encode_date(path: str, value: object) -> JSONValue:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    raise _type_error(path, date, value)


def _encode_str(path: str, value: object) -> JSONValue:
    if isinstance(value, str):
        return _check_text(value)
    raise _type_error(path, str, value)


def _encode_decimal(path: str, value: object) -> JSONValue:
    return normalize_decimal(_as_decimal(path, value))


_ENCODERS: dict[type, Callable[[str, object], JSONValue]] = {
    bool: _encode_bool,
    int: _encode_int,
    Decimal: _encode_decimal,
    datetime: _encode_datetime,
    date: _encode_date,
    str: _encode_str,
}


def _encode_scalar(path: str, kind: type, value: object) -> JSONValue:
    if issubclass(kind, Enum):
        return _encode_enum(path, kind, value)
    return _ENCODERS.get(kind, _encode_str)(path, value)


def _as_decimal(path: str, value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            msg = f"{path}: {value!r} is not a decimal number"
            raise UnstorableValueError(msg) from None
    # Floats are refused: their binary value is rarely the decimal the user typed.
    raise _type_error(path, Decimal, value)


def encode_value(path: str, value: object) -> JSONValue:
    """The stored JSON form of ``value`` for the canonical field ``path``."""
    field = _field(path)
    if value is None:
        return None
    if field.type is list:
        if not isinstance(value, list | tuple | set | frozenset):
            raise _type_error(path, list, value)
        item = field.item_type or str
        items = [_encode_scalar(path, item, v) for v in value]
        # Lists in the canonical model are sets in every CRM: one order, no duplicates.
        return sorted(set(items))
    return _encode_scalar(path, field.type, value)


def _decode_scalar(path: str, kind: type, raw: JSONValue) -> object:
    try:
        if issubclass(kind, Enum):
            return kind(raw)
        if kind is Decimal:
            return Decimal(raw)
        if kind is datetime:
            return datetime.fromisoformat(raw).astimezone(UTC)
        if kind is date:
            return date.fromisoformat(raw)
        if kind in (bool, int, str):
            if type(raw) is not kind:
                raise TypeError(type(raw).__name__)
            return raw
    except (ValueError, TypeError, InvalidOperation) as exc:
        msg = f"{path}: stored value does not decode as {kind.__name__}"
        raise UnstorableValueError(msg) from exc
    return raw


def _scalar_decoder(path: str, kind: type) -> Callable[[JSONValue], object]:
    """The fastest exact decoder for one scalar kind (checked like :func:`_decode_scalar`)."""
    if kind in (bool, int, str):

        def plain(raw: JSONValue) -> object:
            if type(raw) is not kind:
                return _decode_scalar(path, kind, raw)  # raises the located error
            return raw

        return plain
    return lambda raw: _decode_scalar(path, kind, raw)


def _decoder(path: str) -> Callable[[JSONValue], object]:
    field = _field(path)
    if field.type is list:
        item = _scalar_decoder(path, field.item_type or str)

        def many(raw: JSONValue) -> object:
            if raw is None:
                return None
            if not isinstance(raw, list):
                msg = f"{path}: stored value is not a list"
                raise UnstorableValueError(msg)
            return [item(v) for v in raw]

        return many
    scalar = _scalar_decoder(path, field.type)
    return lambda raw: None if raw is None else scalar(raw)


#: Decoders by path, built on first use: decoding is on every hot path of a cycle.
_DECODERS: dict[str, Callable[[JSONValue], object]] = {}


def decode_value(path: str, raw: JSONValue) -> object:
    """The Python value of a stored JSON form; the inverse of :func:`encode_value`."""
    decoder = _DECODERS.get(path)
    if decoder is None:
        decoder = _DECODERS[path] = _decoder(path)
    return decoder(raw)


def encode_fields(values: Mapping[str, object]) -> dict[str, JSONValue]:
    """Encode a flat ``{canonical path: value}`` map; keys come out sorted for stable storage."""
    return {path: encode_value(path, values[path]) for path in sorted(values)}


def decode_fields(raw: Mapping[str, JSONValue]) -> dict[str, object]:
    decoders = _DECODERS
    out: dict[str, object] = {}
    for path, value in raw.items():
        decoder = decoders.get(path)
        if decoder is None:
            decoder = decoders[path] = _decoder(path)
        out[path] = decoder(value)
    return out


def normalize_fields(values: Mapping[str, object]) -> dict[str, object]:
    """``values`` as they will read back from the store (handy for equality checks)."""
    return decode_fields(encode_fields(values))
