"""HubSpot credentials: a private-app (service key) token, or OAuth with a refresh token.

OAuth access tokens live 30 minutes; :class:`~channel_sync.connectors.tokens.TokenManager`
refreshes them proactively and single-flight. A refresh is never retried blindly: if the
server rotated the refresh token but the answer was lost, a second attempt with the old one
would be refused, so a failed refresh surfaces to the engine instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hubspot import HubSpot
from pydantic import SecretStr

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.hubspot.errors import TOKEN_ERRORS, translate
from channel_sync.connectors.tokens import AccessToken
from channel_sync.errors import AuthError

DEFAULT_HOST = "https://api.hubapi.com"


class HubSpotOAuthSource:
    """Exchanges the refresh token at ``/oauth/v1/token`` through hubspot-api-client."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        host: str = DEFAULT_HOST,
        clock: Clock | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        ssl_ca_cert: str | None = None,
        on_rotate: Callable[[SecretStr], None] | None = None,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._clock = clock or default_clock()
        self._timeout = timeout
        self._on_rotate = on_rotate
        options: dict[str, Any] = {"host": host, "retry": False}
        if ssl_ca_cert is not None:
            options["ssl_ca_cert"] = ssl_ca_cert
        self._api = HubSpot(**options).oauth.tokens_api

    def fetch(self) -> AccessToken:
        try:
            response = self._api.create_with_http_info(
                grant_type="refresh_token",
                client_id=self._client_id,
                client_secret=self._client_secret.get_secret_value(),
                refresh_token=self._refresh_token.get_secret_value(),
                _preload_content=False,
                _request_timeout=self._timeout,
            )
            data = json.loads(response.data)
        except Exception as exc:  # noqa: BLE001 - translated at the boundary
            raise translate(exc, self._clock.now(), table=TOKEN_ERRORS) from None
        if not isinstance(data, dict) or not data.get("access_token"):
            msg = "HubSpot OAuth: the token endpoint answered without an access token"
            raise AuthError(msg)
        now = self._clock.now()
        rotated = data.get("refresh_token")
        if rotated and rotated != self._refresh_token.get_secret_value():
            self._refresh_token = SecretStr(str(rotated))
            if self._on_rotate is not None:
                self._on_rotate(self._refresh_token)
        expires_in = data.get("expires_in")
        expires_at = now + timedelta(seconds=float(expires_in)) if expires_in else None
        return AccessToken(SecretStr(str(data["access_token"])), now, expires_at)
