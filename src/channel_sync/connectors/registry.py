"""Finding connectors: entry points in the ``channel_sync.connectors`` group.

The core never imports a concrete connector. Each connector package (the two shipped here, or a
third-party one) declares an entry point whose object is a :class:`ConnectorPlugin`; the engine
asks this module for a plugin by connector kind (the ``connector:`` key of a connection file).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, runtime_checkable

from channel_sync.connectors.protocol import Connector
from channel_sync.errors import ConfigurationError

GROUP = "channel_sync.connectors"


@runtime_checkable
class ConnectorPlugin(Protocol):
    """What an entry point must provide."""

    #: The connector kind, as written in connection files (``salesforce``, ``hubspot``...).
    kind: str

    def from_connection(self, connection: Any, **options: Any) -> Connector:
        """Build a connector for a validated, resolved connection (see ``channel_sync.config``)."""
        ...


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available_kinds() -> list[str]:
    """Every connector kind installed, sorted."""
    return sorted(_entry_points())


def load_plugin(
    kind: str, *, finder: Callable[[], dict[str, EntryPoint]] | None = None
) -> ConnectorPlugin:
    """The plugin registered for ``kind``; a configuration error names the installed kinds."""
    points = (finder or _entry_points)()
    point = points.get(kind)
    if point is None:
        known = ", ".join(sorted(points)) or "none"
        msg = f"unknown connector kind {kind!r} (installed: {known})"
        raise ConfigurationError(msg)
    try:
        plugin = point.load()
    except (ImportError, AttributeError) as exc:
        msg = f"connector {kind!r} is installed but cannot be loaded ({point.value}): {exc}"
        raise ConfigurationError(msg) from exc
    if not isinstance(plugin, ConnectorPlugin):
        msg = f"entry point {point.value!r} for connector {kind!r} is not a connector plugin"
        raise ConfigurationError(msg)
    if plugin.kind != kind:
        msg = f"entry point {kind!r} loads a plugin for {plugin.kind!r}"
        raise ConfigurationError(msg)
    return plugin
