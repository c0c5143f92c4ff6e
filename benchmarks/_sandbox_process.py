"""The benchmark world's two sandboxes in a process of their own.

Memory benchmarks measure the engine's process: CRMs holding 100,000 deals each are not its
memory, so they are served from a child process (spawned, not forked) and reached over loopback
exactly as in the in-process world. The child loads the partner's deals, answers with the
connectors' environment, and serves until the parent says stop; its own peak RSS comes back then.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import resource
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

#: How long the parent waits for the child to load its deals and start serving.
START_TIMEOUT_S = 900.0


def _serve(deals: int, seed: int, latency_ms: int, pipe: Connection) -> None:
    from _world import lift_limits, project_env  # noqa: PLC0415 - runs in the child

    from channel_sync.sandbox import InstanceSpec, SandboxServer, generate_deals  # noqa: PLC0415
    from channel_sync.sandbox.core.faults import FaultRule  # noqa: PLC0415

    specs = [InstanceSpec("vendor", "salesforce"), InstanceSpec("partner", "hubspot")]
    with tempfile.TemporaryDirectory(prefix="channel-sync-bench-sandbox-") as tmp, \
            SandboxServer(specs, workdir=Path(tmp)) as server:
        for instance in server.instances.values():
            lift_limits(instance)
            if latency_ms:
                backend: Any = instance.backend
                backend.faults.add(FaultRule(path=".", count=None, latency_ms=latency_ms))
        partner: Any = server.instances["partner"].backend
        partner.seed([dataclasses.replace(d, register=True) for d in generate_deals(seed, deals)])
        pipe.send({"env": project_env(server), "rss_mb": _peak_mb()})
        pipe.recv()  # the parent is done
        vendor: Any = server.instances["vendor"].backend
        pipe.send({"vendor_records": len(vendor.store.records), "rss_mb": _peak_mb()})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclasses.dataclass
class SandboxProcess:
    env: dict[str, str]
    loaded_rss_mb: float
    final: dict[str, Any] = dataclasses.field(default_factory=dict)


@contextmanager
def sandbox_process(deals: int, *, seed: int = 7, latency_ms: int = 0) -> Iterator[SandboxProcess]:
    """Serve a vendor Salesforce org and a partner HubSpot portal holding ``deals`` deals;
    with ``latency_ms`` every request to either waits that long before it is answered."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(deals, seed, latency_ms, child), daemon=True)
    process.start()
    try:
        if not parent.poll(START_TIMEOUT_S):
            msg = "the sandbox process did not start in time"
            raise RuntimeError(msg)
        hello = parent.recv()
        served = SandboxProcess(env=hello["env"], loaded_rss_mb=hello["rss_mb"])
        yield served
        parent.send("stop")
        if parent.poll(60):
            served.final = parent.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()
