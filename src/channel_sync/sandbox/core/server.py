"""Runs emulated CRM instances on real loopback sockets, one uvicorn server per instance.

Each server runs in its own thread with its own event loop, so tests and the demo drive the
emulators through the real client libraries exactly as they would drive the real CRMs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import uvicorn

from channel_sync.clock import Clock
from channel_sync.sandbox.core.app import CONTROL_PREFIX, build_app
from channel_sync.sandbox.core.backend import SandboxBackend
from channel_sync.sandbox.core.control import reset
from channel_sync.sandbox.core.tls import TlsFiles, write_tls_files

BackendFactory = Callable[..., SandboxBackend]

KNOWN_KINDS: dict[str, tuple[str, str]] = {
    "salesforce": ("channel_sync.sandbox.salesforce", "SalesforceBackend"),
    "hubspot": ("channel_sync.sandbox.hubspot", "HubSpotBackend"),
}
TLS_KINDS = frozenset({"salesforce"})
STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 10.0
SHUTDOWN_GRACE_S = 0.3


@dataclass(frozen=True)
class InstanceSpec:
    """One instance to run: its name, its kind, and settings passed to the backend constructor.

    ``factory`` overrides how the backend is built (``factory(name, clock, **settings)``);
    ``tls`` overrides the kind's default (HTTPS for Salesforce, plain HTTP otherwise).
    """

    name: str
    kind: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    factory: BackendFactory | None = None
    tls: bool | None = None

    @property
    def uses_tls(self) -> bool:
        return self.kind in TLS_KINDS if self.tls is None else self.tls


@dataclass
class RunningInstance:
    name: str
    kind: str
    base_url: str
    access_token: str
    ca_bundle: Path | None
    control_url: str
    backend: SandboxBackend

    @property
    def verify(self) -> str | bool:
        """What to pass as ``requests``' ``verify`` (the CA bundle for HTTPS instances)."""
        return str(self.ca_bundle) if self.ca_bundle is not None else True

    def requests_session(self) -> requests.Session:
        """A ``requests`` session that trusts this instance's CA bundle.

        ``trust_env`` is off because ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` in the environment
        would otherwise silently replace ``session.verify`` for every request.
        """
        session = requests.Session()
        session.trust_env = False
        session.verify = self.verify
        return session

    def __repr__(self) -> str:
        return (
            f"RunningInstance(name={self.name!r}, kind={self.kind!r}, base_url={self.base_url!r})"
        )


def backend_class(kind: str) -> BackendFactory:
    """The backend class for a known kind, imported on first use."""
    try:
        module_name, attr = KNOWN_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KNOWN_KINDS))
        msg = f"unknown sandbox kind {kind!r} (known: {known})"
        raise ValueError(msg) from None
    factory: BackendFactory = getattr(importlib.import_module(module_name), attr)
    return factory


@dataclass
class _Served:
    server: uvicorn.Server
    release: threading.Event
    sock: socket.socket
    thread: threading.Thread | None = None
    loop: asyncio.AbstractEventLoop | None = None
    stopping: set[concurrent.futures.Future[None]] = field(default_factory=set)

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve(sockets=[self.sock])

    def stop(self) -> None:
        """Ask the server to exit, and cut connections still open shortly after.

        Clients keep idle keep-alive connections in their pools; a graceful TLS close of those
        waits for a close_notify that never comes, so they are aborted after a short grace.
        """
        self.release.set()
        self.server.should_exit = True
        loop = self.loop
        if loop is None:
            return
        try:
            future = asyncio.run_coroutine_threadsafe(self._abort_lingering(), loop)
        except RuntimeError:  # the loop already finished
            return
        self.stopping.add(future)

    async def _abort_lingering(self) -> None:
        await asyncio.sleep(SHUTDOWN_GRACE_S)
        for connection in list(self.server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()


class SandboxServer:
    """Context manager that serves ``specs`` on free loopback ports until exit."""

    def __init__(
        self,
        specs: Sequence[InstanceSpec],
        *,
        seed: int = 1,
        deals: int = 0,
        workdir: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            msg = f"instance names must be unique, got {names}"
            raise ValueError(msg)
        self.specs = list(specs)
        self.seed = seed
        self.deals = deals
        self.clock = clock
        self._workdir_arg = workdir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir: Path | None = None
        self.instances: dict[str, RunningInstance] = {}
        self._served: list[_Served] = []

    def __enter__(self) -> SandboxServer:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def reset(self) -> None:
        """Reset every instance to empty (records, ledger, faults, usage); tokens stay valid."""
        for inst in self.instances.values():
            reset(inst.backend)

    def _start(self) -> None:
        if self._workdir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="channel-sync-sandbox-")
            self.workdir = Path(self._tmp.name)
        else:
            self.workdir = self._workdir_arg.resolve()
            self.workdir.mkdir(parents=True, exist_ok=True)
        tls: TlsFiles | None = None
        if any(s.uses_tls for s in self.specs):
            tls = write_tls_files(self.workdir)
        deals = None
        if self.deals:
            from channel_sync.sandbox.seed import generate_deals  # noqa: PLC0415

            deals = list(generate_deals(self.seed, self.deals))
        for spec in self.specs:
            factory = spec.factory or backend_class(spec.kind)
            backend = factory(spec.name, self.clock, **dict(spec.settings))
            if deals:
                backend.seed(deals)
            self.instances[spec.name] = self._serve(spec, backend, tls if spec.uses_tls else None)

    def _serve(
        self, spec: InstanceSpec, backend: SandboxBackend, tls: TlsFiles | None
    ) -> RunningInstance:
        release = threading.Event()
        app = build_app(backend, release=release)
        # An explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without
        # it, Nagle holds each response body back until the client's delayed ACK (~40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
            ssl_certfile=str(tls.certfile) if tls else None,
            ssl_keyfile=str(tls.keyfile) if tls else None,
        )
        server = uvicorn.Server(config)
        served = _Served(server, release, sock)
        thread = threading.Thread(target=served.run, name=f"sandbox-{spec.name}", daemon=True)
        served.thread = thread
        self._served.append(served)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = f"sandbox instance {spec.name!r} did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        scheme = "https" if tls else "http"
        base_url = f"{scheme}://127.0.0.1:{port}"
        return RunningInstance(
            name=spec.name,
            kind=backend.kind,
            base_url=base_url,
            access_token=backend.tokens.static_token,
            ca_bundle=tls.ca_bundle if tls else None,
            control_url=base_url + CONTROL_PREFIX,
            backend=backend,
        )

    def _stop(self) -> None:
        for served in self._served:
            served.stop()
        for served in self._served:
            if served.thread is not None:
                served.thread.join(SHUTDOWN_TIMEOUT_S)
            served.sock.close()
        self._served.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
