"""The OAuth 2.0 token endpoint of a sandbox org: client credentials, JWT bearer, username and
password, and refresh token grants, with Salesforce's response and error shapes.

JWT assertions are checked for structure, issuer, subject, audience and expiry, and their RS256
signature is verified when the client app has a public key configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

from channel_sync.clock import Clock
from channel_sync.sandbox.core.tokens import IssuedToken, TokenBook
from channel_sync.sandbox.salesforce.users import ClientApp, Directory, User

JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"

OAuthResult = tuple[int, dict[str, Any]]


class _Denied(Exception):  # noqa: N818  (internal signal)
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _invalid_client_id() -> _Denied:
    return _Denied("invalid_client_id", "client identifier invalid")


@dataclass
class TokenEndpoint:
    directory: Directory
    tokens: TokenBook
    clock: Clock
    org_id: str
    rotate_refresh_tokens: bool = True

    def grant(
        self, form: Mapping[str, str], authorization: str | None, instance_url: str
    ) -> OAuthResult:
        try:
            return 200, self._grant(form, authorization, instance_url)
        except _Denied as exc:
            return 400, {"error": exc.error, "error_description": exc.description}

    def _grant(
        self, form: Mapping[str, str], authorization: str | None, instance_url: str
    ) -> dict[str, Any]:
        kind = form.get("grant_type", "")
        if kind == "client_credentials":
            app = self._client(form, authorization, need_secret=True)
            user = self.directory.user(app.username)
            return self._respond(app, user, instance_url, refresh=False)
        if kind == "password":
            app = self._client(form, authorization, need_secret=True)
            username = form.get("username", "")
            expected = self.directory.passwords.get(username.lower())
            if expected is None or not hmac.compare_digest(expected, form.get("password", "")):
                raise _Denied("invalid_grant", "authentication failure")
            user = self.directory.user(username)
            return self._respond(app, user, instance_url, refresh=False)
        if kind == JWT_GRANT:
            app, user = self._jwt(form.get("assertion", ""), instance_url)
            return self._respond(app, user, instance_url, refresh=False)
        if kind == "refresh_token":
            return self._refresh(form, authorization, instance_url)
        raise _Denied("unsupported_grant_type", "grant type not supported")

    def _client(
        self, form: Mapping[str, str], authorization: str | None, *, need_secret: bool
    ) -> ClientApp:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise _Denied("invalid_client", "invalid client credentials") from None
            client_id, _, secret = decoded.partition(":")
        app = self.directory.clients.get(client_id or "")
        if app is None:
            raise _invalid_client_id()
        if need_secret and not hmac.compare_digest(app.client_secret, secret or ""):
            raise _Denied("invalid_client", "invalid client credentials")
        return app

    def _refresh(
        self, form: Mapping[str, str], authorization: str | None, instance_url: str
    ) -> dict[str, Any]:
        app = self._client(form, authorization, need_secret=False)
        old = form.get("refresh_token", "")
        owner = self.directory.refresh_owner.get(old)
        if owner is None or owner[1] != app.client_id:
            raise _Denied("invalid_grant", "expired access/refresh token")
        user = self.directory.by_id[owner[0]]
        if not self.rotate_refresh_tokens:
            issued = self.tokens.issue(None)
            return self._body(app, user, issued, instance_url, refresh_token=None)
        rotated = self.tokens.refresh(old)
        if rotated is None:
            raise _Denied("invalid_grant", "expired access/refresh token")
        del self.directory.refresh_owner[old]
        self.directory.token_owner[rotated.access_token] = user.id
        if rotated.refresh_token is not None:
            self.directory.refresh_owner[rotated.refresh_token] = (user.id, app.client_id)
        return self._body(app, user, rotated, instance_url, rotated.refresh_token)

    def issue(self, app: ClientApp, user: User, *, refresh: bool) -> IssuedToken:
        issued = self.tokens.issue(None, refresh=refresh)
        self.directory.token_owner[issued.access_token] = user.id
        if issued.refresh_token is not None:
            self.directory.refresh_owner[issued.refresh_token] = (user.id, app.client_id)
        return issued

    def _respond(
        self, app: ClientApp, user: User, instance_url: str, *, refresh: bool
    ) -> dict[str, Any]:
        issued = self.issue(app, user, refresh=refresh)
        return self._body(app, user, issued, instance_url, issued.refresh_token)

    def _body(
        self,
        app: ClientApp,
        user: User,
        issued: IssuedToken,
        instance_url: str,
        refresh_token: str | None,
    ) -> dict[str, Any]:
        if issued.access_token not in self.directory.token_owner:
            self.directory.token_owner[issued.access_token] = user.id
        identity = f"{instance_url}/id/{self.org_id}/{user.id}"
        issued_at = str(int(self.clock.now().timestamp() * 1000))
        digest = hmac.new(
            app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        body: dict[str, Any] = {
            "access_token": issued.access_token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api refresh_token" if refresh_token else "api",
        }
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return body

    # -- JWT bearer ----------------------------------------------------------------------------
    def _jwt(self, assertion: str, instance_url: str) -> tuple[ClientApp, User]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise _Denied("invalid_grant", "invalid assertion")
        try:
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (ValueError, binascii.Error):
            raise _Denied("invalid_grant", "invalid assertion") from None
        if not isinstance(header, dict) or header.get("alg") != "RS256":
            raise _Denied("invalid_grant", "invalid assertion")
        if not isinstance(claims, dict):
            raise _Denied("invalid_grant", "invalid assertion")
        app = self.directory.clients.get(str(claims.get("iss", "")))
        if app is None:
            raise _invalid_client_id()
        audience = str(claims.get("aud", ""))
        if not (audience.startswith("https://") and audience.rstrip("/")) or not (
            audience.endswith(".salesforce.com") or audience.rstrip("/") == instance_url
        ):
            raise _Denied("invalid_grant", "audience is invalid")
        try:
            expires = float(claims.get("exp", ""))
        except (TypeError, ValueError):
            raise _Denied("invalid_grant", "invalid assertion") from None
        if expires <= self.clock.now().timestamp():
            raise _Denied("invalid_grant", "expired authorization code")
        subject = str(claims.get("sub", ""))
        user = self.directory.by_username.get(subject.lower())
        if user is None:
            raise _Denied("invalid_grant", "invalid user credentials")
        if app.jwt_public_key is not None:
            signed = f"{parts[0]}.{parts[1]}".encode()
            if not _verify_rs256(app.jwt_public_key, signed, signature):
                raise _Denied("invalid_grant", "invalid assertion")
        return app, user


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _verify_rs256(pem: str, signed: bytes, signature: bytes) -> bool:
    data = pem.encode()
    key: Any
    if b"CERTIFICATE" in data:
        key = load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
