"""A partner HubSpot portal on a real socket, driven by hubspot-api-client.

Each test module gets its own server on a frozen clock (so timestamps, token lifetimes and rate
windows are exact); each test starts from an empty portal with the clock back at ``START``.
The control plane (plain JSON under ``/__sandbox``) is read with httpx; the emulated API is only
ever called through the client library.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hubspot import HubSpot

from channel_sync.clock import FrozenClock
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.sandbox.hubspot import HubSpotBackend

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@dataclass
class Portal:
    """One emulated portal plus the client objects a connector would hold (built once)."""

    instance: RunningInstance
    clock: FrozenClock
    client: HubSpot

    def __post_init__(self) -> None:
        # client.crm.deals builds a new ApiClient (and connection pool) on every access.
        deals = self.client.crm.deals
        self.basic = deals.basic_api
        self.batch = deals.batch_api
        self.search = deals.search_api
        self.deals = deals

    @property
    def backend(self) -> HubSpotBackend:
        backend = self.instance.backend
        assert isinstance(backend, HubSpotBackend)
        return backend

    def control(self, method: str, path: str, body: Any = None) -> Any:
        url = self.instance.control_url + path
        response = httpx.request(method, url, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def ledger(self, entries: int = 0) -> dict[str, Any]:
        """The ledger once it holds at least ``entries`` entries.

        The middleware records a request just after its response has gone out, so a read right
        after the last call may be a moment early.
        """
        deadline = time.monotonic() + 5
        while True:
            result: dict[str, Any] = self.control("GET", "/ledger")
            if len(result["entries"]) >= entries or time.monotonic() > deadline:
                return result
            time.sleep(0.01)

    def faults(self, **body: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/faults", body)
        return result

    def new_client(self, access_token: str | None = None) -> HubSpot:
        return HubSpot(
            access_token=access_token,
            host=self.instance.base_url,
            base_url=self.instance.base_url,
        )


@pytest.fixture(scope="module")
def hs_server() -> Iterator[tuple[SandboxServer, FrozenClock]]:
    clock = FrozenClock(START)
    with SandboxServer([InstanceSpec("partner", "hubspot")], clock=clock) as server:
        yield server, clock


@pytest.fixture
def portal(hs_server: tuple[SandboxServer, FrozenClock]) -> Portal:
    server, clock = hs_server
    server.reset()
    clock.set(START)
    instance = server.instances["partner"]
    client = HubSpot(
        access_token=instance.access_token, host=instance.base_url, base_url=instance.base_url
    )
    return Portal(instance, clock, client)


def error_body(exc: Exception) -> dict[str, Any]:
    """The JSON body of a client ApiException, checked for HubSpot's error shape."""
    body: dict[str, Any] = json.loads(exc.body)  # type: ignore[attr-defined]
    assert body["status"] == "error"
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["correlationId"], str)
    assert isinstance(body["category"], str)
    return body
