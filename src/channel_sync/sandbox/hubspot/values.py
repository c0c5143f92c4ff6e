"""Property values: checking what clients write, and the typed keys search compares.

HubSpot keeps every value as a string on the wire, but compares numbers as numbers and dates as
epoch milliseconds when it filters and sorts. Each stored value therefore gets a typed key once,
at write time, so a search over 100,000 deals never re-parses strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from time import gmtime
from typing import Any

from channel_sync.sandbox.hubspot.errors import PropertyProblem
from channel_sync.sandbox.hubspot.properties import PropertyDef

#: A typed value search can compare: numbers, epoch milliseconds, folded text, or a set of
#: folded options for multiple-checkbox properties.
SortKey = Decimal | int | str | tuple[str, ...]

MAX_STRING_LENGTH = 65_536
_EPOCH_MS = re.compile(r"^-?\d{1,15}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch; finer precision is dropped as HubSpot does."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@lru_cache(maxsize=4096)
def format_ms(ms: int) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``: ``2026-01-05T10:00:00.123Z``."""
    seconds, millis = divmod(ms, 1000)
    t = gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def parse_datetime(raw: object) -> int | None:
    """Epoch milliseconds from epoch-ms digits, an ISO date, or an ISO datetime (UTC if naive)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    return _parse_datetime_text(raw.strip()) if isinstance(raw, str) else None


def _parse_datetime_text(text: str) -> int | None:
    if _EPOCH_MS.match(text):
        return int(text)
    try:
        if _DATE_ONLY.match(text):
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_ms(moment)


def parse_number(raw: object) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def format_number(value: Decimal) -> str:
    """``12000.50`` -> ``12000.5``, ``1E+3`` -> ``1000``: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    if text in ("-0", "0.0"):
        return "0"
    return text


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


Normalized = tuple[str | None, PropertyProblem | None]


def normalize(prop: PropertyDef, raw: Any) -> Normalized:
    """The wire string to store for ``raw`` (``None`` clears the value), or why it is refused."""
    if raw is None:
        return None, None
    if isinstance(raw, dict | list):
        return None, PropertyProblem(
            prop.name, "INVALID_PROPERTY_VALUE", f"{prop.name} must be a string value"
        )
    text = _text(raw)
    if text == "":
        return None, None
    return _NORMALIZERS[prop.type](prop, text)


def _number(prop: PropertyDef, text: str) -> Normalized:
    number = parse_number(text)
    if number is None:
        problem = PropertyProblem(prop.name, "INVALID_DECIMAL", f"{text} was not a valid number.")
        return None, problem
    return format_number(number), None


def _datetime(prop: PropertyDef, text: str) -> Normalized:
    ms = parse_datetime(text)
    if ms is None:
        return None, PropertyProblem(
            prop.name, "INVALID_DATE", f"{text} was not a valid date or epoch milliseconds."
        )
    if prop.type == "date" and ms % 86_400_000 != 0:
        return None, PropertyProblem(
            prop.name, "INVALID_DATE", f"{text} is not midnight UTC, as a date must be."
        )
    return format_ms(ms), None


def _bool(prop: PropertyDef, text: str) -> Normalized:
    folded = text.strip().lower()
    if folded not in ("true", "false"):
        return None, _invalid_option(prop, text)
    return folded, None


def _enumeration(prop: PropertyDef, text: str) -> Normalized:
    parts = text.split(";") if prop.multi else [text]
    chosen: list[str] = []
    for part in parts:
        if part == "" and prop.multi:
            continue
        if part not in prop.option_values:
            return None, _invalid_option(prop, part)
        if part not in chosen:
            chosen.append(part)
    return (";".join(chosen) or None), None


def _string(prop: PropertyDef, text: str) -> Normalized:
    if len(text) > MAX_STRING_LENGTH:
        return None, PropertyProblem(
            prop.name,
            "INVALID_PROPERTY_VALUE",
            f"{prop.name} is longer than {MAX_STRING_LENGTH} characters",
        )
    return text, None


_NORMALIZERS: dict[str, Callable[[PropertyDef, str], Normalized]] = {
    "number": _number,
    "datetime": _datetime,
    "date": _datetime,
    "bool": _bool,
    "enumeration": _enumeration,
    "string": _string,
}


def _invalid_option(prop: PropertyDef, value: str) -> PropertyProblem:
    allowed = ", ".join(o.value for o in prop.options)
    return PropertyProblem(
        prop.name,
        "INVALID_OPTION",
        f"{value} was not one of the allowed options: [{allowed}]",
    )


def _number_key(wire: str) -> SortKey:
    number = parse_number(wire)
    return number if number is not None else Decimal(0)


def _datetime_key(wire: str) -> SortKey:
    ms = parse_datetime(wire)
    return ms if ms is not None else 0


def _multi_key(wire: str) -> SortKey:
    return tuple(sorted(p.casefold() for p in wire.split(";") if p))


def _text_key(wire: str) -> SortKey:
    return wire.casefold()


def key_function(prop: PropertyDef | None) -> Callable[[str], SortKey]:
    """How to turn a stored wire value of ``prop`` into its typed key (text if unknown)."""
    if prop is None:
        return _text_key
    if prop.type == "number":
        return _number_key
    if prop.type in ("datetime", "date"):
        return _datetime_key
    if prop.multi:
        return _multi_key
    return _text_key
