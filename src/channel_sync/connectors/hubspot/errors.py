"""HubSpot errors translated into the taxonomy, by status, category, code and policy.

HubSpot answers a burst limit and the daily cap with the same 429; only ``policyName``
(``TEN_SECONDLY_ROLLING``, ``SECONDLY`` for search, ``DAILY``) tells them apart. Validation
errors nest the useful code (``PROPERTY_DOESNT_EXIST``, ``INVALID_OPTION``...) one level down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import urllib3

from channel_sync.connectors.error_table import ErrorTable, VendorError, describe, rule
from channel_sync.connectors.retry import parse_retry_after
from channel_sync.errors import (
    AuthError,
    BudgetExhaustedError,
    ChannelSyncError,
    ConfigurationError,
    FatalError,
    RateLimitedError,
    RecordError,
    RetriableError,
)

VENDOR = "HubSpot"

#: Per-record errors carry no Retry-After, so no clock is needed to read them.
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)

HUBSPOT_ERRORS = ErrorTable(
    VENDOR,
    (
        rule(BudgetExhaustedError, code="DAILY", note="the account's daily allowance is used up"),
        rule(BudgetExhaustedError, status=429, message=r"daily limit"),
        rule(RateLimitedError, status=429, note="ten-secondly burst or search's 5 per second"),
        rule(RateLimitedError, code="RATE_LIMITS"),
        rule(AuthError, status=401),
        rule(ConfigurationError, code="MISSING_SCOPES", note="the app lacks a scope"),
        rule(ConfigurationError, status=403),
        rule(RetriableError, status=(408, 423, 477, 500, 502, 503, 504, 521, 522, 524)),
        rule(RetriableError, message=r"\block(ed)?\b", note="record locked by another writer"),
        rule(ConfigurationError, code="PROPERTY_DOESNT_EXIST", note="the mapping names it"),
        rule(ConfigurationError, code="READ_ONLY_VALUE", note="the mapping writes a read-only"),
        rule(FatalError, status=414, note="a request this connector built is too long"),
        rule(RecordError, code="OBJECT_NOT_FOUND"),
        rule(RecordError, status=(400, 409)),
        rule(ConfigurationError, status=404),
    ),
)

TOKEN_ERRORS = ErrorTable(
    f"{VENDOR} OAuth",
    (
        rule(RetriableError, status=(500, 502, 503, 504)),
        rule(RateLimitedError, status=429),
        rule(AuthError, status=(400, 401, 403)),
    ),
)


def _decode(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _code(data: Mapping[str, Any]) -> str | None:
    """The most specific code the body offers."""
    if data.get("policyName"):
        return str(data["policyName"])
    nested = data.get("errors")
    if isinstance(nested, list):
        for item in nested:
            if isinstance(item, Mapping) and item.get("code"):
                return str(item["code"])
    for key in ("subCategory", "category", "errorType"):
        if data.get(key):
            return str(data[key])
    return None


def vendor_error(
    status: int | None, body: Any, headers: Mapping[str, str] | None, now: datetime
) -> VendorError:
    """Pull code and message out of a HubSpot error body (C7 shape, fields all optional)."""
    data = _decode(body)
    code: str | None = None
    message = ""
    if isinstance(data, Mapping):
        code = _code(data)
        message = str(data.get("message") or data.get("error_description") or "")
        if not code and data.get("error"):
            code = str(data["error"])
    elif data is not None:
        message = str(data)
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now)
    return VendorError(status, code, message, retry_after)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def classify_item(error: Mapping[str, Any]) -> tuple[ChannelSyncError, str | None]:
    """The error of one input of a batch answered with 207 (a ``StandardError``)."""
    vendor = vendor_error(None, dict(error), None, _NO_TIME)
    return HUBSPOT_ERRORS.classify(vendor), vendor.code


def translate(
    exc: BaseException, now: datetime, *, table: ErrorTable = HUBSPOT_ERRORS
) -> ChannelSyncError:
    """Our error for anything hubspot-api-client or urllib3 raised."""
    if isinstance(exc, ChannelSyncError):
        return exc
    status = getattr(exc, "status", None)
    if hasattr(exc, "body") and isinstance(status, int):
        headers = getattr(exc, "headers", None)
        if status == 0:  # the client's wrapper for TLS failures
            return ConfigurationError(f"{VENDOR}: TLS failure: {getattr(exc, 'reason', '')}")
        return table.classify(vendor_error(status, exc.body, headers, now))
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError | ValueError):
        return RetriableError(f"{VENDOR}: {type(exc).__name__} talking to the API")
    return FatalError(describe(VENDOR, VendorError(None, type(exc).__name__, str(exc))))
