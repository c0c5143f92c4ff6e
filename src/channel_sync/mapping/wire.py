"""Wire forms of field values, per CRM dialect, both directions.

A decoded ("neutral") value has one Python type per wire type: ``str`` for string and picklist,
``Decimal`` for number, ``int`` for integer, ``bool``, ``date``, aware ``datetime``, and
``list[str]`` for multipicklist. Decoders are lenient about what they accept (a CRM, a test
fixture or an example may send ``1000.5`` or ``"1000.5"``); encoders are strict about what they
produce, because the remote API is.

Salesforce JSON: numbers are JSON numbers, dates ``2026-01-05``, datetimes
``2026-01-05T10:00:00.000+0000``, booleans JSON booleans, multipicklists ``a;b``.
HubSpot: every value is a string (``"1000.5"``, ``"true"``, ``"2026-03-31T00:00:00Z"``,
``"a;b"``), ``""`` means empty, and datetimes may also arrive as epoch milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from channel_sync.mapping.spec import Connector, WireType

Codec = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"^-?\d{1,15}$")
_SF_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


class WireError(ValueError):
    """A value is not in the form its wire type needs."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(value: Any, expected: str) -> WireError:
    return WireError(f"expected {expected}, got {_shown(value)}")


# -- decoding -------------------------------------------------------------------------------


def _decode_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _fail(value, "text")


def _decode_number(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail(value, "a number")
    if isinstance(value, int | float | str | Decimal):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _fail(value, "a number") from None
        if number.is_finite():
            return number
    raise _fail(value, "a number")


def _decode_integer(value: Any) -> int | None:
    number = _decode_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _fail(value, "a whole number")
    return int(number)


def _decode_boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in ("true", "false"):
            return folded == "true"
    raise _fail(value, "true or false")


def _from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _decode_datetime(value: Any, zone: tzinfo, *, epoch_ms: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif epoch_ms and isinstance(value, int) and not isinstance(value, bool):
        return _from_epoch_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        if epoch_ms and _EPOCH_MS.match(text):
            return _from_epoch_ms(int(text))
        try:
            moment = datetime.fromisoformat(_SF_OFFSET.sub(r"\1:\2", text))
        except ValueError:
            raise _fail(value, "an ISO 8601 date and time") from None
    else:
        raise _fail(value, "an ISO 8601 date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _decode_date(value: Any, *, epoch_ms: bool) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        if epoch_ms and _EPOCH_MS.match(text):
            return _from_epoch_ms(int(text)).date()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        if epoch_ms:  # HubSpot date properties read back as midnight-UTC datetimes
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                pass
            else:
                if moment.tzinfo is not None:
                    return moment.astimezone(UTC).date()
    if epoch_ms and isinstance(value, int) and not isinstance(value, bool):
        return _from_epoch_ms(value).date()
    raise _fail(value, "a date (YYYY-MM-DD)")


def _decode_multi(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in value.split(";") if part]
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return [part for part in value if part]
    raise _fail(value, "';'-separated values")


def decoder(connector: Connector, wire: WireType, zone: tzinfo = UTC) -> Codec:
    """The function turning one wire value of ``wire`` type into its neutral Python value."""
    hubspot = connector is Connector.HUBSPOT
    base: Codec
    if wire in (WireType.STRING, WireType.PICKLIST):
        base = _decode_text
    elif wire is WireType.NUMBER:
        base = _decode_number
    elif wire is WireType.INTEGER:
        base = _decode_integer
    elif wire is WireType.BOOLEAN:
        base = _decode_boolean
    elif wire is WireType.DATE:
        return lambda value: _decode_date(None if value == "" else value, epoch_ms=hubspot)
    elif wire is WireType.DATETIME:
        return lambda value: _decode_datetime(
            None if value == "" else value, zone, epoch_ms=hubspot
        )
    else:
        return _decode_multi
    if not hubspot:
        return base

    def decode_hubspot(value: Any) -> Any:
        return None if value == "" else base(value)

    return decode_hubspot


def parse_text(wire: WireType, text: str) -> Any:
    """A value-map key (always text in a file) as the neutral value of ``wire`` type."""
    if wire is WireType.BOOLEAN:
        return _decode_boolean(text)
    if wire is WireType.NUMBER:
        return _decode_number(text)
    if wire is WireType.INTEGER:
        return _decode_integer(text)
    if wire in (WireType.DATE, WireType.DATETIME):
        raise WireError(f"value maps do not apply to {wire.value} fields")
    return text


# -- encoding -------------------------------------------------------------------------------


def format_sf_datetime(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def format_hs_datetime(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    if utc.microsecond // 1000 == 0:
        return f"{utc:%Y-%m-%dT%H:%M:%S}Z"
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def format_decimal(number: Decimal) -> str:
    """``12000.50`` -> ``12000.5``, ``1E+3`` -> ``1000``: no exponent, no trailing zeros."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0.0") else text


def _sf_number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise _fail(value, "a number")


def _check(kind: type | tuple[type, ...], expected: str) -> Codec:
    def encode(value: Any) -> Any:
        if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
            return value
        raise _fail(value, expected)

    return encode


def _sf_boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _fail(value, "true or false")


def _sf_date(value: Any) -> str | None:
    return None if value is None else _as_date(value).isoformat()


def _sf_datetime(value: Any) -> str | None:
    return None if value is None else format_sf_datetime(_as_datetime(value))


def _sf_multi(value: Any) -> str | None:
    return ";".join(_as_list(value)) or None


_SF_ENCODERS: dict[WireType, Codec] = {
    WireType.STRING: _check(str, "text"),
    WireType.PICKLIST: _check(str, "text"),
    WireType.NUMBER: _sf_number,
    WireType.INTEGER: _check(int, "a whole number"),
    WireType.BOOLEAN: _sf_boolean,
    WireType.DATE: _sf_date,
    WireType.DATETIME: _sf_datetime,
    WireType.MULTIPICKLIST: _sf_multi,
}


def _hs_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise _fail(value, "text")


def _hs_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _fail(value, "a number")


def _hs_boolean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    raise _fail(value, "true or false")


def _hs_encoder(wire: WireType) -> Codec:
    if wire in (WireType.STRING, WireType.PICKLIST):
        return _hs_text
    if wire in (WireType.NUMBER, WireType.INTEGER):
        return _hs_number
    if wire is WireType.BOOLEAN:
        return _hs_boolean
    if wire is WireType.DATE:
        return lambda value: "" if value is None else _as_date(value).isoformat()
    if wire is WireType.DATETIME:
        return lambda value: "" if value is None else format_hs_datetime(_as_datetime(value))
    return lambda value: ";".join(_as_list(value))


def encoder(connector: Connector, wire: WireType) -> Codec:
    """The function turning one neutral value into the wire form ``connector`` sends."""
    return _hs_encoder(wire) if connector is Connector.HUBSPOT else _SF_ENCODERS[wire]


def _as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise _fail(value, "a date")


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    raise _fail(value, "an aware date and time")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        for part in value:
            if ";" in part:
                raise WireError(f"a multipicklist value cannot contain ';': {_shown(part)}")
        return list(value)
    raise _fail(value, "a list of text values")
