"""The ``salesforce`` entry point: builds a :class:`SalesforceConnector` from a connection."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import SecretStr

from channel_sync.clock import Clock
from channel_sync.connectors.protocol import ObjectSpec
from channel_sync.connectors.salesforce.auth import (
    DEFAULT_LOGIN_URL,
    SalesforceOAuth,
    read_private_key,
)
from channel_sync.connectors.salesforce.connector import (
    KIND,
    SalesforceConnector,
    SalesforceSettings,
)
from channel_sync.connectors.salesforce.session import SalesforceSession
from channel_sync.errors import ConfigurationError


def _plain(credentials: dict[str, SecretStr], key: str) -> str | None:
    value = credentials.get(key)
    return value.get_secret_value() if value is not None else None


def oauth_source(
    credentials: dict[str, SecretStr],
    urls: dict[str, str],
    http: SalesforceSession,
    clock: Clock | None = None,
) -> SalesforceOAuth:
    """The token source for the connection's ``auth`` flow.

    Client credentials go to the org's own domain (the instance URL); the other flows to
    ``login_url`` (login.salesforce.com unless set).
    """
    flow = _plain(credentials, "auth") or "client_credentials"
    instance = urls.get("instance_url")
    login_url = urls.get("login_url") or (
        instance if flow == "client_credentials" else DEFAULT_LOGIN_URL
    )
    if not login_url:
        msg = "a Salesforce connection needs urls.instance_url (or urls.login_url)"
        raise ConfigurationError(msg)
    key_file = _plain(credentials, "private_key_file")
    return SalesforceOAuth(
        flow=flow,
        login_url=login_url,
        session=http.session,
        client_id=_plain(credentials, "client_id"),
        client_secret=credentials.get("client_secret"),
        username=_plain(credentials, "username"),
        password=credentials.get("password"),
        security_token=credentials.get("security_token"),
        private_key=read_private_key(key_file) if key_file else None,
        refresh_token=credentials.get("refresh_token"),
        clock=clock,
    )


class SalesforcePlugin:
    kind = KIND

    def from_connection(self, connection: Any, **options: Any) -> SalesforceConnector:
        """Build from a resolved connection (``channel_sync.config.ResolvedConnection``).

        Options: ``mapping`` (a compiled mapping) or ``objects`` (ObjectSpecs), ``settings``
        (:class:`SalesforceSettings`), ``clock``.
        """
        urls = {k: str(v) for k, v in connection.urls.items()}
        objects = options.get("objects")
        if objects is None:
            mapping = options.get("mapping")
            if mapping is None:
                msg = "a Salesforce connector needs the connection's mapping (or object specs)"
                raise ConfigurationError(msg)
            objects = [ObjectSpec.from_mapping(mapping)]
        settings = dataclasses.replace(
            options.get("settings") or SalesforceSettings(),
            instance_url=urls.get("instance_url"),
            ca_bundle=urls.get("ca_bundle"),
        )
        clock = options.get("clock")
        http = SalesforceSession(ca_bundle=settings.ca_bundle, timeout=settings.timeout)
        return SalesforceConnector(
            objects=objects,
            token_source=oauth_source(connection.credentials, urls, http, clock),
            settings=settings,
            clock=clock,
            http=http,
        )


plugin = SalesforcePlugin()
