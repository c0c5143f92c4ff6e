"""``channel-sync run`` stopped with SIGTERM in the middle of a cycle loses nothing.

The partner's portal holds a few hundred deals (a third of them registered) and answers searches
slowly, so the partner's first cycle spans two search pages; SIGTERM arrives after the first.
The process must exit 0 having committed whole pages only; a fresh engine over the same store
then finishes the job, and every registered deal reaches the vendor's org exactly once.

Size: ``CHANNEL_SYNC_TEST_SIGTERM_DEALS`` (default 300 partner deals); seed:
``CHANNEL_SYNC_TEST_SEED`` (default 7), printed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from channel_sync.demo.world import INSTANCES, copy_project
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer, generate_deals
from channel_sync.sandbox.serve import env_lines, write_env_file
from channel_sync.scheduler import read_schedule
from channel_sync.store import StoreSettings, open_store
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.runtime import close_runtime, load_runtime
from channel_sync.sync.workspace import read_environment
from channel_sync.testing.clock import SteerableClock
from channel_sync.workflow.rules import workflow_rules

DEALS = int(os.environ.get("CHANNEL_SYNC_TEST_SIGTERM_DEALS", "300"))
SEED = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", "7"))
CLI = shutil.which("channel-sync", path=str(Path(sys.executable).parent)) or "channel-sync"


def control(instance: RunningInstance, method: str, path: str, **kwargs: Any) -> Any:
    with requests.Session() as http:
        http.trust_env = False
        response = http.request(
            method, instance.control_url + path, verify=instance.verify, timeout=10, **kwargs
        )
    response.raise_for_status()
    return response.json() if response.content else None


def searches(instance: RunningInstance) -> int:
    entries = control(instance, "GET", "/ledger")["entries"]
    return sum(1 for e in entries if e["path"].endswith("/search"))


@pytest.fixture
def sandboxes() -> Iterator[SandboxServer]:
    # The sandboxes run ten minutes behind, so every seeded deal is older than the HubSpot
    # connector's one-minute settle delay and all of them are read by the first cycle.
    clock = SteerableClock()
    clock.advance(-timedelta(minutes=10))
    specs = [InstanceSpec(name, kind) for name, kind in INSTANCES]
    with SandboxServer(specs, clock=clock) as server:
        yield server


def test_sigterm_mid_cycle_commits_whole_pages_and_the_next_start_resumes(
    sandboxes: SandboxServer, tmp_path: Path
) -> None:
    print(f"seed {SEED}, {DEALS} partner deals")
    partner = sandboxes.instances["partner-a"]
    partner.backend.seed(list(generate_deals(SEED, DEALS)))
    registered = {
        d["id"]
        for d in partner.backend.snapshot()["deals"]
        if d["properties"].get("channel_sync_register") == "true"
    }
    assert DEALS > 200  # the change feed reads 200 deals per search page
    assert registered
    control(
        partner,
        "POST",
        "/faults",
        json={
            "rules": [
                {"id": "slow-search", "method": "POST", "path": "/search$", "latency_ms": 400}
            ]
        },
    )
    copy_project(tmp_path)
    env_file = tmp_path / "sandbox.env"
    write_env_file(env_file, env_lines(sandboxes.instances[n] for n, _ in INSTANCES))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_SYNC_")}
    process = subprocess.Popen(
        [CLI, "run", "--project", str(tmp_path), "--env-file", str(env_file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while searches(partner) < 1:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the partner's cycle never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0, log
    assert "received SIGTERM" in log
    assert "cycle partner-a-hubspot: stopped" in log, log
    assert "Traceback" not in log
    snapshot = read_schedule(tmp_path)
    assert snapshot is not None
    assert not snapshot.running

    store = open_store(settings=StoreSettings(project_dir=tmp_path))
    runtimes = load_runtime(tmp_path, read_environment(env_file, environ={}))
    try:
        with store.read() as tx:
            committed = tx.records.count()
            cursor = tx.cursors.get("partner-a-hubspot")
        assert 0 < committed < len(registered)  # whole pages, not everything
        assert cursor is not None
        control(partner, "DELETE", "/faults")
        engine = SyncEngine(runtimes, store, rules=workflow_rules())
        rounds = 0
        while rounds < 6:
            rounds += 1
            reports = engine.sync_once()
            assert all(r.status.value == "ok" for r in reports), [r.error for r in reports]
            if not any(r.created or r.updated or r.written for r in reports):
                break
        with store.read() as tx:
            assert tx.records.count() == len(registered)
    finally:
        close_runtime(runtimes)
        store.dispose()

    deals = {d["id"]: d["properties"] for d in partner.backend.snapshot()["deals"]}
    keys = [deals[i].get("channel_sync_id") for i in registered]
    assert all(keys)
    assert len(set(keys)) == len(registered)
    vendor_rows = sandboxes.instances["vendor"].backend.snapshot()["Opportunity"]
    vendor_keys = [r["Channel_Sync_Id__c"] for r in vendor_rows if r["Channel_Sync_Id__c"]]
    assert sorted(vendor_keys) == sorted(keys)  # each exactly once
    print(f"at SIGTERM {committed} of {len(registered)} registered deals were committed (whole "
          f"pages); the next start finished in {rounds} round(s); the vendor org holds "
          f"{len(vendor_keys)} of them, each once")
