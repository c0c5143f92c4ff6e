"""HubSpot OAuth: POST /oauth/v1/token for the authorization-code and refresh-token grants.

Access tokens live 30 minutes by default (``expires_in`` 1800). HubSpot refresh tokens do not
rotate: a refresh answers with the same refresh token, which stays valid, and only the access
token is new. The browser half of the install is out of scope; :meth:`OAuthApi.authorize` hands
out the one-time code a completed install would have sent to the app's redirect URL.
"""

from __future__ import annotations

import secrets
import threading
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channel_sync.clock import Clock
from channel_sync.sandbox.core import IssuedToken, TokenBook
from channel_sync.sandbox.hubspot.errors import correlation_id


def _oauth_error(code: str, message: str) -> JSONResponse:
    body = {"status": code, "message": message, "correlationId": correlation_id()}
    return JSONResponse(body, status_code=400)


class OAuthApi:
    def __init__(
        self, tokens: TokenBook, clock: Clock, *, client_id: str, client_secret: str
    ) -> None:
        self.tokens = tokens
        self.client_id = client_id
        self._client_secret = client_secret
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._refresh: set[str] = set()
        #: Access tokens issued through OAuth; their responses carry no daily-limit headers.
        self.oauth_tokens: set[str] = set()
        self.clock = clock

    def authorize(self) -> str:
        """A one-time authorization code, as the install redirect would deliver it."""
        code = "na1-" + secrets.token_hex(4) + "-" + secrets.token_hex(16)
        with self._lock:
            self._codes.add(code)
        return code

    def _issue(self, refresh_token: str) -> IssuedToken:
        issued = self.tokens.issue(None)
        with self._lock:
            self.oauth_tokens.add(issued.access_token)
        return IssuedToken(issued.access_token, issued.expires_at, refresh_token)

    async def token(self, request: Request) -> Response:
        request.state.counts_against_allowance = False
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        if grant not in ("authorization_code", "refresh_token"):
            return _oauth_error(
                "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token"
            )
        if form.get("client_id") != self.client_id:
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client_id")
        if not secrets.compare_digest(
            form.get("client_secret", "").encode(), self._client_secret.encode()
        ):
            return _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret")
        if grant == "authorization_code":
            code = form.get("code", "")
            with self._lock:
                known = code in self._codes
                self._codes.discard(code)
            if not known:
                return _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            refresh_token = "na1-" + secrets.token_hex(4) + "-" + secrets.token_hex(16)
            with self._lock:
                self._refresh.add(refresh_token)
        else:
            refresh_token = form.get("refresh_token", "")
            with self._lock:
                known = refresh_token in self._refresh
            if not known:
                return _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        issued = self._issue(refresh_token)
        body = {
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "access_token": issued.access_token,
            "expires_in": issued.expires_in(self.clock.now()),
        }
        return JSONResponse(body)

    def __repr__(self) -> str:
        return f"OAuthApi(client_id={self.client_id!r})"
