"""A project opened for a command: its environment, its connections and its state store.

Commands read the project (``connectors/``, ``mappings/``) from a directory, the environment
from the process and an optional ``--env-file`` (the process wins, as with docker and dotenv),
and the store from ``CHANNEL_SYNC_DATABASE_URL`` (default: a SQLite file in the project).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from channel_sync.config import FileError
from channel_sync.config.env_refs import read_env_file
from channel_sync.store import Store, StoreSettings, open_store
from channel_sync.sync.runtime import ConnectionRuntime, close_runtime, load_runtime

DATABASE_URL = "CHANNEL_SYNC_DATABASE_URL"


def read_environment(
    env_file: Path | None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    process = dict(os.environ if environ is None else environ)
    if env_file is None:
        return process
    return {**read_env_file(env_file).values, **process}


@dataclass
class Workspace:
    project_dir: Path
    env: dict[str, str]
    runtimes: dict[str, ConnectionRuntime]
    store: Store

    def close(self) -> None:
        close_runtime(self.runtimes)
        self.store.dispose()


def open_workspace(
    project_dir: Path, env_file: Path | None, *, offline: bool
) -> Workspace:
    """Load the project and open (and migrate) its store; raises ``FileError`` or
    ``ConfigurationError`` for anything an admin must fix."""
    if not project_dir.is_dir():
        raise FileError.single(project_dir, "project directory not found")
    env = read_environment(env_file)
    runtimes = load_runtime(project_dir, env, offline=offline)
    url = env.get(DATABASE_URL)
    settings = StoreSettings(
        project_dir=project_dir, database_url=SecretStr(url) if url else None
    )
    try:
        store = open_store(settings=settings)
    except BaseException:
        close_runtime(runtimes)
        raise
    return Workspace(project_dir, env, runtimes, store)
