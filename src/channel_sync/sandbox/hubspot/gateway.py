"""What stands in front of every emulated endpoint: authentication, rate limits and their headers.

The order is HubSpot's: a request without a valid token is refused with 401 before it can use
any allowance; then the limits are checked (search has its own per-second limit and is exempt
from the ten-secondly one); then the handler runs. Every response of an authenticated, non-search
call carries the ``X-HubSpot-RateLimit-*`` headers; search responses carry none, as in production.
Whatever goes wrong inside a handler, the client gets HubSpot's JSON error shape, never a
traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from channel_sync.clock import Clock
from channel_sync.sandbox.core import Allowance, TokenBook, TokenState
from channel_sync.sandbox.hubspot.errors import HubSpotError

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]

_AUTH_DOCS = "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
_POLICIES = {
    "burst": ("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."),
    "daily": ("DAILY", "You have reached your daily limit."),
    "secondly": ("SECONDLY", "You have reached your secondly limit."),
}


def unauthorized(state: TokenState) -> HubSpotError:
    if state == "expired":
        return HubSpotError(
            status=401,
            category="EXPIRED_AUTHENTICATION",
            message="The OAuth token used to make this call expired.",
        )
    message = (
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
        f"you can find more details at {_AUTH_DOCS}"
    )
    if state == "invalid":
        message = "The access token provided is not valid. " + message
    return HubSpotError(status=401, category="INVALID_AUTHENTICATION", message=message)


def rate_limited(policy: str) -> HubSpotError:
    """HubSpot's 429: ``policyName`` says which limit, ``errorType`` is the older field."""
    name, message = _POLICIES[policy]
    return HubSpotError(
        status=429,
        category="RATE_LIMITS",
        message=message,
        extra={"errorType": "RATE_LIMIT", "policyName": name},
    )


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class Gateway:
    def __init__(
        self,
        *,
        clock: Clock,
        tokens: TokenBook,
        allowance: Allowance,
        search_allowance: Allowance,
        oauth_tokens: set[str],
    ) -> None:
        self.clock = clock
        self.tokens = tokens
        self.allowance = allowance
        self.search_allowance = search_allowance
        self.oauth_tokens = oauth_tokens

    def guard(self, handler: Handler, *, search: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            now = self.clock.now()
            token = bearer(request)
            authenticated = False
            try:
                state = self.tokens.check(token, now)
                if state != "ok":
                    request.state.counts_against_allowance = False
                    raise unauthorized(state)
                authenticated = True
                self._admit(request, now, search=search)
                response = await handler(request)
            except HubSpotError as error:
                response = error.response()
            except Exception:
                log.exception("sandbox HubSpot handler failed on %s", request.url.path)
                response = HubSpotError(
                    status=500,
                    category="INTERNAL_ERROR",
                    message="An internal error occurred in the sandbox portal.",
                ).response()
            if authenticated and not search:
                self._limit_headers(response, now, oauth=token in self.oauth_tokens)
            return response

        return endpoint

    def _admit(self, request: Request, now: datetime, *, search: bool) -> None:
        if search and self.search_allowance.consume(now) is not None:
            request.state.counts_against_allowance = False
            raise rate_limited("secondly")
        # Search counts against the daily quota but not the ten-secondly window.
        refusal = self.allowance.consume(now, burst=not search)
        if refusal is not None:
            request.state.counts_against_allowance = False
            raise rate_limited(refusal.kind)

    def _limit_headers(self, response: Response, now: datetime, *, oauth: bool) -> None:
        headers = response.headers
        allowance = self.allowance
        # OAuth-authenticated calls carry no daily headers in production either.
        if not oauth:
            headers["X-HubSpot-RateLimit-Daily"] = str(allowance.daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(allowance.remaining())
        left = allowance.burst_remaining(now)
        if allowance.burst_limit is not None and left is not None:
            interval = int(allowance.burst_window_s * 1000)
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(interval)
            headers["X-HubSpot-RateLimit-Max"] = str(allowance.burst_limit)
            headers["X-HubSpot-RateLimit-Remaining"] = str(left)
