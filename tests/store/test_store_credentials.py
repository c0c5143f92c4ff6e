from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from channel_sync.clock import FrozenClock
from channel_sync.store import (
    CredentialCipher,
    CredentialKeyError,
    Store,
    StoreSettings,
    open_store,
)

ACCESS = "canary-access-6f1d2c"
REFRESH = "canary-refresh-93ab44"


def _raw_rows(store: Store) -> str:
    with store.read() as tx:
        rows = tx.session.execute(text("SELECT * FROM credentials")).all()
    return repr(rows)


def _save(store: Store, connection: str = "hs-acme") -> None:
    with store.transaction() as tx:
        tx.credentials.save(
            connection,
            {"access_token": SecretStr(ACCESS), "refresh_token": SecretStr(REFRESH)},
            expires_at=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
            details={"portal_id": "4711"},
        )


def test_tokens_are_encrypted_at_rest_and_redacted_in_memory(store: Store) -> None:
    _save(store)
    raw = _raw_rows(store)
    assert ACCESS not in raw
    assert REFRESH not in raw
    assert "4711" not in raw  # the details travel inside the ciphertext too
    with store.read() as tx:
        creds = tx.credentials.get("hs-acme")
    assert creds is not None
    assert creds.secret("access_token") == ACCESS
    assert creds.details == {"portal_id": "4711"}
    assert creds.expires_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert ACCESS not in repr(creds)
    assert REFRESH not in str(creds)


def test_rotation_re_encrypts_every_row_with_the_new_key(
    db_url: str, clock: FrozenClock, secret_key: SecretStr, store: Store
) -> None:
    _save(store, "hs-acme")
    _save(store, "sf-vendor")
    before = _raw_rows(store)
    new_key = SecretStr(Fernet.generate_key().decode())
    rotating = open_store(db_url, clock=clock, cipher=CredentialCipher([new_key, secret_key]))
    try:
        assert rotating.rotate_credentials() == 2
        assert _raw_rows(rotating) != before
    finally:
        rotating.dispose()
    only_new = open_store(db_url, clock=clock, cipher=CredentialCipher([new_key]), migrate=False)
    try:
        with only_new.read() as tx:
            for connection in ("hs-acme", "sf-vendor"):
                creds = tx.credentials.get(connection)
                assert creds is not None
                assert creds.secret("refresh_token") == REFRESH
                assert creds.version == 1  # rotation does not count as a save
    finally:
        only_new.dispose()
    # The old key alone no longer opens anything.
    with pytest.raises(CredentialKeyError, match="none of the configured"), store.read() as tx:
        tx.credentials.get("hs-acme")


def test_compare_and_set_lets_one_refresh_win(store: Store) -> None:
    _save(store)
    with store.transaction() as tx:
        current = tx.credentials.get("hs-acme")
        assert current is not None
        won = tx.credentials.save(
            "hs-acme", {"access_token": SecretStr("new-1")}, expected_version=current.version
        )
        lost = tx.credentials.save(
            "hs-acme", {"access_token": SecretStr("new-2")}, expected_version=current.version
        )
    assert won is not None
    assert won.version == 2
    assert lost is None
    with store.read() as tx:
        final = tx.credentials.get("hs-acme")
    assert final is not None
    assert final.secret("access_token") == "new-1"
    with store.transaction() as tx:
        assert tx.credentials.connections() == ["hs-acme"]
        assert tx.credentials.delete("hs-acme")
        assert tx.credentials.get("hs-acme") is None


def test_missing_or_bad_keys_are_configuration_errors(db_url: str, clock: FrozenClock) -> None:
    keyless = open_store(
        db_url, clock=clock, settings=StoreSettings(secret_key=None), migrate=False
    )
    try:
        with (
            pytest.raises(CredentialKeyError, match="CHANNEL_SYNC_SECRET_KEY"),
            keyless.transaction() as tx,
        ):
            tx.credentials.save("hs-acme", {"access_token": SecretStr(ACCESS)})
    finally:
        keyless.dispose()
    with pytest.raises(CredentialKeyError, match="not a Fernet key") as caught:
        CredentialCipher([SecretStr("not-a-key-" + ACCESS)])
    assert ACCESS not in str(caught.value)
    assert ACCESS not in repr(caught.value.__cause__)


def test_keys_come_from_the_environment_newest_first(
    db_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CHANNEL_SYNC_SECRET_KEY", old)
    first = open_store(db_url, clock=clock, migrate=False)
    try:
        _save(first)
        assert old not in repr(first)
    finally:
        first.dispose()
    monkeypatch.setenv("CHANNEL_SYNC_SECRET_KEY", f"{new}, {old}")
    settings = StoreSettings()
    assert new not in repr(settings)
    second = open_store(db_url, clock=clock, settings=settings, migrate=False)
    try:
        assert second.rotate_credentials() == 1
        cipher = CredentialCipher([SecretStr(new)])
        assert new not in repr(cipher)
        with second.read() as tx:
            token = tx.session.execute(text("SELECT token FROM credentials")).scalar_one()
        assert cipher.decrypt(token)  # readable by the new key alone
    finally:
        second.dispose()
