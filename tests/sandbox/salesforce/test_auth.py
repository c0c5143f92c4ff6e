"""OAuth grants and session expiry, through simple-salesforce's own login flows where it has
one (username-password, JWT bearer, client credentials) and plain HTTP for refresh tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from .conftest import JWT_PRIVATE_PEM, SECOND_APP, Org, new_deal


def _login(org: Org, **kwargs: object) -> Salesforce:
    return Salesforce(session=org.login_session(), object_pairs_hook=dict, **kwargs)  # type: ignore[arg-type]


def test_client_credentials_grant(org: Org) -> None:
    sf = _login(
        org,
        consumer_key=org.backend.client_id,
        consumer_secret=org.backend.client_secret,
        domain="sandbox",
    )
    assert sf.sf_instance == org.host
    created = sf.Opportunity.create(new_deal())
    record = sf.Opportunity.get(created["id"])
    assert record["CreatedById"] == org.backend.integration_user.id


def test_each_connected_app_acts_as_its_own_user(org: Org) -> None:
    sf = _login(
        org,
        consumer_key=SECOND_APP["client_id"],
        consumer_secret=SECOND_APP["client_secret"],
        domain="sandbox",
    )
    record_id = sf.Opportunity.create(new_deal())["id"]
    owner = sf.Opportunity.get(record_id)["CreatedById"]
    assert owner != org.backend.integration_user.id
    assert owner == org.backend.directory.user(SECOND_APP["username"]).id


def test_password_grant_and_transparent_relogin_after_expiry(org: Org) -> None:
    sf = _login(
        org,
        username="integration@org.sandbox",
        password="correct horse",
        consumer_key=org.backend.client_id,
        consumer_secret=org.backend.client_secret,
        domain="test",
    )
    first_token = sf.session_id
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
    org.clock.advance(timedelta(hours=3))
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
    assert sf.session_id != first_token


def test_wrong_password_and_wrong_secret(org: Org) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        _login(
            org,
            username="integration@org.sandbox",
            password="wrong",
            consumer_key=org.backend.client_id,
            consumer_secret=org.backend.client_secret,
        )
    assert info.value.code == "invalid_grant"
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        _login(org, consumer_key=org.backend.client_id, consumer_secret="nope", domain="sandbox")
    assert info.value.code == "invalid_client"
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        _login(org, consumer_key="unknown", consumer_secret="nope", domain="sandbox")
    assert info.value.code == "invalid_client_id"


def test_jwt_bearer_grant_checks_the_signature(org: Org) -> None:
    sf = _login(
        org,
        username="integration@org.sandbox",
        consumer_key=org.backend.client_id,
        privatekey=JWT_PRIVATE_PEM,
    )
    assert sf.query("SELECT COUNT() FROM Opportunity")["done"] is True
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        _login(
            org,
            username="integration@org.sandbox",
            consumer_key=org.backend.client_id,
            privatekey=forged,
        )
    assert info.value.code == "invalid_grant"
    with pytest.raises(SalesforceAuthenticationFailed):
        _login(
            org,
            username="nobody@org.sandbox",
            consumer_key=org.backend.client_id,
            privatekey=JWT_PRIVATE_PEM,
        )


def test_expired_direct_session_raises_expired_session(org: Org) -> None:
    org.backend.tokens.default_ttl_s = 60
    token = org.backend.user_token("short@org.sandbox").access_token
    sf = org.client(token)
    sf.query("SELECT Id FROM Opportunity")
    org.clock.advance(timedelta(minutes=2))
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Opportunity")
    assert info.value.status == 401
    assert info.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    with pytest.raises(SalesforceExpiredSession):
        org.client("made-up-token").Opportunity.create(new_deal())


def test_refresh_token_grant_rotates_single_use(org: Org) -> None:
    issued = org.backend.user_token("integration@org.sandbox", refresh=True)
    assert issued.refresh_token is not None
    url = org.instance.base_url + "/services/oauth2/token"
    form = {
        "grant_type": "refresh_token",
        "refresh_token": issued.refresh_token,
        "client_id": org.backend.client_id,
    }
    session = org.session()
    first = session.post(url, data=form)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == org.instance.base_url
    assert body["refresh_token"] != issued.refresh_token
    assert org.client(body["access_token"]).query("SELECT COUNT() FROM Opportunity")["done"]
    again = session.post(url, data=form)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    unsupported = session.post(url, data={"grant_type": "authorization_code"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_token_calls_do_not_count_against_the_allowance(org: Org) -> None:
    _login(
        org,
        consumer_key=org.backend.client_id,
        consumer_secret=org.backend.client_secret,
        domain="sandbox",
    ).query("SELECT Id FROM Opportunity")
    ledger = org.ledger()
    assert [e["counts_against_allowance"] for e in ledger["entries"]] == [False, True]
    assert ledger["api_calls"] == 1


def test_identity_of_the_token_owner(org: Org) -> None:
    session = org.session()
    response = session.get(
        org.instance.base_url + "/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {org.instance.access_token}"},
    )
    assert response.json()["user_id"] == org.backend.integration_user.id
    assert isinstance(session, requests.Session)
