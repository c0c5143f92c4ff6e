"""Composite: up to 25 subrequests in one API call, later ones referring to earlier results
with ``@{referenceId.path}``, optionally all-or-none.

Subrequests run through the same router as top-level requests, so a subrequest behaves exactly
like the request it stands for; only authentication and the API allowance are not re-applied
(the composite request as a whole counts once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import (
    NOT_FOUND_MESSAGE,
    SalesforceApiError,
    json_parser_error,
)
from channel_sync.sandbox.salesforce.store import OpportunityStore

MIN_VERSION: Final = 42.0
MAX_VERSION: Final = 62.0
MAX_SUBREQUESTS: Final = 25
MAX_HEAVY: Final = 5  # sObject Collections and query operations
_REF: Final = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP: Final = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_REF_ID: Final = re.compile(r"^[A-Za-z0-9_]+$")
_URL: Final = re.compile(r"^/services/data/v(\d+\.\d)(/[^?]*)?(?:\?(.*))?$")
_HALTED: Final = (
    "The transaction was rolled back since another operation in the same transaction failed."
)

Dispatch = Callable[[ApiRequest], ApiResponse]


class _Unresolved(Exception):  # noqa: N818  (internal signal)
    pass


def _halted(message: str = _HALTED) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
    }


def _limit(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "LIMIT_EXCEEDED", message)


def _is_heavy(url: str) -> bool:
    path = urlsplit(url).path
    return bool(re.search(r"/(query|queryAll)(/|$)|/composite/sobjects", path))


class CompositeApi:
    def __init__(self, store: OpportunityStore, dispatch: Dispatch) -> None:
        self.store = store
        self.dispatch = dispatch

    def handle(self, req: ApiRequest) -> ApiResponse:
        body = req.object_payload("CompositeRequest")
        subs = body.get("compositeRequest")
        if not isinstance(subs, list) or not subs or not all(isinstance(s, dict) for s in subs):
            raise json_parser_error("compositeRequest must be a non-empty array of subrequests")
        if len(subs) > MAX_SUBREQUESTS:
            raise _limit(f"Composite request can contain at most {MAX_SUBREQUESTS} subrequests")
        if sum(1 for s in subs if _is_heavy(str(s.get("url", "")))) > MAX_HEAVY:
            raise _limit(
                f"Composite request can contain at most {MAX_HEAVY} sObject Collections or "
                "query operations"
            )
        seen: set[str] = set()
        for sub in subs:
            ref = sub.get("referenceId")
            if not isinstance(ref, str) or not _REF_ID.match(ref):
                raise SalesforceApiError(
                    400, "INVALID_INPUT", f"Invalid referenceId: {json.dumps(ref)}"
                )
            if ref in seen:
                raise SalesforceApiError(400, "INVALID_INPUT", f"Duplicate referenceId: {ref}")
            seen.add(ref)
            if not isinstance(sub.get("method"), str) or not isinstance(sub.get("url"), str):
                raise json_parser_error(f"Subrequest {ref} needs a method and a url")
        return self._run(req, subs, bool(body.get("allOrNone", False)))

    def _run(self, req: ApiRequest, subs: list[dict[str, Any]], all_or_none: bool) -> ApiResponse:
        out: list[dict[str, Any]] = []
        results: dict[str, ApiResponse] = {}
        read = written = 0
        with self.store.transaction() as point:
            for index, sub in enumerate(subs):
                ref = sub["referenceId"]
                response = self._one(req, sub, results)
                results[ref] = response
                out.append(
                    {
                        "body": response.body,
                        "httpHeaders": dict(response.headers),
                        "httpStatusCode": response.status,
                        "referenceId": ref,
                    }
                )
                read += response.records_read
                written += response.records_written
                if all_or_none and response.status >= 400:
                    self.store.rollback(point)
                    written = 0
                    for other in range(len(subs)):
                        if other != index:
                            halted = _halted()
                            halted["referenceId"] = subs[other]["referenceId"]
                            if other < len(out):
                                out[other] = halted
                            else:
                                out.append(halted)
                    break
        return ApiResponse(
            200, {"compositeResponse": out}, records_read=read, records_written=written
        )

    def _one(
        self, req: ApiRequest, sub: dict[str, Any], results: dict[str, ApiResponse]
    ) -> ApiResponse:
        try:
            url = _resolve(sub["url"], results)
            body = _resolve(sub.get("body"), results)
        except _Unresolved as exc:
            halted = _halted(str(exc))
            return ApiResponse(400, halted["body"])
        found = _URL.match(str(url))
        if found is None:
            return ApiResponse(
                404,
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
            )
        version, path, query = found.group(1), found.group(2) or "", found.group(3) or ""
        if not MIN_VERSION <= float(version) <= MAX_VERSION:
            return ApiResponse(404, [{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}])
        parts = tuple(unquote(p) for p in path.split("/")[1:])
        while parts and parts[-1] == "":
            parts = parts[:-1]
        if parts[:1] == ("composite",) and len(parts) == 1:
            return ApiResponse(
                400,
                [{"errorCode": "INVALID_INPUT", "message": "Composite cannot be nested"}],
            )
        headers = sub.get("httpHeaders")
        inner = ApiRequest(
            method=str(sub["method"]).upper(),
            version=version,
            parts=parts,
            params=parse_qs(query, keep_blank_values=True),
            raw="" if body is None else json.dumps(body),
            headers={str(k).lower(): str(v) for k, v in headers.items()}
            if isinstance(headers, dict)
            else {},
            user_id=req.user_id,
            in_composite=True,
        )
        return self.dispatch(inner)


def _resolve(value: Any, results: dict[str, ApiResponse]) -> Any:
    """Replace ``@{ref.path}`` references; a value that is one reference keeps its JSON type."""
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value
    whole = _REF.fullmatch(value)
    if whole is not None:
        return _lookup(whole, results)
    return _REF.sub(lambda m: _text(_lookup(m, results)), value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _lookup(match: re.Match[str], results: dict[str, ApiResponse]) -> Any:
    ref, path = match.group(1), match.group(2)
    expression = f"{ref}{path}"
    missing = _Unresolved(
        f"Invalid reference specified. No value for {expression} found in {ref}. "
        f"Provided referenceId ids are '{ref}'."
    )
    response = results.get(ref)
    if response is None or response.status >= 400:
        raise missing
    current: Any = response.body
    for step in _STEP.finditer(path):
        key, index = step.group(1), step.group(2)
        if key is not None and isinstance(current, dict) and key in current:
            current = current[key]
        elif index is not None and isinstance(current, list) and int(index) < len(current):
            current = current[int(index)]
        else:
            raise missing
    return current
