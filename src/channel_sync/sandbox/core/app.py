"""The ASGI app of one emulated instance: the backend's API, fault injection, the ledger and the
control plane at ``/__sandbox``.

Faults and bookkeeping live in one pure-ASGI middleware so they behave the same for every backend
and can do what a normal response cannot: hold a request without answering, or cut the
connection after the handler has committed its write.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channel_sync.sandbox.core.backend import SandboxBackend
from channel_sync.sandbox.core.control import control_routes
from channel_sync.sandbox.core.faults import FaultRule

CONTROL_PREFIX = "/__sandbox"
HOLD_CAP_S = 120.0
_POLL_S = 0.05


class DroppedConnection(Exception):  # noqa: N818  (it is an outcome, not an error)
    """Raised after a response head was sent so the server closes the connection mid-response."""


class _QuietDrops(logging.Filter):
    """Keeps deliberate connection drops out of the server's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def _install_quiet_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


class SandboxMiddleware:
    """Applies fault rules around the API routes and appends one ledger entry per request."""

    def __init__(self, app: ASGIApp, backend: SandboxBackend, release: threading.Event) -> None:
        self.app = app
        self.backend = backend
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        when = self.backend.clock.now()
        method: str = scope["method"]
        path: str = scope["path"]
        rule = self.backend.faults.match(method, path)
        status = 0
        recorded = False

        def record() -> None:
            # Called before the last byte of a response leaves, so a client that reads the
            # ledger right after its call always finds the entry.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self.backend.ledger.append(
                time=when,
                method=method,
                path=path,
                query=scope.get("query_string", b"").decode("latin-1"),
                status=status,
                records_read=int(state.get("records_read", 0)),
                records_written=int(state.get("records_written", 0)),
                counts_against_allowance=bool(state.get("counts_against_allowance", True)),
                duration_ms=(time.perf_counter() - started) * 1000.0,
                fault=rule.id if rule is not None else None,
            )

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            if rule is not None and rule.latency_ms:
                await self._pause(rule.latency_ms / 1000.0)
            if rule is not None and rule.timeout:
                await self._hold(receive)
                record()
                await _cut(send, 504, b"")
            if rule is not None and rule.status is not None:
                status = rule.status
                state.setdefault("counts_against_allowance", rule.status != 401)
                await self._fault_response(rule)(scope, receive, recording_send)
                return
            if rule is not None and rule.drop_response:
                status, headers, body = await _run_captured(self.app, scope, receive)
                record()
                await _cut(send, status, body, headers)
            await self.app(scope, receive, recording_send)
        except DroppedConnection:
            raise
        except Exception:
            status = 500
            raise
        finally:
            record()

    def _fault_response(self, rule: FaultRule) -> Response:
        if rule.body is not None and rule.status is not None:
            response: Response = JSONResponse(rule.body, status_code=rule.status)
        else:
            response = self.backend.fault_response(rule)
        for key, value in rule.headers.items():
            response.headers[key] = value
        return response

    async def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.release.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, _POLL_S))

    async def _hold(self, receive: Receive) -> None:
        """Wait until the client gives up, the cap passes or the server shuts down."""
        gone = asyncio.ensure_future(_until_disconnect(receive))
        deadline = time.monotonic() + HOLD_CAP_S
        try:
            while not self.release.is_set() and time.monotonic() < deadline:
                done, _ = await asyncio.wait({gone}, timeout=_POLL_S)
                if done:
                    return
        finally:
            gone.cancel()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _run_captured(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return status, headers, b"".join(chunks)


async def _cut(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a response head promising a body, then make the server drop the connection."""
    kept = [(k, v) for k, v in headers or [] if k.lower() != b"content-length"]
    length = max(len(body), 1)
    kept.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    raise DroppedConnection


def _is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def build_app(backend: SandboxBackend, *, release: threading.Event | None = None) -> Starlette:
    """The app serving ``backend``; setting ``release`` frees held and delayed requests."""
    _install_quiet_drops()
    release = release or threading.Event()
    app = Starlette(
        routes=[Mount(CONTROL_PREFIX, routes=control_routes(backend)), *backend.routes()],
        middleware=[Middleware(SandboxMiddleware, backend=backend, release=release)],
    )
    app.state.backend = backend
    app.state.release = release
    return app
