"""A sandbox Salesforce org on a real HTTPS socket, driven through simple-salesforce.

One server per test module (starting one costs a TLS setup); every test gets it reset to
empty, with default limits, an unshifted clock and a fresh client whose requests are counted
on the client side, so tests can hold the ledger against what was really sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.sandbox.salesforce import SalesforceBackend

JWT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWT_PRIVATE_PEM = JWT_KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
JWT_PUBLIC_PEM = (
    JWT_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
SECOND_APP = {
    "username": "human@org.sandbox",
    "client_id": "second-app",
    "client_secret": "second-secret",
}


class ShiftClock:
    """Wall-clock time plus an offset tests can move forward (token expiry, horizons)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class Org:
    """The running org plus the helpers tests use to talk to it."""

    instance: RunningInstance
    clock: ShiftClock
    sent: list[str] = field(default_factory=list)
    sessions: list[requests.Session] = field(default_factory=list)

    @property
    def backend(self) -> SalesforceBackend:
        backend = self.instance.backend
        assert isinstance(backend, SalesforceBackend)
        return backend

    @property
    def host(self) -> str:
        return urlsplit(self.instance.base_url).netloc

    def session(self, *, count: bool = True) -> requests.Session:
        """A requests session that trusts the sandbox CA and ignores *_CA_BUNDLE variables
        (requests lets those override ``session.verify``)."""
        session = requests.Session()
        self.sessions.append(session)
        session.trust_env = False
        session.verify = self.instance.verify
        if count:
            session.hooks["response"].append(self._count)
        return session

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sent.append(f"{response.request.method} {urlsplit(response.url).path}")

    def client(self, token: str | None = None, version: str = "59.0") -> Salesforce:
        return Salesforce(
            instance_url=self.instance.base_url,
            session_id=token or self.instance.access_token,
            session=self.session(),
            version=version,
            object_pairs_hook=dict,
        )

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        session = self.session(count=False)
        response = session.request(method, self.instance.control_url + path, **kwargs)
        response.raise_for_status()
        return response.json()

    def ledger(self) -> dict[str, Any]:
        """The ledger once it has stopped growing (an entry is written as its response ends)."""
        result: dict[str, Any] = self.control("GET", "/ledger")
        for _ in range(20):
            time.sleep(0.02)
            again: dict[str, Any] = self.control("GET", "/ledger")
            if again["last_seq"] == result["last_seq"]:
                break
            result = again
        return result

    def login_session(self) -> requests.Session:
        """A session that sends ``https://<anything>.salesforce.com`` to this org, the way a
        DNS override would, so simple-salesforce's login flows reach the sandbox."""
        session = self.session()
        session.mount("https://", _LoginRedirect(self.host))
        return session


class _LoginRedirect(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if (parts.hostname or "").endswith(".salesforce.com"):
            request.url = urlunsplit(("https", self.target, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def org_server() -> Iterator[tuple[SandboxServer, ShiftClock]]:
    clock = ShiftClock()
    settings = {
        "username": "integration@org.sandbox",
        "password": "correct horse",
        "jwt_public_key": JWT_PUBLIC_PEM,
        "extra_clients": [SECOND_APP],
    }
    with SandboxServer([InstanceSpec("org", "salesforce", settings)], clock=clock) as server:
        yield server, clock


@pytest.fixture
def org(org_server: tuple[SandboxServer, ShiftClock]) -> Iterator[Org]:
    server, clock = org_server
    ledger = server.instances["org"].backend.ledger
    for _ in range(20):  # let the previous test's last ledger entry land before resetting
        seen = ledger.last_seq()
        time.sleep(0.02)
        if ledger.last_seq() == seen:
            break
    server.reset()
    clock.offset = timedelta(0)
    instance = server.instances["org"]
    backend = instance.backend
    backend.allowance.configure(daily_limit=100_000, clear_burst_limit=True)
    backend.tokens.default_ttl_s = 7200.0
    org = Org(instance, clock)
    yield org
    for session in org.sessions:
        session.close()


def new_deal(name: str = "Acme expansion", **fields: Any) -> dict[str, Any]:
    return {"Name": name, "StageName": "Prospecting", "CloseDate": "2026-03-31", **fields}
