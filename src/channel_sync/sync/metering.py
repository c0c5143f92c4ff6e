"""How many API calls a connector made, and what is left of its allowance.

The connector protocol does not (yet) expose these; the shipped connectors keep them on their
transport, so they are read from there when present and reported as unknown otherwise.
"""

from __future__ import annotations

from typing import Any

from channel_sync.connectors import ApiUsage, Connector


def _transport(connector: Connector) -> Any:
    return getattr(connector, "transport", None)


def api_calls(connector: Connector) -> int:
    stats = getattr(_transport(connector), "stats", None)
    calls = getattr(stats, "calls", 0)
    return calls if isinstance(calls, int) else 0


def api_usage(connector: Connector) -> ApiUsage:
    usage = getattr(_transport(connector), "usage", None)
    return usage if isinstance(usage, ApiUsage) else ApiUsage()
