"""Connectors: the protocol the engine speaks, and what every connector shares.

Concrete connectors live in sub-packages (``salesforce``, ``hubspot``) and are found through
entry points (:mod:`channel_sync.connectors.registry`); importing this package does not import
them.
"""

from channel_sync.connectors.cursor import Cursor, CursorPolicy
from channel_sync.connectors.protocol import (
    ApiUsage,
    CheckReport,
    Connector,
    Delete,
    Deletion,
    FieldInfo,
    ObjectDescription,
    ObjectSpec,
    Page,
    RemoteRecord,
    Upsert,
    WriteOp,
    WriteResult,
)
from channel_sync.connectors.registry import ConnectorPlugin, available_kinds, load_plugin
from channel_sync.connectors.retry import Retrier, RetryPolicy

__all__ = [
    "ApiUsage",
    "CheckReport",
    "Connector",
    "ConnectorPlugin",
    "Cursor",
    "CursorPolicy",
    "Delete",
    "Deletion",
    "FieldInfo",
    "ObjectDescription",
    "ObjectSpec",
    "Page",
    "RemoteRecord",
    "Retrier",
    "RetryPolicy",
    "Upsert",
    "WriteOp",
    "WriteResult",
    "available_kinds",
    "load_plugin",
]
