"""HubSpot's error bodies, so clients see the shapes they will meet in production.

Every top-level error carries ``status``, ``message``, ``correlationId`` and ``category``
(HubSpot's ``Error`` schema); per-input errors inside batch responses are ``StandardError``
objects. ``context`` values are always lists of strings because the client deserializes them as
``dict[str, list[str]]``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

from channel_sync.errors import ChannelSyncError

OBJECT_LABEL = "DEAL"


def correlation_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class PropertyProblem:
    """One rejected property value, as HubSpot lists them in "Property values were not valid"."""

    name: str
    code: str
    message: str

    def legacy(self) -> dict[str, Any]:
        return {
            "isValid": False,
            "message": self.message,
            "error": self.code,
            "name": self.name,
            "localizedErrorMessage": self.message,
        }

    def detail(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "code": self.code,
            "in": self.name,
            "context": {"propertyName": [self.name]},
        }


class HubSpotError(ChannelSyncError):
    """An error answered with HubSpot's top-level error body; raised from deep inside handlers."""

    def __init__(
        self,
        *,
        status: int,
        category: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors or []
        self.context = context or {}
        self.sub_category = sub_category
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        if self.sub_category is not None:
            out["subCategory"] = self.sub_category
        if self.errors:
            out["errors"] = self.errors
        if self.context:
            out["context"] = self.context
        out.update(self.extra)
        return out

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)

    def as_standard_error(self, *, object_id: str | None = None) -> dict[str, Any]:
        """The same failure as one entry of a batch response's ``errors`` list."""
        out: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context,
            "errors": self.errors,
            "links": {},
        }
        if self.sub_category is not None:
            out["subCategory"] = self.sub_category
        if object_id is not None:
            out["id"] = object_id
        return out


def property_values_invalid(problems: list[PropertyProblem]) -> HubSpotError:
    """HubSpot's 400 for bad property values: the details are JSON inside the message."""
    legacy = json.dumps([p.legacy() for p in problems], separators=(",", ":"))
    return HubSpotError(
        status=400,
        category="VALIDATION_ERROR",
        message=f"Property values were not valid: {legacy}",
        errors=[p.detail() for p in problems],
    )


def validation_error(message: str, **context: list[str]) -> HubSpotError:
    return HubSpotError(status=400, category="VALIDATION_ERROR", message=message, context=context)


def not_found(object_id: str) -> HubSpotError:
    # The real API answers an unknown id with an empty 404 body on single reads; a JSON body in
    # the usual shape is friendlier to clients and carries the same status.
    return HubSpotError(
        status=404,
        category="OBJECT_NOT_FOUND",
        message=f"Object not found.  objectId are usually numeric.  ({object_id})",
        context={"id": [object_id]},
    )


def locked(object_id: str) -> HubSpotError:
    return HubSpotError(
        status=423,
        category="LOCKED",
        message=(
            f"The {OBJECT_LABEL} object {object_id} is locked by another operation; "
            "wait at least 2 seconds and try again"
        ),
        context={"id": [object_id]},
    )


def batch_too_large(limit: int) -> HubSpotError:
    return validation_error(
        f"The maximum number of inputs supported in a batch is {limit}. "
        "Please reduce the number of items and try again"
    )


def malformed_json(detail: str) -> HubSpotError:
    return HubSpotError(
        status=400,
        category="VALIDATION_ERROR",
        message=f"Invalid input JSON on line 1, column 1: {detail}",
    )


def method_not_allowed(method: str) -> HubSpotError:
    return HubSpotError(
        status=405,
        category="VALIDATION_ERROR",
        message=f"HTTP method {method} is not supported by this resource",
    )
