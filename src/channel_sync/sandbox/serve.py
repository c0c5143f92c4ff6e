"""``channel-sync sandbox serve``: run emulated CRMs until stopped; say how to reach them.

The caller (a developer, the demo, a test harness) reads exactly one JSON line from stdout, or an
env file with the variables the shipped connectors read, so nothing has to scrape logs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from channel_sync.sandbox.core.server import (
    KNOWN_KINDS,
    InstanceSpec,
    RunningInstance,
    SandboxServer,
)

DEFAULT_INSTANCES = "vendor:salesforce,partner-a:hubspot,partner-b:salesforce"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")


def parse_instances(text: str) -> list[InstanceSpec]:
    """``name:kind,name:kind,...`` as instance specs; ValueError says what is wrong."""
    specs: list[InstanceSpec] = []
    seen: set[str] = set()
    seen_env: set[str] = set()
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        msg = f"expected name:kind[,name:kind...], got {text!r}"
        raise ValueError(msg)
    for item in items:
        name, sep, kind = (part.strip() for part in item.partition(":"))
        if not sep or not name or not kind:
            msg = f"{item!r} is not name:kind (e.g. vendor:salesforce)"
            raise ValueError(msg)
        if not _NAME.fullmatch(name):
            msg = (
                f"instance name {name!r} must start with a letter and hold only letters, digits,"
                " '-' or '_' (at most 63 characters)"
            )
            raise ValueError(msg)
        kind = kind.lower()
        if kind not in KNOWN_KINDS:
            known = ", ".join(sorted(KNOWN_KINDS))
            msg = f"unknown kind {kind!r} for {name!r}; known kinds: {known}"
            raise ValueError(msg)
        if name in seen:
            msg = f"instance name {name!r} is used twice"
            raise ValueError(msg)
        if env_prefix(name) in seen_env:
            msg = f"instance name {name!r} clashes with another one in the env variable names"
            raise ValueError(msg)
        seen.add(name)
        seen_env.add(env_prefix(name))
        specs.append(InstanceSpec(name=name, kind=kind))
    return specs


def env_prefix(name: str) -> str:
    return name.upper().replace("-", "_")


def describe(instance: RunningInstance) -> dict[str, Any]:
    """The JSON object printed for one instance."""
    info: dict[str, Any] = {"name": instance.name, "kind": instance.kind}
    if instance.kind == "hubspot":
        info["host"] = instance.base_url
    else:
        info["instance_url"] = instance.base_url
    info["access_token"] = instance.access_token
    if instance.ca_bundle is not None:
        info["ca_bundle"] = str(instance.ca_bundle)
    info["control_url"] = instance.control_url
    if instance.kind == "salesforce":
        for attr in ("client_id", "client_secret"):
            value = getattr(instance.backend, attr, None)
            if isinstance(value, str):
                info[attr] = value
    return info


def env_lines(instances: Iterable[RunningInstance]) -> list[str]:
    """``KEY=VALUE`` lines with the variables the shipped connectors read."""
    lines: list[str] = []
    for inst in instances:
        prefix = env_prefix(inst.name)
        values: dict[str, str | None]
        if inst.kind == "salesforce":
            values = {
                f"{prefix}_SF_INSTANCE_URL": inst.base_url,
                f"{prefix}_SF_CLIENT_ID": getattr(inst.backend, "client_id", None),
                f"{prefix}_SF_CLIENT_SECRET": getattr(inst.backend, "client_secret", None),
                f"{prefix}_SF_CA_BUNDLE": str(inst.ca_bundle) if inst.ca_bundle else None,
            }
        elif inst.kind == "hubspot":
            values = {
                f"{prefix}_HUBSPOT_URL": inst.base_url,
                f"{prefix}_HUBSPOT_TOKEN": inst.access_token,
            }
        else:
            continue
        lines.extend(f"{key}={value}" for key, value in values.items() if value is not None)
    return lines


def write_env_file(path: Path, lines: Sequence[str]) -> None:
    """Write ``lines`` to ``path`` readable by the owner only: the file holds secrets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        os.write(fd, "".join(line + "\n" for line in lines).encode())
    finally:
        os.close(fd)


@dataclass
class _StopOnSignal:
    event: threading.Event

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.event.set()


def serve(
    specs: Sequence[InstanceSpec],
    *,
    seed: int = 1,
    deals: int = 0,
    env_file: Path | None = None,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``specs`` until SIGINT/SIGTERM (or ``stop`` is set), after printing one JSON line."""
    stream = out or sys.stdout
    stop = stop or threading.Event()
    handler = _StopOnSignal(stop)
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SandboxServer(specs, seed=seed, deals=deals) as server:
            instances = [server.instances[s.name] for s in specs]
            if env_file is not None:
                write_env_file(env_file, env_lines(instances))
            stream.write(json.dumps({"instances": [describe(i) for i in instances]}) + "\n")
            stream.flush()
            while not stop.wait(0.2):
                pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
