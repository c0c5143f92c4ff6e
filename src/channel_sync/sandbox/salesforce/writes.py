"""Turns a JSON write payload into stored field values, refusing what an org refuses.

Checks run in the order an org runs them: unknown fields and undecodable values first (the
request cannot even be read), then per-record rules (read-only fields, required fields,
restricted picklists, lengths, formats, numeric ranges). Uniqueness and row locks need the store
and are checked there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.errors import (
    RecordProblem,
    RefusedRecordError,
    SalesforceApiError,
    json_parser_error,
)
from channel_sync.sandbox.salesforce.schema import FieldSpec
from channel_sync.sandbox.salesforce.values import parse_date, parse_datetime

Mode = Literal["create", "update"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_JSON_TOKENS = {bool: "VALUE_TRUE", int: "VALUE_NUMBER_INT", float: "VALUE_NUMBER_FLOAT"}


class _BadValue(Exception):  # noqa: N818  (internal signal, never leaves this module)
    pass


def no_such_column(name: str) -> SalesforceApiError:
    return SalesforceApiError(
        400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {schema.OBJECT_NAME}"
    )


def decode_fields(
    body: Mapping[str, Any], *, raw: str = "", per_record_types: bool = False
) -> dict[str, Any]:
    """Resolve names and decode values of one record payload.

    Unknown fields refuse the whole request. A value of the wrong JSON type refuses the whole
    request (JSON_PARSER_ERROR) on single-record resources; inside sObject Collections, whose
    records are read generically, it refuses only that record
    (INVALID_TYPE_ON_FIELD_IN_RECORD).
    """
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "attributes":
            continue
        spec = schema.field(key)
        if spec is None:
            raise no_such_column(key)
        try:
            out[spec.name] = decode_value(spec, value)
        except _BadValue:
            if per_record_types:
                problem = RecordProblem(
                    "INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{spec.label}: value not of required type: {_shown(value)}",
                    (spec.name,),
                )
                raise RefusedRecordError(problem) from None
            raise _parser_error(spec, key, value, raw) from None
    return out


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _parser_error(spec: FieldSpec, key: str, value: Any, raw: str) -> SalesforceApiError:
    json_kind = _JSON_TOKENS.get(type(value), "VALUE_STRING")
    if isinstance(value, dict):
        json_kind = "START_OBJECT"
    elif isinstance(value, list):
        json_kind = "START_ARRAY"
    column = 1
    at = raw.find(f'"{key}"')
    if at >= 0:
        pos = raw.find(":", at + len(key) + 2) + 1
        while pos < len(raw) and raw[pos] == " ":
            pos += 1
        column = pos + 1
    kind = "string" if spec.is_text or spec.type in schema.ID_TYPES else spec.type
    return json_parser_error(
        f"Cannot deserialize instance of {kind} from {json_kind} value {_shown(value)} or request "
        f"may be missing a required field at [line:1, column:{column}]"
    )


def decode_value(spec: FieldSpec, value: Any) -> Any:
    """One JSON value as the stored Python value for ``spec`` (raises _BadValue)."""
    if value is None:
        return None
    if spec.is_text or spec.type in schema.ID_TYPES:
        return _text(spec, value)
    if spec.type in schema.NUMBER_TYPES:
        return _decimal(value)
    decoded = _DECODERS[spec.type](value) if spec.type in _DECODERS else None
    if decoded is None:
        raise _BadValue
    return decoded


def _text(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and spec.is_text:
        return str(value)
    raise _BadValue


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "boolean": _boolean,
    "date": lambda v: parse_date(v) if isinstance(v, str) else None,
    "datetime": lambda v: parse_datetime(v) if isinstance(v, str) else None,
}


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadValue
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _BadValue from None
    if not number.is_finite():
        raise _BadValue
    return number


def check_record(fields: dict[str, Any], mode: Mode) -> dict[str, Any]:
    """Per-record rules; returns the values to store (normalized), or raises RefusedRecordError."""
    if mode == "create" and "Id" in fields:
        raise RefusedRecordError(
            RecordProblem(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ("Id",)
            )
        )
    allowed = "createable" if mode == "create" else "updateable"
    # An update's target Id travels in the URL (or is taken off the record by the caller).
    locked = [name for name in fields if not getattr(schema.field(name), allowed)]
    if locked:
        raise RefusedRecordError(
            RecordProblem(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                tuple(locked),
            )
        )
    missing = [
        name
        for name in schema.REQUIRED_ON_CREATE
        if (mode == "create" and fields.get(name) in (None, ""))
        or (mode == "update" and name in fields and fields[name] in (None, ""))
    ]
    if missing:
        raise RefusedRecordError(
            RecordProblem(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                tuple(missing),
            )
        )
    out: dict[str, Any] = {}
    for name, value in fields.items():
        spec = schema.field(name)
        assert spec is not None
        out[name] = _checked(spec, value)
    return out


def _checked(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return False if spec.type == "boolean" else None
    if spec.type == "picklist" and spec.restricted and value not in spec.picklist:
        message = (
            f"invalid currency code: {value}"
            if spec.name == "CurrencyIsoCode"
            else f"bad value for restricted picklist field: {value}"
        )
        raise RefusedRecordError(
            RecordProblem("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, (spec.name,))
        )
    if spec.type == "multipicklist":
        return _multipicklist(spec, value)
    if isinstance(value, str):
        if value == "":
            return None
        if spec.length and len(value) > spec.length:
            raise RefusedRecordError(
                RecordProblem(
                    "STRING_TOO_LONG",
                    f"{spec.label}: data value too large: {value[:255]} (max length={spec.length})",
                    (spec.name,),
                )
            )
        if spec.type == "email" and not _EMAIL.match(value):
            raise RefusedRecordError(
                RecordProblem(
                    "INVALID_EMAIL_ADDRESS",
                    f"{spec.label}: invalid email address: {value}",
                    (spec.name,),
                )
            )
    if isinstance(value, Decimal):
        return _number(spec, value)
    return value


def _multipicklist(spec: FieldSpec, value: str) -> str | None:
    chosen = [part.strip() for part in value.split(";") if part.strip()]
    bad = [part for part in chosen if part not in spec.picklist]
    if bad and spec.restricted:
        raise RefusedRecordError(
            RecordProblem(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"bad value for restricted picklist field: {bad[0]}",
                (spec.name,),
            )
        )
    unique = set(chosen)
    ordered = [v for v in spec.picklist if v in unique]
    return ";".join(ordered) or None


def _number(spec: FieldSpec, value: Decimal) -> Decimal:
    quantum = Decimal(1).scaleb(-spec.scale)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    integer_digits = spec.precision - spec.scale
    if abs(rounded) >= Decimal(10) ** integer_digits:
        raise RefusedRecordError(
            RecordProblem(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{spec.label}: value outside of valid range on numeric field: {value}",
                (spec.name,),
            )
        )
    return rounded
