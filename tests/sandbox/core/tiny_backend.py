"""A minimal SandboxBackend used to test the shared framework without either CRM emulator.

It keeps items in a dict, authenticates with bearer tokens, consumes the allowance and honours
locked records, which is everything the middleware and control plane interact with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from channel_sync.clock import Clock, SystemClock
from channel_sync.sandbox.core import Allowance, FaultBook, FaultRule, Ledger, TokenBook
from channel_sync.sandbox.seed import SeedDeal


class TinyBackend:
    kind = "tiny"

    def __init__(self, name: str, clock: Clock | None = None, **settings: Any) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.ledger = Ledger()
        self.faults = FaultBook()
        self.tokens = TokenBook(self.clock, prefix="tiny-")
        self.allowance = Allowance(daily_limit=int(settings.get("daily_limit", 1000)))
        self.items: dict[str, dict[str, Any]] = {}
        self.handled = 0

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/items", self._list, methods=["GET"]),
            Route("/items/{key}", self._put, methods=["PUT"]),
        ]

    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        state = self.tokens.check(token, self.clock.now())
        if state != "ok":
            request.state.counts_against_allowance = False
            return JSONResponse({"error": f"token {state}"}, status_code=401)
        refusal = self.allowance.consume(self.clock.now())
        if refusal is not None:
            request.state.counts_against_allowance = False
            return JSONResponse(
                {"error": refusal.kind},
                status_code=429,
                headers={"Retry-After": str(int(refusal.retry_after_s) + 1)},
            )
        return None

    async def _list(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        self.handled += 1
        request.state.records_read = len(self.items)
        return JSONResponse({"items": list(self.items.values())})

    async def _put(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        key = request.path_params["key"]
        if self.faults.is_locked(key):
            return JSONResponse({"error": "locked", "key": key}, status_code=409)
        self.handled += 1
        self.items[key] = {"key": key, **(await request.json())}
        request.state.records_written = 1
        return JSONResponse(self.items[key], status_code=200)

    def reset(self) -> None:
        self.items.clear()

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {"items": list(self.items.values())}

    def seed(self, deals: Sequence[SeedDeal]) -> None:
        for deal in deals:
            self.items[deal.key] = {"key": deal.key, "name": deal.name}

    def fault_response(self, rule: FaultRule) -> Response:
        return JSONResponse(
            {"tiny_error": rule.status, "rule": rule.id}, status_code=rule.status or 500
        )

    def settings(self) -> dict[str, Any]:
        return {"daily_limit": self.allowance.daily_limit}
