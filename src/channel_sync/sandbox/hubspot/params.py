"""Reading requests the way HubSpot does: lenient where the client library is, strict elsewhere.

hubspot-api-client sends array parameters repeated (``properties=a&properties=b``) and booleans as
Python prints them (``archived=False``); other clients send comma lists and lower-case booleans.
All of these are accepted. Anything that is not JSON, or JSON of the wrong shape, gets HubSpot's
400 body, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from channel_sync.sandbox.hubspot.errors import (
    HubSpotError,
    batch_too_large,
    malformed_json,
    validation_error,
)

OBJECT_TYPES = frozenset({"deals", "0-3"})


def check_object_type(request: Request) -> None:
    object_type = str(request.path_params.get("object_type", ""))
    if object_type.lower() not in OBJECT_TYPES:
        raise HubSpotError(
            status=400,
            category="VALIDATION_ERROR",
            message=f"Unable to infer object type from: {object_type}",
        )


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise validation_error("The request body is empty; a JSON object is required.")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise malformed_json(f"not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise HubSpotError(
            status=400,
            category="VALIDATION_ERROR",
            message=f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise validation_error("The request body must be a JSON object.")
    return body


def name_list(request: Request, key: str) -> list[str] | None:
    """Repeated and comma-separated values of ``key``, in order; None when absent."""
    raw = request.query_params.getlist(key)
    if not raw:
        return None
    names = [part.strip() for value in raw for part in value.split(",")]
    return [n for n in names if n]


def flag(request: Request, key: str, default: bool = False) -> bool:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    folded = raw.strip().lower()
    if folded not in ("true", "false"):
        raise validation_error(f"Unable to parse value for query parameter: {key}", **{key: [raw]})
    return folded == "true"


def integer(request: Request, key: str, default: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation_error(
            f"Unable to parse value for query parameter: {key}", **{key: [raw]}
        ) from None


def string_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_error(f"{what} must be a list of strings")
    return value


def properties_object(value: Any, what: str = "properties") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation_error(f"{what} must be an object of property names to values")
    return value


def inputs_list(body: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list")
    if len(inputs) > limit:
        raise batch_too_large(limit)
    if not all(isinstance(i, dict) for i in inputs):
        raise validation_error("each input must be a JSON object")
    return inputs
