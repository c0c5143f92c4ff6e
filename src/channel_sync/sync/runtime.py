"""A project turned into runnable connections: mapping compiled, connector built.

Everything an admin can get wrong (a file, a mapping, an unset variable, an unknown connector
kind) surfaces here as a :class:`~channel_sync.config.FileError` or
:class:`~channel_sync.errors.ConfigurationError` before a single API call is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channel_sync.config import Project, Role
from channel_sync.config.connector_specs import BUILTIN_SPECS
from channel_sync.connectors import Connector, ConnectorPlugin, load_plugin
from channel_sync.connectors.registry import available_kinds
from channel_sync.errors import ConfigurationError
from channel_sync.mapping import CompiledMapping, load_mapping
from channel_sync.sync.merge import Side


@dataclass
class ConnectionRuntime:
    """One configured connection, ready to use."""

    name: str
    role: Side
    partner_id: str | None
    mapping: CompiledMapping = field(repr=False)
    connector: Connector = field(repr=False)
    schedule_seconds: float = 300.0

    @property
    def is_vendor(self) -> bool:
        return self.role is Side.VENDOR


def load_runtime(
    project_dir: Path,
    env: Mapping[str, str],
    *,
    connectors: Mapping[str, Connector] | None = None,
    connector_options: Mapping[str, Mapping[str, Any]] | None = None,
    plugins: Mapping[str, ConnectorPlugin] | None = None,
    offline: bool = False,
) -> dict[str, ConnectionRuntime]:
    """Load, resolve and build every connection of the project at ``project_dir``.

    ``connectors`` replaces the connector of the connections it names (tests point them at
    sandboxes); those connections' references are then not resolved. ``connector_options``
    passes extra options to the plugins, per connector kind (``settings``, ``clock``);
    ``plugins`` supplies plugins by kind instead of the installed entry points. ``offline``
    builds no connector (and needs no secret): for commands that only read or decide in the
    store (status, conflicts, audit).
    """
    overrides = dict(connectors or {})
    kinds = set(BUILTIN_SPECS) | set(available_kinds()) | set(plugins or {})
    project = Project.load(project_dir, connectors=kinds)
    compiled: dict[Path, CompiledMapping] = {}
    runtimes: dict[str, ConnectionRuntime] = {}
    for entry in project.connections:
        conn = entry.connection
        path = entry.mapping_path
        if path not in compiled:
            compiled[path] = load_mapping(path).compiled
        mapping = compiled[path]
        if mapping.connector.value != conn.connector:
            msg = (
                f"connection {conn.name!r} uses connector {conn.connector!r} but its mapping "
                f"{conn.mapping} is written for {mapping.connector.value!r}"
            )
            raise ConfigurationError(msg)
        connector = overrides.get(conn.name)
        if connector is None and offline:
            connector = OfflineConnector(conn.connector)
        if connector is None:
            resolved = entry.resolve(env)
            options = dict((connector_options or {}).get(conn.connector, {}))
            plugin = (plugins or {}).get(conn.connector) or load_plugin(conn.connector)
            connector = plugin.from_connection(
                resolved, mapping=mapping, **options
            )
        runtimes[conn.name] = ConnectionRuntime(
            name=conn.name,
            role=Side.VENDOR if conn.role is Role.VENDOR else Side.PARTNER,
            partner_id=conn.partner_id,
            mapping=mapping,
            connector=connector,
            schedule_seconds=conn.schedule.every.total_seconds(),
        )
    return runtimes


class OfflineConnector:
    """Stands in for a connector where no CRM may be called; any call is a programming error
    surfaced as a configuration error, never a network request."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _refuse(self, *_: object, **__: object) -> Any:
        msg = f"the {self.kind} connection was opened offline; it cannot call the CRM"
        raise ConfigurationError(msg)

    check = describe = read_changes = write_batch = read_by_keys = _refuse

    def close(self) -> None:
        """Nothing was opened."""


def close_runtime(runtimes: Mapping[str, ConnectionRuntime]) -> None:
    """Release every connector's connections and threads."""
    for runtime in runtimes.values():
        runtime.connector.close()
