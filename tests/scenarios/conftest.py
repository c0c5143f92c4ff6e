"""The scenarios use the engine suite's sandboxes and world (``tests/sync/conftest.py``)."""

from sync.conftest import db_url, migrated_sqlite, sync_clock, sync_server, world

__all__ = ["db_url", "migrated_sqlite", "sync_clock", "sync_server", "world"]
