"""What each connector kind accepts under ``credentials:`` and ``urls:`` in a connection file.

The connection model itself only knows that ``connector`` names a known kind; the keys a kind
needs live here, one small strict model per kind, so an unknown or misspelt key is reported
with the keys that kind allows, and a connector added later brings its own spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, RootModel, model_validator

from channel_sync.config.env_refs import EnvReference, EnvReferenceOrLiteral


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _require(self, needed: tuple[str, ...], why: str) -> None:
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            msg = f"{why} needs {', '.join(needed)}; missing: {', '.join(missing)}"
            raise ValueError(msg)


class SalesforceAuth(StrEnum):
    CLIENT_CREDENTIALS = "client_credentials"
    JWT_BEARER = "jwt_bearer"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105  (an OAuth flow name, not a secret)
    PASSWORD = "password"  # noqa: S105  (an OAuth flow name, not a secret)


_SALESFORCE_NEEDS: dict[SalesforceAuth, tuple[str, ...]] = {
    SalesforceAuth.CLIENT_CREDENTIALS: ("client_id", "client_secret"),
    SalesforceAuth.JWT_BEARER: ("client_id", "username", "private_key_file"),
    SalesforceAuth.REFRESH_TOKEN: ("client_id", "refresh_token"),
    SalesforceAuth.PASSWORD: ("username", "password"),
}


class SalesforceCredentials(_Section):
    """OAuth settings for a Salesforce org; auth picks the flow and so the required keys."""

    auth: SalesforceAuth
    client_id: EnvReference | None = None
    client_secret: EnvReference | None = None
    username: EnvReference | None = None
    password: EnvReference | None = None
    security_token: EnvReference | None = None
    private_key_file: EnvReference | None = None
    refresh_token: EnvReference | None = None

    @model_validator(mode="after")
    def _flow_has_its_keys(self) -> Self:
        self._require(_SALESFORCE_NEEDS[self.auth], f"auth '{self.auth.value}'")
        return self


class SalesforceUrls(_Section):
    """Where the org lives; ca_bundle is a PEM file to trust in addition to the system's."""

    instance_url: EnvReferenceOrLiteral
    login_url: EnvReferenceOrLiteral | None = None
    ca_bundle: EnvReferenceOrLiteral | None = None


class HubSpotCredentials(_Section):
    """A private-app access_token, or an OAuth app's client id, secret and refresh token."""

    access_token: EnvReference | None = None
    client_id: EnvReference | None = None
    client_secret: EnvReference | None = None
    refresh_token: EnvReference | None = None

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        oauth = ("client_id", "client_secret", "refresh_token")
        if self.access_token is not None:
            extra = [key for key in oauth if getattr(self, key) is not None]
            if extra:
                msg = f"give either access_token or OAuth keys ({', '.join(oauth)}), not both"
                raise ValueError(msg)
            return self
        if all(getattr(self, key) is None for key in oauth):
            msg = f"needs access_token (a private app) or {', '.join(oauth)} (an OAuth app)"
            raise ValueError(msg)
        self._require(oauth, "OAuth")
        return self


class HubSpotUrls(_Section):
    """The API host (the public one when absent) and an optional extra CA bundle."""

    host: EnvReferenceOrLiteral | None = None
    ca_bundle: EnvReferenceOrLiteral | None = None


class GenericCredentials(RootModel[dict[str, EnvReference]]):
    """For a connector kind without a spec: any keys, every value a reference."""


class GenericUrls(RootModel[dict[str, EnvReferenceOrLiteral]]):
    """For a connector kind without a spec: any keys, literal or referenced values."""


@dataclass(frozen=True)
class ConnectorSpec:
    """The ``credentials:`` and ``urls:`` models of one connector kind."""

    kind: str
    credentials: type[BaseModel]
    urls: type[BaseModel]
    #: keys under ``urls:`` that must resolve to an http(s) URL
    url_keys: tuple[str, ...] = ()
    #: keys under ``urls:`` that must resolve to an existing file (CA bundles)
    file_keys: tuple[str, ...] = ("ca_bundle",)
    #: credential keys that are settings written literally, not secrets
    literal_credentials: tuple[str, ...] = ()


BUILTIN_SPECS: Mapping[str, ConnectorSpec] = {
    "salesforce": ConnectorSpec(
        "salesforce",
        SalesforceCredentials,
        SalesforceUrls,
        url_keys=("instance_url", "login_url"),
        literal_credentials=("auth",),
    ),
    "hubspot": ConnectorSpec("hubspot", HubSpotCredentials, HubSpotUrls, url_keys=("host",)),
}


def spec_for(kind: str, specs: Mapping[str, ConnectorSpec] | None = None) -> ConnectorSpec:
    """The spec of ``kind``; a kind known only by name gets the generic, reference-only one."""
    found = (specs if specs is not None else BUILTIN_SPECS).get(kind)
    return found or ConnectorSpec(kind, GenericCredentials, GenericUrls)
