"""Salesforce errors translated into the taxonomy, by status, error code and message.

simple-salesforce maps errors by HTTP status alone (403 -> ``SalesforceRefusedRequest``), which
hides the difference between a missing permission and an exhausted daily allowance. This table
reads the ``errorCode`` (top-level errors) or ``statusCode`` (per-record errors in sObject
Collections) and the message as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

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

VENDOR = "Salesforce"

#: Codes that mean "this record's data was refused": quarantine the record, keep syncing.
RECORD_CODES = (
    "DUPLICATE_VALUE",
    "DUPLICATE_EXTERNAL_ID",
    "DUPLICATES_DETECTED",
    "REQUIRED_FIELD_MISSING",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "FIELD_INTEGRITY_EXCEPTION",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "INVALID_FIELD_FOR_INSERT_UPDATE",
    "INVALID_EMAIL_ADDRESS",
    "STRING_TOO_LONG",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "JSON_PARSER_ERROR",
    "MALFORMED_ID",
    "ENTITY_IS_DELETED",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    "INVALID_CROSS_REFERENCE_KEY",
)

SALESFORCE_ERRORS = ErrorTable(
    VENDOR,
    (
        rule(
            BudgetExhaustedError,
            status=403,
            code="REQUEST_LIMIT_EXCEEDED",
            message=r"TotalRequests|daily|24.hour",
            note="the org's rolling 24 h API allowance is used up: park until it frees",
        ),
        rule(
            RateLimitedError,
            code="REQUEST_LIMIT_EXCEEDED",
            note="too many concurrent long-running requests: back off",
        ),
        rule(AuthError, code="INVALID_SESSION_ID", note="expired or revoked session"),
        rule(AuthError, code="INVALID_AUTH_HEADER"),
        rule(AuthError, status=401),
        rule(RetriableError, code="UNABLE_TO_LOCK_ROW", note="row-lock contention"),
        rule(RetriableError, code="ALL_OR_NONE_OPERATION_ROLLED_BACK"),
        rule(RetriableError, code="SERVER_UNAVAILABLE"),
        rule(RetriableError, code="REQUEST_RUNNING_TOO_LONG"),
        rule(RetriableError, code="QUERY_TIMEOUT"),
        rule(RateLimitedError, status=429),
        rule(RetriableError, status=(408, 500, 502, 503, 504)),
        rule(FatalError, code="MALFORMED_QUERY", note="a query this connector built is wrong"),
        rule(FatalError, code="INVALID_QUERY_LOCATOR"),
        rule(ConfigurationError, code="INVALID_FIELD", note="the mapping names a missing field"),
        rule(ConfigurationError, code="INVALID_TYPE", note="the object does not exist"),
        rule(ConfigurationError, code="API_DISABLED_FOR_ORG"),
        rule(ConfigurationError, code="API_CURRENTLY_DISABLED"),
        rule(ConfigurationError, code="INSUFFICIENT_ACCESS"),
        rule(ConfigurationError, status=403),
        rule(ConfigurationError, status=404, code="NOT_FOUND"),
        *(rule(RecordError, code=code) for code in RECORD_CODES),
        rule(ConfigurationError, status=404),
    ),
)

#: Codes of the OAuth token endpoint (``{"error": ..., "error_description": ...}``).
TOKEN_ERRORS = ErrorTable(
    f"{VENDOR} OAuth",
    (
        rule(RetriableError, status=(500, 502, 503, 504)),
        rule(RateLimitedError, status=429),
        rule(AuthError, code="invalid_grant"),
        rule(AuthError, code="invalid_client"),
        rule(AuthError, code="invalid_client_id"),
        rule(AuthError, code="unauthorized_client"),
        rule(AuthError, code="inactive_user"),
        rule(AuthError, code="inactive_org"),
        rule(ConfigurationError, code="unsupported_grant_type"),
        rule(AuthError, status=(400, 401, 403)),
    ),
)


def vendor_error(
    status: int | None, content: Any, headers: Mapping[str, str] | None, now: datetime
) -> VendorError:
    """Pull code and message out of a Salesforce error body (list, dict, or text)."""
    code: str | None = None
    message = ""
    first: Any = content[0] if isinstance(content, list) and content else content
    if isinstance(first, Mapping):
        raw_code = first.get("errorCode") or first.get("statusCode") or first.get("error")
        code = str(raw_code) if raw_code else None
        message = str(first.get("message") or first.get("error_description") or "")
    elif isinstance(first, bytes | bytearray):
        message = first.decode("utf-8", "replace")
    elif first is not None:
        message = str(first)
    retry_after = parse_retry_after((headers or {}).get("Retry-After"), now)
    return VendorError(status, code, message, retry_after)


def classify_item(errors: Any) -> tuple[ChannelSyncError, str | None]:
    """The error of one sObject Collections item (``errors: [{statusCode, message}]``)."""
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, Mapping):
        first = {}
    raw_code = first.get("statusCode") or first.get("errorCode")
    code = str(raw_code) if raw_code else None
    fields = first.get("fields") or []
    message = str(first.get("message") or "record refused without a message")
    if fields:
        message = f"{message} (fields: {', '.join(str(f) for f in fields)})"
    error = VendorError(None, code, message)
    return SALESFORCE_ERRORS.classify(error), code


def translate(
    exc: BaseException, headers: Mapping[str, str] | None, now: datetime
) -> ChannelSyncError:
    """Our error for anything simple-salesforce or requests raised."""
    if isinstance(exc, ChannelSyncError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return AuthError(f"{VENDOR} login refused: {getattr(exc, 'message', '')}".strip())
    if isinstance(exc, SalesforceError):
        return SALESFORCE_ERRORS.classify(vendor_error(exc.status, exc.content, headers, now))
    if isinstance(exc, requests.RequestException | ValueError):
        return _transport_error(exc)
    return FatalError(describe(VENDOR, VendorError(None, type(exc).__name__, str(exc))))


def _transport_error(exc: requests.RequestException | ValueError) -> ChannelSyncError:
    """Network-level failures: transient unless the certificate itself is refused."""
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY" in str(exc):
        return ConfigurationError(f"{VENDOR}: the instance's TLS certificate is not trusted")
    transient = (
        requests.Timeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.JSONDecodeError,
    )
    if isinstance(exc, transient) or not isinstance(exc, requests.RequestException):
        return RetriableError(f"{VENDOR}: {name} talking to the instance")
    return FatalError(f"{VENDOR}: {name}: {exc}")
