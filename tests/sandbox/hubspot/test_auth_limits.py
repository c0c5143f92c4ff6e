"""Tokens, OAuth refresh, rate-limit headers and 429s, through hubspot-api-client.

Token expiry is permanent for an instance, so every test here gets a fresh server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hubspot.crm.deals import ApiException, PublicObjectSearchRequest
from hubspot.crm.deals.exceptions import UnauthorizedException
from hubspot.oauth import ApiException as OAuthApiException

from channel_sync.clock import FrozenClock
from channel_sync.sandbox import InstanceSpec, SandboxServer

from .conftest import START, Portal, error_body


@pytest.fixture
def hs_server() -> Iterator[tuple[SandboxServer, FrozenClock]]:
    clock = FrozenClock(START)
    with SandboxServer([InstanceSpec("partner", "hubspot")], clock=clock) as server:
        yield server, clock


def limit_headers(api: object) -> dict[str, str]:
    headers = api.api_client.last_response.getheaders()  # type: ignore[attr-defined]
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-hubspot")}


def test_rate_limit_headers_count_down(portal: Portal) -> None:
    portal.basic.get_page()
    first = limit_headers(portal.basic)
    portal.basic.get_page()
    second = limit_headers(portal.basic)

    assert first == {
        "x-hubspot-ratelimit-daily": "650000",
        "x-hubspot-ratelimit-daily-remaining": "649999",
        "x-hubspot-ratelimit-interval-milliseconds": "10000",
        "x-hubspot-ratelimit-max": "190",
        "x-hubspot-ratelimit-remaining": "189",
    }
    assert second["x-hubspot-ratelimit-daily-remaining"] == "649998"
    assert second["x-hubspot-ratelimit-remaining"] == "188"


def test_burst_limit_answers_429_ten_secondly_rolling(portal: Portal) -> None:
    portal.faults(burst_limit=3)
    for _ in range(3):
        portal.basic.get_page()

    with pytest.raises(ApiException) as info:
        portal.basic.get_page()

    assert info.value.status == 429
    body = error_body(info.value)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["category"] == "RATE_LIMITS"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert info.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    # Search is exempt from the ten-secondly window.
    portal.search.do_search(public_object_search_request=PublicObjectSearchRequest())
    portal.clock.advance(timedelta(seconds=10))
    assert portal.basic.get_page().results == []


def test_daily_limit_answers_429_daily_for_every_endpoint(portal: Portal) -> None:
    portal.faults(daily_limit=2)
    portal.basic.get_page()
    portal.basic.get_page()
    assert limit_headers(portal.basic)["x-hubspot-ratelimit-daily-remaining"] == "0"

    with pytest.raises(ApiException) as listing:
        portal.basic.get_page()
    with pytest.raises(ApiException) as searching:
        portal.search.do_search(public_object_search_request=PublicObjectSearchRequest())

    for info in (listing, searching):
        assert info.value.status == 429
        assert error_body(info.value)["policyName"] == "DAILY"


def test_missing_and_unknown_tokens_are_401(portal: Portal) -> None:
    for token in (None, "pat-na1-not-a-real-token"):
        api = portal.new_client(token).crm.deals.basic_api
        with pytest.raises(UnauthorizedException) as info:
            api.get_page()
        assert error_body(info.value)["category"] == "INVALID_AUTHENTICATION"
        assert not any(k.lower().startswith("x-hubspot") for k in info.value.headers)

    entries = portal.ledger(2)["entries"]
    assert [(e["status"], e["counts_against_allowance"]) for e in entries] == [(401, False)] * 2


def test_expired_tokens_are_401_expired_authentication(portal: Portal) -> None:
    portal.basic.get_page()
    portal.faults(expire_tokens=True)

    with pytest.raises(UnauthorizedException) as info:
        portal.basic.get_page()

    assert error_body(info.value)["category"] == "EXPIRED_AUTHENTICATION"


def install(portal: Portal) -> tuple[str, str, int]:
    """Complete an app install: exchange an authorization code for tokens through the client."""
    backend = portal.backend
    response = portal.client.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=backend.authorize(),
        redirect_uri="https://partner.example/oauth/callback",
        client_id=backend.client_id,
        client_secret=backend.client_secret,
    )
    assert response.token_type == "bearer"
    return response.access_token, response.refresh_token, response.expires_in


def test_oauth_access_token_expires_after_30_minutes_and_refreshes(portal: Portal) -> None:
    access, refresh, expires_in = install(portal)
    assert expires_in == 1800
    api = portal.new_client(access).crm.deals.basic_api
    api.get_page()
    # OAuth-authenticated calls carry the burst headers but no daily ones.
    assert set(limit_headers(api)) == {
        "x-hubspot-ratelimit-interval-milliseconds",
        "x-hubspot-ratelimit-max",
        "x-hubspot-ratelimit-remaining",
    }

    portal.clock.advance(timedelta(minutes=31))
    with pytest.raises(UnauthorizedException) as info:
        api.get_page()
    assert error_body(info.value)["category"] == "EXPIRED_AUTHENTICATION"

    backend = portal.backend
    renewed = portal.client.oauth.tokens_api.create(
        grant_type="refresh_token",
        refresh_token=refresh,
        client_id=backend.client_id,
        client_secret=backend.client_secret,
    )
    assert renewed.access_token != access
    assert renewed.refresh_token == refresh  # HubSpot refresh tokens do not rotate
    assert renewed.expires_in == 1800
    assert portal.new_client(renewed.access_token).crm.deals.basic_api.get_page().results == []
    with pytest.raises(UnauthorizedException):
        api.get_page()

    entries = portal.ledger(6)["entries"]
    token_calls = [e for e in entries if e["path"] == "/oauth/v1/token"]
    assert [e["counts_against_allowance"] for e in token_calls] == [False, False]


def test_token_lifetime_follows_the_control_plane(portal: Portal) -> None:
    portal.faults(token_ttl_s=60)
    _, _, expires_in = install(portal)
    assert expires_in == 60


@pytest.mark.parametrize(
    ("override", "status"),
    [
        ({"refresh_token": "na1-0000-unknown"}, "BAD_REFRESH_TOKEN"),
        ({"client_secret": "wrong"}, "BAD_CLIENT_SECRET"),
        ({"client_id": "wrong"}, "BAD_CLIENT_ID"),
        ({"grant_type": "password"}, "BAD_GRANT_TYPE"),
    ],
)
def test_bad_refresh_requests_are_400(
    portal: Portal, override: dict[str, str], status: str
) -> None:
    _, refresh, _ = install(portal)
    backend = portal.backend
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": backend.client_id,
        "client_secret": backend.client_secret,
        **override,
    }
    with pytest.raises(OAuthApiException) as info:
        portal.client.oauth.tokens_api.create(**form)
    assert info.value.status == 400
    assert f'"status":"{status}"' in info.value.body


def test_authorization_codes_are_single_use(portal: Portal) -> None:
    backend = portal.backend
    code = backend.authorize()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://partner.example/oauth/callback",
        "client_id": backend.client_id,
        "client_secret": backend.client_secret,
    }
    portal.client.oauth.tokens_api.create(**form)
    with pytest.raises(OAuthApiException) as info:
        portal.client.oauth.tokens_api.create(**form)
    assert '"status":"BAD_AUTH_CODE"' in info.value.body
