"""The framework every emulated CRM runs on: ledger, faults, allowance, tokens, app and server."""

from channel_sync.sandbox.core.allowance import Allowance, Refusal
from channel_sync.sandbox.core.app import CONTROL_PREFIX, DroppedConnection, build_app
from channel_sync.sandbox.core.backend import SandboxBackend
from channel_sync.sandbox.core.faults import FaultBook, FaultRule
from channel_sync.sandbox.core.ledger import Ledger, LedgerEntry
from channel_sync.sandbox.core.server import (
    InstanceSpec,
    RunningInstance,
    SandboxServer,
    backend_class,
)
from channel_sync.sandbox.core.tokens import IssuedToken, TokenBook, TokenState

__all__ = [
    "CONTROL_PREFIX",
    "Allowance",
    "DroppedConnection",
    "FaultBook",
    "FaultRule",
    "InstanceSpec",
    "IssuedToken",
    "Ledger",
    "LedgerEntry",
    "Refusal",
    "RunningInstance",
    "SandboxBackend",
    "SandboxServer",
    "TokenBook",
    "TokenState",
    "backend_class",
    "build_app",
]
