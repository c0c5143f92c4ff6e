"""The control plane at ``/__sandbox``: plain JSON endpoints tests and the demo use to read the
ledger, inject faults, change limits, reset, seed and inspect an emulated instance.

It never counts against the API allowance and never appears in the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from channel_sync.sandbox.core.backend import SandboxBackend
from channel_sync.sandbox.core.faults import FaultRule

MAX_SEED_DEALS = 1_000_000

Handler = Callable[[Request], Awaitable[Response]]


class FaultsUpdate(BaseModel):
    """Body of ``POST /__sandbox/faults``: every part is optional and merges into the state."""

    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule] = Field(default_factory=list)
    locked_records: list[str] = Field(default_factory=list)
    unlocked_records: list[str] = Field(default_factory=list)
    expire_tokens: bool = False
    daily_limit: int | None = Field(default=None, ge=0)
    burst_limit: int | None = Field(default=None, ge=1)
    no_burst_limit: bool = False
    burst_window_s: float | None = Field(default=None, gt=0)
    token_ttl_s: float | None = Field(default=None, gt=0)


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    deals: int = Field(default=100, ge=0, le=MAX_SEED_DEALS)
    start: date | None = None


def _error(status: int, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def faults_state(backend: SandboxBackend) -> dict[str, Any]:
    return {
        **backend.faults.to_json(),
        "allowance": backend.allowance.to_json(),
        "token_ttl_s": backend.tokens.default_ttl_s,
    }


def apply_faults_update(backend: SandboxBackend, update: FaultsUpdate) -> None:
    for rule in update.rules:
        backend.faults.add(rule)
    if update.locked_records:
        backend.faults.lock(*update.locked_records)
    if update.unlocked_records:
        backend.faults.unlock(*update.unlocked_records)
    if update.expire_tokens:
        backend.tokens.expire_all()
    backend.allowance.configure(
        daily_limit=update.daily_limit,
        burst_limit=update.burst_limit,
        burst_window_s=update.burst_window_s,
        clear_burst_limit=update.no_burst_limit,
    )
    if update.token_ttl_s is not None:
        backend.tokens.default_ttl_s = update.token_ttl_s


def info(backend: SandboxBackend) -> dict[str, Any]:
    return {
        "name": backend.name,
        "kind": backend.kind,
        "settings": backend.settings(),
        "allowance": backend.allowance.to_json(),
        "api_calls": backend.ledger.api_calls(),
        "ledger_seq": backend.ledger.last_seq(),
        "token_ttl_s": backend.tokens.default_ttl_s,
        "fault_rules": len(backend.faults.rules),
    }


def reset(backend: SandboxBackend) -> None:
    """Back to a fresh instance: no records, usage or faults, initial limits and token lifetime.

    Issued tokens stay valid and the static token is valid again, so clients need not log in
    anew after a reset.
    """
    backend.reset()
    backend.ledger.clear()
    backend.faults.clear()
    backend.allowance.reset_usage()
    backend.allowance.restore_limits()
    backend.tokens.restore()


def control_routes(backend: SandboxBackend) -> list[BaseRoute]:
    """Routes to mount at ``/__sandbox`` for ``backend``."""

    async def get_ledger(request: Request) -> Response:
        raw = request.query_params.get("since", "0")
        try:
            since = int(raw)
        except ValueError:
            return _error(400, f"since must be an integer, got {raw!r}")
        entries = backend.ledger.entries(since)
        return JSONResponse(
            {
                "entries": [e.to_json() for e in entries],
                "api_calls": backend.ledger.api_calls(),
                "last_seq": backend.ledger.last_seq(),
            }
        )

    async def delete_ledger(_: Request) -> Response:
        backend.ledger.clear()
        return JSONResponse({"cleared": True})

    async def get_faults(_: Request) -> Response:
        return JSONResponse(faults_state(backend))

    async def post_faults(request: Request) -> Response:
        try:
            update = FaultsUpdate.model_validate(await _json_body(request))
        except json.JSONDecodeError as exc:
            return _error(400, f"body is not JSON: {exc}")
        except ValidationError as exc:
            return _error(400, "invalid faults update", json.loads(exc.json(include_url=False)))
        apply_faults_update(backend, update)
        return JSONResponse(faults_state(backend))

    async def delete_faults(_: Request) -> Response:
        backend.faults.clear()
        return JSONResponse(faults_state(backend))

    async def delete_rule(request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        if not backend.faults.remove(rule_id):
            return _error(404, f"no fault rule {rule_id!r}")
        return JSONResponse(faults_state(backend))

    async def post_reset(_: Request) -> Response:
        reset(backend)
        return JSONResponse({"reset": True})

    async def get_snapshot(_: Request) -> Response:
        return JSONResponse(backend.snapshot())

    async def get_info(_: Request) -> Response:
        return JSONResponse(info(backend))

    async def post_seed(request: Request) -> Response:
        from channel_sync.sandbox.seed import generate_deals  # noqa: PLC0415  (cycle-free)

        try:
            req = SeedRequest.model_validate(await _json_body(request))
        except json.JSONDecodeError as exc:
            return _error(400, f"body is not JSON: {exc}")
        except ValidationError as exc:
            return _error(400, "invalid seed request", json.loads(exc.json(include_url=False)))
        backend.seed(list(generate_deals(req.seed, req.deals, start=req.start)))
        return JSONResponse({"seeded": req.deals, "seed": req.seed})

    return [
        Route("/ledger", get_ledger, methods=["GET"]),
        Route("/ledger", delete_ledger, methods=["DELETE"]),
        Route("/faults", get_faults, methods=["GET"]),
        Route("/faults", post_faults, methods=["POST"]),
        Route("/faults", delete_faults, methods=["DELETE"]),
        Route("/faults/{rule_id}", delete_rule, methods=["DELETE"]),
        Route("/reset", post_reset, methods=["POST"]),
        Route("/snapshot", get_snapshot, methods=["GET"]),
        Route("/info", get_info, methods=["GET"]),
        Route("/seed", post_seed, methods=["POST"]),
    ]
