"""Memory of an initial backfill: N partner deals synced into an empty store and vendor org.

The partner HubSpot portal (holding the N deals, every one registered with the vendor) and the
empty vendor Salesforce org are served from a child process, so the figure is the engine's
own: this process runs one ``sync_once`` of both connections through the shipped connectors,
reading the N deals into the hub and upserting them into the vendor org, with a rich progress
bar of deals in the hub and writes confirmed by the vendor org. Peak RSS is ``ru_maxrss`` of
this process; the sandboxes' peak is printed beside it. Goal: peak <= 400 MB.

    python benchmarks/engine_backfill.py [--n 100000] [--rules]   (env CHANNEL_SYNC_BENCH_BACKFILL)

With ``--rules`` the engine runs the registration workflow as ``channel-sync run`` does: every
deal is a submitted registration, numbered and checked for channel conflicts against all the
open claims before it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_process import sandbox_process
from _world import LOOKBACK, VENDOR, cycle_summary, engine_parts

from channel_sync.scheduler.service import workflow_engine
from channel_sync.store.tables import OutboxRow, RecordRow
from channel_sync.sync.engine import SyncEngine


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, *, rules: bool) -> None:
    with sandbox_process(n) as sandboxes, \
            tempfile.TemporaryDirectory(prefix="channel-sync-bench-") as tmp, ExitStack() as stack:
        before = peak_mb()
        parts = stack.enter_context(engine_parts(sandboxes.env, Path(tmp)))
        store = parts.store
        if rules:
            engine, _ = workflow_engine(parts.project, parts.runtimes, store, clock=parts.clock)
        else:
            engine = SyncEngine(parts.runtimes, store, clock=parts.clock)
        time.sleep(LOOKBACK.total_seconds() + 1)  # HubSpot reads a closed window
        result: dict[str, Any] = {}

        def work() -> None:
            started = time.perf_counter()
            result["reports"] = engine.sync_once()
            result["seconds"] = time.perf_counter() - started

        def counts() -> tuple[int, int]:
            with store.read() as tx:
                hub = tx.session.scalar(select(func.count()).select_from(RecordRow)) or 0
                written = tx.session.scalar(
                    select(func.count()).select_from(OutboxRow).where(
                        OutboxRow.target_connection == VENDOR, OutboxRow.status == "confirmed"
                    )
                ) or 0
            return int(hub), int(written)

        worker = threading.Thread(target=work, name="backfill")
        try:
            with Progress(transient=True) as progress:
                read = progress.add_task("deals in the hub", total=n)
                wrote = progress.add_task("written to the vendor org", total=n)
                worker.start()
                while worker.is_alive():
                    worker.join(1.0)
                    hub, written = counts()
                    progress.update(read, completed=hub)
                    progress.update(wrote, completed=written)
        finally:
            worker.join()
    print(json.dumps({
        "scenario": "backfill", "n": n, "workflow_rules": rules,
        "seconds": round(result["seconds"], 1),
        "engine_peak_rss_mb": round(peak_mb(), 1),
        "engine_rss_before_sync_mb": round(before, 1),
        "sandbox_process_peak_rss_mb": round(sandboxes.final.get("rss_mb", 0.0), 1),
        "vendor_records": sandboxes.final.get("vendor_records"),
        "goal_mb": 400, "cycle": cycle_summary(result["reports"]),
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("CHANNEL_SYNC_BENCH_BACKFILL",
                                                                    "100000")))
    parser.add_argument("--rules", action="store_true",
                        help="sync with the registration workflow's rules, as channel-sync run "
                             "does (every deal is a registration checked for channel conflicts)")
    args = parser.parse_args()
    run(args.n, rules=args.rules)


if __name__ == "__main__":
    main()
