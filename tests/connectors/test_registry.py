"""Connector discovery goes through real entry-point metadata, not a hard-coded list."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from channel_sync.connectors import registry
from channel_sync.errors import ConfigurationError


class _Plugin:
    kind = "fakecrm"

    def from_connection(self, connection: Any, **options: Any) -> Any:
        return ("built", connection)


plugin = _Plugin()
not_a_plugin = object()


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[None]:
    """A throw-away distribution declaring entry points in the connector group."""
    dist = tmp_path / "fake_crm_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-crm-connector\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""
            [{registry.GROUP}]
            fakecrm = {__name__}:plugin
            broken = {__name__}:not_a_plugin
            missing = channel_sync_no_such_module:plugin
            liar = {__name__}:plugin
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.usefixtures("installed")
def test_plugins_are_found_through_entry_points():
    assert {"fakecrm", "broken", "missing"} <= set(registry.available_kinds())
    found = registry.load_plugin("fakecrm")
    assert found.from_connection("conn") == ("built", "conn")


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("nosuch", "unknown connector kind 'nosuch'"),
        ("broken", "is not a connector plugin"),
        ("missing", "cannot be loaded"),
        ("liar", "loads a plugin for 'fakecrm'"),
    ],
)
def test_bad_plugins_are_configuration_errors(kind: str, fragment: str):
    with pytest.raises(ConfigurationError, match=fragment):
        registry.load_plugin(kind)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("salesforce", "channel_sync.connectors.salesforce:plugin"),
        ("hubspot", "channel_sync.connectors.hubspot:plugin"),
    ],
)
def test_the_shipped_entry_points_load_their_plugins(kind: str, value: str):
    """The exact entry-point values pyproject.toml declares for the shipped connectors."""
    point = EntryPoint(name=kind, value=value, group=registry.GROUP)
    plugin = registry.load_plugin(kind, finder=lambda: {kind: point})
    assert plugin.kind == kind
    with pytest.raises(ConfigurationError, match="mapping"):
        plugin.from_connection(_Resolved())


class _Resolved:
    """The two attributes a plugin reads from a resolved connection."""

    credentials: dict[str, Any] = {}  # noqa: RUF012 - a read-only stand-in
    urls: dict[str, str] = {"instance_url": "https://example.invalid", "host": "http://x"}  # noqa: RUF012
