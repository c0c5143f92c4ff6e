"""What an emulated CRM provides so the shared server, middleware and control plane can run it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from starlette.responses import Response
from starlette.routing import BaseRoute

from channel_sync.clock import Clock
from channel_sync.sandbox.core.allowance import Allowance
from channel_sync.sandbox.core.faults import FaultBook, FaultRule
from channel_sync.sandbox.core.ledger import Ledger
from channel_sync.sandbox.core.tokens import TokenBook

if TYPE_CHECKING:
    from channel_sync.sandbox.seed import SeedDeal


@runtime_checkable
class SandboxBackend(Protocol):
    """One emulated CRM instance: its records, its API routes and its usage bookkeeping.

    Authentication, limit headers and allowance refusals are the backend's job because every
    CRM shapes them differently; the shared middleware only injects faults and keeps the ledger.
    """

    kind: str
    name: str
    clock: Clock
    ledger: Ledger
    faults: FaultBook
    tokens: TokenBook
    allowance: Allowance

    def routes(self) -> Sequence[BaseRoute]:
        """Starlette routes of the emulated API (never under ``/__sandbox``)."""
        ...

    def reset(self) -> None:
        """Drop every record and all usage; keep issued tokens valid."""
        ...

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every record, deleted or archived ones included, in wire form, by object name."""
        ...

    def seed(self, deals: Sequence[SeedDeal]) -> None:
        """Insert generated deals, mapped onto this CRM's own fields."""
        ...

    def fault_response(self, rule: FaultRule) -> Response:
        """The vendor-shaped error response for an injected ``rule.status``."""
        ...

    def settings(self) -> dict[str, Any]:
        """Limits and other knobs, for the control plane's ``/info``."""
        ...
