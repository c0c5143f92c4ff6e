"""The HTTP face of a sandbox org: Starlette routes for the REST API, the OAuth token endpoint
and the identity resources.

Authentication, the API allowance and the ``Sforce-Limit-Info`` header are applied here, once
per HTTP request, so a Composite request counts as one call however many subrequests it holds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from channel_sync.sandbox.salesforce.api_types import ApiRequest, ApiResponse
from channel_sync.sandbox.salesforce.errors import NOT_FOUND_MESSAGE, SESSION_MESSAGE

if TYPE_CHECKING:
    from channel_sync.sandbox.salesforce.backend import SalesforceBackend

log = logging.getLogger(__name__)

MIN_VERSION: Final = 42
MAX_VERSION: Final = 62
DEFAULT_VERSION: Final = "59.0"
_VERSION: Final = re.compile(r"^v(\d+)\.0$")
_METHODS: Final = ["GET", "POST", "PATCH", "DELETE", "PUT"]
_RELEASES: Final = {
    59: "Winter '24",
    60: "Spring '24",
    61: "Summer '24",
    62: "Winter '25",
}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status in (204, 304) or body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _session_error() -> Response:
    return _json(401, [{"message": SESSION_MESSAGE, "errorCode": "INVALID_SESSION_ID"}])


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        return None
    return value.strip() or None


def _release(version: int) -> str:
    return _RELEASES.get(version, f"API {version}")


class SalesforceHttp:
    def __init__(self, backend: SalesforceBackend) -> None:
        self.backend = backend

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/services/oauth2/token", self.token, methods=["POST"]),
            Route("/services/oauth2/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/id/{org}/{user}", self.identity, methods=["GET"]),
            Route("/services/data", self.versions, methods=["GET"]),
            Route("/services/data/", self.versions, methods=["GET"]),
            Route("/services/data/{version}", self.api, methods=_METHODS),
            Route("/services/data/{version}/{rest:path}", self.api, methods=_METHODS),
        ]

    async def versions(self, request: Request) -> Response:
        request.state.counts_against_allowance = False
        return _json(
            200,
            [
                {"label": _release(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
                for v in range(MIN_VERSION, MAX_VERSION + 1)
            ],
        )

    def _user_of(self, request: Request) -> str | None:
        backend = self.backend
        token = _bearer(request.headers.get("authorization"))
        if backend.tokens.check(token, backend.clock.now()) != "ok":
            return None
        assert token is not None
        return backend.directory.token_owner.get(token, backend.integration_user.id)

    async def api(self, request: Request) -> Response:
        backend = self.backend
        found = _VERSION.match(request.path_params["version"])
        if found is None or not MIN_VERSION <= int(found.group(1)) <= MAX_VERSION:
            request.state.counts_against_allowance = False
            return _json(404, [{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}])
        user_id = self._user_of(request)
        if user_id is None:
            request.state.counts_against_allowance = False
            return _session_error()
        refusal = backend.allowance.consume(backend.clock.now())
        if refusal is not None:
            request.state.counts_against_allowance = False
            message = (
                "TotalRequests Limit exceeded."
                if refusal.kind == "daily"
                else "ConcurrentPerOrgLongTxn Limit exceeded."
            )
            return _json(
                403,
                [{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                self._limit_header(),
            )
        raw = (await request.body()).decode("utf-8", errors="replace")
        rest: str = request.path_params.get("rest", "")
        parts = tuple(p for p in rest.split("/"))
        while parts and parts[-1] == "":
            parts = parts[:-1]
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        req = ApiRequest(
            method=request.method,
            version=f"{found.group(1)}.0",
            parts=parts,
            params=params,
            raw=raw,
            headers={k.lower(): v for k, v in request.headers.items()},
            user_id=user_id,
        )
        response = self._dispatch(req)
        request.state.records_read = response.records_read
        request.state.records_written = response.records_written
        headers = {**response.headers, **self._limit_header()}
        return _json(response.status, response.body, headers)

    def _dispatch(self, req: ApiRequest) -> ApiResponse:
        try:
            with self.backend.store.lock:
                return self.backend.router.dispatch(req)
        except Exception:  # a defect, not an input: answer the way an org does, log the trace
            log.exception("sandbox salesforce %s failed on %s", self.backend.name, req.parts)
            return ApiResponse(
                500,
                [
                    {
                        "errorCode": "UNKNOWN_EXCEPTION",
                        "message": "An unexpected error occurred. Please include this ErrorId "
                        "if you contact support: 0000000000-00000 (0)",
                    }
                ],
            )

    def _limit_header(self) -> dict[str, str]:
        allowance = self.backend.allowance
        return {"Sforce-Limit-Info": f"api-usage={allowance.used}/{allowance.daily_limit}"}

    async def token(self, request: Request) -> Response:
        request.state.counts_against_allowance = False
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        instance = f"{request.url.scheme}://{request.url.netloc}"
        with self.backend.store.lock:
            status, body = self.backend.oauth.grant(
                form, request.headers.get("authorization"), instance
            )
        return _json(status, body)

    async def userinfo(self, request: Request) -> Response:
        request.state.counts_against_allowance = False
        user_id = self._user_of(request)
        if user_id is None:
            return _json(403, {"error": "invalid_token", "error_description": "Bad_OAuth_Token"})
        return _json(200, self._identity(request, user_id, userinfo=True))

    async def identity(self, request: Request) -> Response:
        request.state.counts_against_allowance = False
        user_id = self._user_of(request)
        wanted = request.path_params["user"]
        if user_id is None:
            return _json(403, "Bad_OAuth_Token")
        if wanted != user_id or request.path_params["org"] != self.backend.org_id:
            return _json(403, "Bad_Id")
        return _json(200, self._identity(request, user_id, userinfo=False))

    def _identity(self, request: Request, user_id: str, *, userinfo: bool) -> dict[str, Any]:
        backend = self.backend
        user = backend.directory.by_id[user_id]
        base = f"{request.url.scheme}://{request.url.netloc}"
        urls = {
            "rest": f"{base}/services/data/v{{version}}/",
            "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
            "query": f"{base}/services/data/v{{version}}/query/",
        }
        if userinfo:
            return {
                "sub": f"{base}/id/{backend.org_id}/{user.id}",
                "user_id": user.id,
                "organization_id": backend.org_id,
                "preferred_username": user.username,
                "name": user.name,
                "urls": urls,
            }
        return {
            "id": f"{base}/id/{backend.org_id}/{user.id}",
            "user_id": user.id,
            "organization_id": backend.org_id,
            "username": user.username,
            "display_name": user.name,
            "urls": urls,
        }
