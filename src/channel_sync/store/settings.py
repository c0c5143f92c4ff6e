"""Where the store lives and how it is reached, from ``CHANNEL_SYNC_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from channel_sync.store.engine import DEFAULT_BUSY_TIMEOUT_MS

STATE_DIR = ".channel-sync"
STATE_FILE = "state.db"


class StoreSettings(BaseSettings):
    """``database_url`` is a secret because PostgreSQL URLs may carry a password."""

    model_config = SettingsConfigDict(env_prefix="CHANNEL_SYNC_", extra="ignore")

    #: The project directory (the one holding ``connectors/`` and ``mappings/``).
    project_dir: Path = Field(default_factory=Path.cwd)
    #: ``sqlite:///path`` or ``postgresql+psycopg://user@host/db``; default: a SQLite file in
    #: ``<project_dir>/.channel-sync/state.db``.
    database_url: SecretStr | None = None
    #: Fernet key(s) for stored tokens, comma-separated, newest first (old keys stay readable
    #: until ``rotate`` has re-encrypted every row with the first one).
    secret_key: SecretStr | None = None
    sqlite_busy_timeout_ms: int = Field(default=DEFAULT_BUSY_TIMEOUT_MS, ge=0)

    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        path = (self.project_dir / STATE_DIR / STATE_FILE).resolve()
        return f"sqlite:///{path}"

    def secret_keys(self) -> list[SecretStr]:
        if self.secret_key is None:
            return []
        raw = self.secret_key.get_secret_value()
        return [SecretStr(part.strip()) for part in raw.split(",") if part.strip()]
