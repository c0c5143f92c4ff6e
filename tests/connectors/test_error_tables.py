"""The vendor error tables: status alone never decides."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import urllib3
from hubspot.crm.deals import ApiException
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from channel_sync.connectors.error_table import VendorError, fallback_kind
from channel_sync.connectors.hubspot import errors as hs
from channel_sync.connectors.salesforce import errors as sf
from channel_sync.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigurationError,
    FatalError,
    RateLimitedError,
    RecordError,
    RetriableError,
)

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def sf_body(code: str, message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": code}]


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            SalesforceRefusedRequest(
                "u", 403, "q", sf_body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            ),
            BudgetExhaustedError,
        ),
        (
            SalesforceRefusedRequest(
                "u",
                403,
                "q",
                sf_body("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
            ),
            RateLimitedError,
        ),
        (
            SalesforceRefusedRequest("u", 403, "q", sf_body("INSUFFICIENT_ACCESS", "no")),
            ConfigurationError,
        ),
        (
            SalesforceExpiredSession(
                "u", 401, "q", sf_body("INVALID_SESSION_ID", "Session expired or invalid")
            ),
            AuthError,
        ),
        (
            SalesforceMalformedRequest("u", 400, "q", sf_body("MALFORMED_QUERY", "unexpected")),
            FatalError,
        ),
        (
            SalesforceMalformedRequest(
                "u", 400, "q", sf_body("INVALID_FIELD", "No such column 'Foo__c'")
            ),
            ConfigurationError,
        ),
        (
            SalesforceMalformedRequest(
                "u", 400, "q", sf_body("JSON_PARSER_ERROR", "Cannot deserialize instance")
            ),
            RecordError,
        ),
        (
            SalesforceMalformedRequest(
                "u", 400, "q", sf_body("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
            ),
            RetriableError,
        ),
        (
            SalesforceResourceNotFound("u", 404, "q", sf_body("NOT_FOUND", "does not exist")),
            ConfigurationError,
        ),
        (SalesforceGeneralError("u", 503, "q", "Service Unavailable"), RetriableError),
        (SalesforceGeneralError("u", 500, "q", b"<html>oops</html>"), RetriableError),
        (SalesforceGeneralError("u", 429, "q", ""), RateLimitedError),
        (requests.ConnectionError("reset by peer"), RetriableError),
        (requests.ReadTimeout("read timed out"), RetriableError),
        (requests.exceptions.ChunkedEncodingError("broken"), RetriableError),
        (requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"), ConfigurationError),
        (requests.exceptions.InvalidURL("bad"), FatalError),
    ],
)
def test_salesforce_errors(exc: BaseException, kind: type[Exception]):
    error = sf.translate(exc, {"Retry-After": "2"}, NOW)
    assert type(error) is kind


def test_salesforce_retry_after_is_carried():
    exc = SalesforceGeneralError("u", 429, "q", sf_body("TOO_MANY", "slow down"))
    error = sf.translate(exc, {"Retry-After": "12"}, NOW)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 12.0
    assert "Salesforce 429 TOO_MANY" in str(error)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("UNABLE_TO_LOCK_ROW", RetriableError),
        ("DUPLICATE_VALUE", RecordError),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", RecordError),
        ("ALL_OR_NONE_OPERATION_ROLLED_BACK", RetriableError),
        ("SOMETHING_NEW", RecordError),
    ],
)
def test_salesforce_item_errors(code: str, kind: type[Exception]):
    error, seen = sf.classify_item([{"statusCode": code, "message": "m", "fields": ["Name"]}])
    assert type(error) is kind
    assert seen == code
    assert "(fields: Name)" in str(error)


def hs_exc(status: int, body: dict[str, object], headers: dict[str, str] | None = None):
    exc = ApiException(status=status, reason="x")
    exc.body = json.dumps(body)
    exc.headers = headers or {}
    return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            hs_exc(
                429,
                {
                    "status": "error",
                    "message": "You have reached your daily limit.",
                    "errorType": "RATE_LIMIT",
                    "policyName": "DAILY",
                },
            ),
            BudgetExhaustedError,
        ),
        (
            hs_exc(
                429,
                {
                    "status": "error",
                    "policyName": "TEN_SECONDLY_ROLLING",
                    "message": "You have reached your ten_secondly_rolling limit.",
                },
            ),
            RateLimitedError,
        ),
        (
            hs_exc(
                429,
                {
                    "status": "error",
                    "policyName": "SECONDLY",
                    "message": "You have reached your secondly limit.",
                },
            ),
            RateLimitedError,
        ),
        (hs_exc(401, {"status": "error", "category": "INVALID_AUTHENTICATION"}), AuthError),
        (hs_exc(403, {"status": "error", "category": "MISSING_SCOPES"}), ConfigurationError),
        (
            hs_exc(
                400,
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "errors": [{"code": "INVALID_OPTION", "message": "bad option"}],
                },
            ),
            RecordError,
        ),
        (
            hs_exc(
                400,
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "errors": [{"code": "PROPERTY_DOESNT_EXIST", "message": "no prop"}],
                },
            ),
            ConfigurationError,
        ),
        (hs_exc(409, {"status": "error", "category": "CONFLICT"}), RecordError),
        (hs_exc(502, {}), RetriableError),
        (hs_exc(423, {"message": "locked"}), RetriableError),
        (hs_exc(414, {}), FatalError),
        (urllib3.exceptions.ProtocolError("Connection aborted."), RetriableError),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "timed out"), RetriableError),  # type: ignore[arg-type]
        (ConnectionResetError("reset"), RetriableError),
        (KeyError("surprise"), FatalError),
    ],
)
def test_hubspot_errors(exc: BaseException, kind: type[Exception]):
    assert type(hs.translate(exc, NOW)) is kind


def test_hubspot_retry_after_header_http_date_or_seconds():
    exc = hs_exc(429, {"policyName": "TEN_SECONDLY_ROLLING"}, {"retry-after": "4"})
    error = hs.translate(exc, NOW)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 4.0


def test_hubspot_item_errors():
    error, code = hs.classify_item(
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "gone", "context": {}}
    )
    assert isinstance(error, RecordError)
    assert code == "OBJECT_NOT_FOUND"


def test_fallback_by_status_class():
    assert fallback_kind(None) is RecordError
    assert fallback_kind(401) is AuthError
    assert fallback_kind(429) is RateLimitedError
    assert fallback_kind(503) is RetriableError
    assert fallback_kind(418) is FatalError
    long = sf.SALESFORCE_ERRORS.classify(VendorError(None, "X", "y" * 2000))
    assert len(str(long)) < 600
