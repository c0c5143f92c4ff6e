"""Salesforce OAuth 2.0: JWT bearer, client credentials, refresh token, username-password.

Every flow posts to the org's token endpoint (``{login_url}/services/oauth2/token``), the same
request simple-salesforce's ``SalesforceLogin`` makes, but reads the whole answer:
``instance_url``, ``issued_at`` and, for the refresh-token flow, a rotated refresh token that
must replace the old one at once (rotation makes refresh tokens single-use). Salesforce does not
say when a session expires (that is an org setting), so the lifetime is configured; the
:class:`~channel_sync.connectors.tokens.TokenManager` refreshes at 90% of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import requests
from pydantic import SecretStr

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.salesforce.errors import TOKEN_ERRORS, translate, vendor_error
from channel_sync.connectors.tokens import AccessToken
from channel_sync.errors import AuthError, ConfigurationError

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_SESSION_LIFETIME = timedelta(hours=2)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class SalesforceOAuth:
    """A token source for one org and one OAuth flow."""

    def __init__(
        self,
        *,
        flow: str,
        login_url: str,
        session: requests.Session,
        client_id: str | None = None,
        client_secret: SecretStr | None = None,
        username: str | None = None,
        password: SecretStr | None = None,
        security_token: SecretStr | None = None,
        private_key: SecretStr | None = None,
        refresh_token: SecretStr | None = None,
        audience: str | None = None,
        session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        clock: Clock | None = None,
        on_rotate: Callable[[SecretStr], None] | None = None,
    ) -> None:
        needs: dict[str, tuple[str, ...]] = {
            "client_credentials": ("client_id", "client_secret"),
            "jwt_bearer": ("client_id", "username", "private_key"),
            "refresh_token": ("client_id", "refresh_token"),
            "password": ("client_id", "client_secret", "username", "password"),
        }
        if flow not in needs:
            msg = f"unknown Salesforce auth flow {flow!r} (known: {', '.join(needs)})"
            raise ConfigurationError(msg)
        given = {
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
            "private_key": private_key,
            "refresh_token": refresh_token,
        }
        missing = [key for key in needs[flow] if not given[key]]
        if missing:
            msg = f"Salesforce auth {flow!r} needs {', '.join(missing)}"
            raise ConfigurationError(msg)
        self.flow = flow
        self._token_url = login_url.rstrip("/") + "/services/oauth2/token"
        self._audience = audience or login_url.rstrip("/")
        self._session = session
        self._client_id = client_id or ""
        self._client_secret = client_secret
        self._username = username
        self._password = password
        self._security_token = security_token
        self._private_key = private_key
        self._refresh_token = refresh_token
        self._lifetime = session_lifetime
        self._clock = clock or default_clock()
        self._on_rotate = on_rotate

    def fetch(self) -> AccessToken:
        form = self._form()
        try:
            response = self._session.post(self._token_url, data=form)
        except requests.RequestException as exc:
            raise translate(exc, None, self._clock.now()) from None
        try:
            data: Any = response.json()
        except ValueError:
            data = response.text
        if response.status_code != 200 or not isinstance(data, Mapping):
            error = vendor_error(response.status_code, data, response.headers, self._clock.now())
            raise TOKEN_ERRORS.classify(error) from None
        return self._token(data)

    def _form(self) -> dict[str, str]:
        secret = self._client_secret.get_secret_value() if self._client_secret else None
        form: dict[str, str] = {"client_id": self._client_id}
        if self.flow == "client_credentials":
            form["grant_type"] = "client_credentials"
        elif self.flow == "jwt_bearer":
            form = {"grant_type": JWT_GRANT, "assertion": self._assertion()}
        elif self.flow == "refresh_token":
            assert self._refresh_token is not None
            form["grant_type"] = "refresh_token"
            form["refresh_token"] = self._refresh_token.get_secret_value()
        else:
            assert self._password is not None
            suffix = self._security_token.get_secret_value() if self._security_token else ""
            form["grant_type"] = "password"
            form["username"] = self._username or ""
            form["password"] = self._password.get_secret_value() + suffix
        if secret is not None and self.flow != "jwt_bearer":
            form["client_secret"] = secret
        return form

    def _assertion(self) -> str:
        assert self._private_key is not None
        now = self._clock.now()
        claims = {
            "iss": self._client_id,
            "sub": self._username,
            "aud": self._audience,
            "exp": int((now + timedelta(minutes=3)).timestamp()),
        }
        try:
            return jwt.encode(claims, self._private_key.get_secret_value(), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            msg = f"Salesforce JWT bearer: the private key cannot sign ({type(exc).__name__})"
            raise ConfigurationError(msg) from None

    def _token(self, data: Mapping[str, Any]) -> AccessToken:
        value = data.get("access_token")
        if not value:
            msg = "Salesforce OAuth: the token endpoint answered without an access token"
            raise AuthError(msg)
        now = self._clock.now()
        issued = now
        raw_issued = data.get("issued_at")
        if isinstance(raw_issued, str | int) and str(raw_issued).isdigit():
            issued = min(now, datetime.fromtimestamp(int(raw_issued) / 1000, tz=UTC))
        rotated = data.get("refresh_token")
        if (
            self.flow == "refresh_token"
            and rotated
            and self._refresh_token is not None
            and rotated != self._refresh_token.get_secret_value()
        ):
            self._refresh_token = SecretStr(str(rotated))
            if self._on_rotate is not None:
                self._on_rotate(self._refresh_token)
        expires_in = data.get("expires_in")
        lifetime = timedelta(seconds=float(expires_in)) if expires_in else self._lifetime
        instance = data.get("instance_url")
        return AccessToken(
            SecretStr(str(value)),
            issued_at=issued,
            expires_at=issued + lifetime,
            instance_url=str(instance) if instance else None,
        )


def read_private_key(path: str) -> SecretStr:
    """The PEM private key for the JWT bearer flow, kept secret in memory."""
    try:
        return SecretStr(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read the Salesforce JWT private key file {path!r}: {exc.strerror}"
        raise ConfigurationError(msg) from None
