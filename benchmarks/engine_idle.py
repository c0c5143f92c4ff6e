"""Idle cost does not grow with data: an idle cycle with a large store against a small one.

Partner HubSpot deals are loaded straight into the sandbox and brought into the store (and the
vendor Salesforce org) by the engine's own initial sync; then, with nothing changed anywhere,
``sync_once`` of both connections is timed (best of --repeat: single idle cycles on this
machine range from about 23 ms to 46 ms at either size, so the best of a few is noisy).
Goal: large / small <= 1.2.

The sandboxes run in a spawned child process, as in ``engine_backfill.py``: CRMs holding
100,000 deals each are not the engine's heap, and their request handling should not share its
interpreter (an idle cycle's own work is a few milliseconds). ``--in-process`` runs them in this
process instead, as the other benchmarks do.

    python benchmarks/engine_idle.py [--small 1000] [--large 100000] [--repeat 10] [--in-process]
    (env CHANNEL_SYNC_BENCH_IDLE_SMALL, CHANNEL_SYNC_BENCH_IDLE_LARGE)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_process import sandbox_process
from _world import LOOKBACK, cycle_summary, engine_parts, open_world

from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleReport

Sync = Callable[[], tuple[list[CycleReport], float]]


@contextmanager
def apart(deals: int) -> Iterator[Sync]:
    """An engine in this process over sandboxes in a child process."""
    with sandbox_process(deals) as sandboxes, \
            tempfile.TemporaryDirectory(prefix="channel-sync-bench-") as tmp, \
            engine_parts(sandboxes.env, Path(tmp)) as parts:
        engine = SyncEngine(parts.runtimes, parts.store, clock=parts.clock)

        def sync() -> tuple[list[CycleReport], float]:
            time.sleep(LOOKBACK.total_seconds() + 1)  # HubSpot reads a closed window
            started = time.perf_counter()
            reports = engine.sync_once()
            return reports, time.perf_counter() - started

        yield sync


@contextmanager
def together(deals: int) -> Iterator[Sync]:
    with open_world() as world:
        world.seed_partner_deals(deals)
        yield world.sync


def idle(deals: int, repeat: int, *, in_process: bool) -> dict[str, Any]:
    with (together if in_process else apart)(deals) as sync:
        started = time.perf_counter()
        sync()
        sync()
        initial = time.perf_counter() - started
        best = float("inf")
        reports: Any = []
        for _ in range(repeat):
            reports, seconds = sync()
            best = min(best, seconds)
        calls = {r.connection: r.api_calls for r in reports}
        line = {"scenario": "idle_cycle", "deals": deals, "sandboxes_in_process": in_process,
                "idle_seconds": round(best, 4), "api_calls": calls,
                "initial_sync_seconds": round(initial, 1), "cycle": cycle_summary(reports)}
        print(json.dumps(line), flush=True)
        return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    parser.add_argument("--small", type=int, default=int(env("CHANNEL_SYNC_BENCH_IDLE_SMALL",
                                                             "1000")))
    parser.add_argument("--large", type=int, default=int(env("CHANNEL_SYNC_BENCH_IDLE_LARGE",
                                                             "100000")))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--in-process", action="store_true",
                        help="run the sandboxes in this process (their heap and CPU included)")
    args = parser.parse_args()
    small = idle(args.small, args.repeat, in_process=args.in_process)
    large = idle(args.large, args.repeat, in_process=args.in_process)
    print(json.dumps({"scenario": "idle_ratio", "small": args.small, "large": args.large,
                      "sandboxes_in_process": args.in_process,
                      "ratio": round(large["idle_seconds"] / small["idle_seconds"], 2),
                      "goal": 1.2}), flush=True)


if __name__ == "__main__":
    main()
