"""Connection credentials (OAuth tokens, API keys), encrypted at rest with Fernet.

The key lives outside the database (``CHANNEL_SYNC_SECRET_KEY``), so a copy of the database
alone reveals no token. Several keys may be configured, newest first: every key can read, only
the first writes, and :meth:`CredentialRepository.rotate` re-encrypts every row with it, after
which the old key can be dropped. In memory, tokens are ``SecretStr`` so no repr, log line or
error message can show them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from channel_sync.clock import Clock
from channel_sync.store.columns import as_utc_or_none
from channel_sync.store.errors import CredentialKeyError
from channel_sync.store.tables import CredentialRow


class CredentialCipher:
    """MultiFernet over the configured keys; never shows a key in its repr."""

    def __init__(self, keys: Sequence[SecretStr]) -> None:
        if not keys:
            msg = (
                "no secret key configured: set CHANNEL_SYNC_SECRET_KEY to a Fernet key "
                "(generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            )
            raise CredentialKeyError(msg)
        try:
            self._fernet = MultiFernet([Fernet(key.get_secret_value()) for key in keys])
        except (ValueError, TypeError):
            msg = "CHANNEL_SYNC_SECRET_KEY holds a value that is not a Fernet key"
            raise CredentialKeyError(msg) from None
        self._count = len(keys)

    def __repr__(self) -> str:
        return f"CredentialCipher(<{self._count} key(s) redacted>)"

    def encrypt(self, plaintext: bytes) -> str:
        return self._fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            msg = "none of the configured secret keys opens this stored credential"
            raise CredentialKeyError(msg) from None

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            msg = "none of the configured secret keys opens this stored credential"
            raise CredentialKeyError(msg) from None


@dataclass(frozen=True, slots=True)
class Credentials:
    """One connection's secrets. ``version`` grows with every save (compare-and-set)."""

    secrets: Mapping[str, SecretStr]
    expires_at: datetime | None = None
    version: int = 0
    updated_at: datetime | None = None
    #: Non-secret facts that travel with the tokens (instance URL, portal id, scopes).
    details: Mapping[str, str] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        return self.secrets[name].get_secret_value()


class CredentialRepository:
    def __init__(self, session: Session, clock: Clock, cipher: CredentialCipher | None) -> None:
        self._session = session
        self._clock = clock
        self._cipher = cipher

    @property
    def cipher(self) -> CredentialCipher:
        if self._cipher is None:
            return CredentialCipher([])  # raises the "no secret key configured" error
        return self._cipher

    def get(self, connection: str) -> Credentials | None:
        row = self._session.get(CredentialRow, connection)
        if row is None:
            return None
        payload = json.loads(self.cipher.decrypt(row.token))
        return Credentials(
            secrets={name: SecretStr(value) for name, value in payload["secrets"].items()},
            details=dict(payload.get("details", {})),
            expires_at=row.expires_at,
            version=row.version,
            updated_at=row.updated_at,
        )

    def save(
        self,
        connection: str,
        secrets: Mapping[str, SecretStr],
        *,
        expires_at: datetime | None = None,
        details: Mapping[str, str] | None = None,
        expected_version: int | None = None,
    ) -> Credentials | None:
        """Encrypt and store; with ``expected_version``, only if nobody saved in between.

        Returns ``None`` when the compare-and-set lost (another process refreshed first: use
        its tokens instead of yours, since a rotated refresh token is single-use).
        """
        row = self._session.get(CredentialRow, connection, with_for_update=True)
        current = 0 if row is None else row.version
        if expected_version is not None and expected_version != current:
            return None
        payload = {
            "secrets": {name: value.get_secret_value() for name, value in secrets.items()},
            "details": dict(details or {}),
        }
        token = self.cipher.encrypt(json.dumps(payload, sort_keys=True).encode("utf-8"))
        now = self._clock.now()
        if row is None:
            row = CredentialRow(connection=connection, version=0)
            self._session.add(row)
        row.token = token
        row.version = current + 1
        row.expires_at = as_utc_or_none(expires_at)
        row.updated_at = now
        self._session.flush()
        return Credentials(
            secrets=dict(secrets),
            details=dict(details or {}),
            expires_at=row.expires_at,
            version=row.version,
            updated_at=now,
        )

    def delete(self, connection: str) -> bool:
        row = self._session.get(CredentialRow, connection)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True

    def rotate(self) -> int:
        """Re-encrypt every row with the first (newest) key; returns how many rows.

        Versions do not change: the tokens inside are the same, so a refresh racing with the
        rotation is neither lost nor refused.
        """
        rows = list(
            self._session.scalars(
                select(CredentialRow).order_by(CredentialRow.connection).with_for_update()
            )
        )
        for row in rows:
            try:
                row.token = self.cipher.rotate(row.token)
            except CredentialKeyError:
                msg = f"cannot rotate the credentials of {row.connection!r}: no key opens them"
                raise CredentialKeyError(msg) from None
        self._session.flush()
        return len(rows)

    def connections(self) -> list[str]:
        query = select(CredentialRow.connection).order_by(CredentialRow.connection)
        return list(self._session.scalars(query))
