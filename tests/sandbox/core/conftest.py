"""Servers running the tiny test backend, for the framework tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer

from .tiny_backend import TinyBackend


@pytest.fixture(scope="module")
def tiny_server() -> Iterator[SandboxServer]:
    specs = [
        InstanceSpec("secure", "tiny", factory=TinyBackend, tls=True),
        InstanceSpec("plain", "tiny", factory=TinyBackend),
    ]
    with SandboxServer(specs) as server:
        yield server


@pytest.fixture
def tiny(tiny_server: SandboxServer) -> SandboxServer:
    tiny_server.reset()
    return tiny_server


@pytest.fixture
def secure(tiny: SandboxServer) -> RunningInstance:
    return tiny.instances["secure"]


@pytest.fixture
def plain(tiny: SandboxServer) -> RunningInstance:
    return tiny.instances["plain"]
