"""The ``hubspot`` entry point: builds a :class:`HubSpotConnector` from a connection."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import SecretStr

from channel_sync.clock import Clock
from channel_sync.connectors.hubspot.auth import DEFAULT_HOST, HubSpotOAuthSource
from channel_sync.connectors.hubspot.connector import KIND, HubSpotConnector, HubSpotSettings
from channel_sync.connectors.protocol import ObjectSpec
from channel_sync.connectors.tokens import StaticTokenSource, TokenSource
from channel_sync.errors import ConfigurationError


def _secret(credentials: dict[str, SecretStr], key: str) -> SecretStr:
    value = credentials.get(key)
    if value is None:
        msg = f"HubSpot connection needs credentials.{key}"
        raise ConfigurationError(msg)
    return value


def token_source(
    credentials: dict[str, SecretStr],
    host: str,
    clock: Clock | None = None,
    ssl_ca_cert: str | None = None,
) -> TokenSource:
    """A private-app token when one is configured, otherwise the OAuth refresh flow."""
    if "access_token" in credentials:
        return StaticTokenSource(credentials["access_token"], clock=clock)
    return HubSpotOAuthSource(
        client_id=_secret(credentials, "client_id").get_secret_value(),
        client_secret=_secret(credentials, "client_secret"),
        refresh_token=_secret(credentials, "refresh_token"),
        host=host,
        clock=clock,
        ssl_ca_cert=ssl_ca_cert,
    )


class HubSpotPlugin:
    kind = KIND

    def from_connection(self, connection: Any, **options: Any) -> HubSpotConnector:
        """Build from a resolved connection (``channel_sync.config.ResolvedConnection``).

        Options: ``mapping`` (a compiled mapping) or ``objects`` (ObjectSpecs), ``settings``
        (:class:`HubSpotSettings`), ``clock``.
        """
        host = str(connection.urls.get("host") or DEFAULT_HOST).rstrip("/")
        objects = options.get("objects")
        if objects is None:
            mapping = options.get("mapping")
            if mapping is None:
                msg = "a HubSpot connector needs the connection's mapping (or object specs)"
                raise ConfigurationError(msg)
            objects = [ObjectSpec.from_mapping(mapping)]
        settings = dataclasses.replace(
            options.get("settings") or HubSpotSettings(),
            host=host,
            ssl_ca_cert=connection.urls.get("ca_bundle"),
        )
        clock = options.get("clock")
        return HubSpotConnector(
            objects=objects,
            token_source=token_source(connection.credentials, host, clock, settings.ssl_ca_cert),
            settings=settings,
            clock=clock,
        )


plugin = HubSpotPlugin()
