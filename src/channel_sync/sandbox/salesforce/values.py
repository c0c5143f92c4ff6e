"""Field values on the wire: Salesforce's date, datetime and number forms, both directions.

Datetimes go out as ``2026-01-05T10:00:00.000+0000`` (millisecond precision, UTC) and come in
in any ISO form a client sends (``Z``, ``+00:00``, ``+0000``, with or without milliseconds).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def truncate_ms(moment: datetime) -> datetime:
    """Salesforce keeps datetimes to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_datetime(text: str, *, require_offset: bool = False) -> datetime | None:
    """An aware UTC datetime, or None when ``text`` is not an ISO datetime."""
    match = _DATETIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, offset = match.groups()
    if offset is None and require_offset:
        return None
    try:
        tz = parse_offset(offset) if offset else UTC
        micro = int((frac or "0").ljust(6, "0")[:6])
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError:
        return None
    return truncate_ms(moment.astimezone(UTC))


def parse_date(text: str) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def format_datetime(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def to_wire(value: Any) -> Any:
    """Render one stored value as Salesforce puts it in JSON."""
    kind = type(value)
    if kind is datetime:
        return format_datetime(value)
    if kind is date:
        return value.isoformat()
    if kind is Decimal:
        return float(value)
    return value
