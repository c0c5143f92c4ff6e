"""Sandbox fixtures shared by the emulator and framework tests.

The emulator backends are imported only when a fixture that needs them starts a server, so the
framework tests run on their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    """A vendor Salesforce org (HTTPS) and a partner HubSpot portal (HTTP), per test module."""
    specs = [InstanceSpec("vendor", "salesforce"), InstanceSpec("partner", "hubspot")]
    with SandboxServer(specs) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The module's server, reset to empty (records, ledger, faults, usage) for this test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def vendor(sandbox: SandboxServer) -> RunningInstance:
    return sandbox.instances["vendor"]


@pytest.fixture
def partner(sandbox: SandboxServer) -> RunningInstance:
    return sandbox.instances["partner"]
