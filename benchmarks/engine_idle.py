"""Idle cost does not grow with data: an idle cycle with a large store against a small one.

Partner HubSpot deals are loaded straight into the sandbox and brought into the store (and the
vendor Salesforce org) by the engine's own initial sync; then, with nothing changed anywhere,
``sync_once`` of both connections is timed (best of --repeat). Goal: large / small <= 1.2.

    python benchmarks/engine_idle.py [--small 1000] [--large 100000] [--repeat 5]
    (env CHANNEL_SYNC_BENCH_IDLE_SMALL, CHANNEL_SYNC_BENCH_IDLE_LARGE)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _world import PARTNER, VENDOR, CallCounter, cycle_summary, open_world


def idle(deals: int, repeat: int) -> dict[str, Any]:
    with open_world() as world:
        world.seed_partner_deals(deals)
        started = time.perf_counter()
        world.sync()
        world.sync()
        initial = time.perf_counter() - started
        counters = {VENDOR: CallCounter(world.vendor), PARTNER: CallCounter(world.partner)}
        best = float("inf")
        reports: Any = []
        calls: dict[str, int] = {}
        for _ in range(repeat):
            marks = {k: c.mark() for k, c in counters.items()}
            reports, seconds = world.sync()
            calls = {k: counters[k].since(marks[k]) for k in counters}
            best = min(best, seconds)
        line = {"scenario": "idle_cycle", "deals": deals, "idle_seconds": round(best, 4),
                "api_calls": calls, "initial_sync_seconds": round(initial, 1),
                "cycle": cycle_summary(reports)}
        print(json.dumps(line), flush=True)
        return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    parser.add_argument("--small", type=int, default=int(env("CHANNEL_SYNC_BENCH_IDLE_SMALL",
                                                             "1000")))
    parser.add_argument("--large", type=int, default=int(env("CHANNEL_SYNC_BENCH_IDLE_LARGE",
                                                             "100000")))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    small = idle(args.small, args.repeat)
    large = idle(args.large, args.repeat)
    print(json.dumps({"scenario": "idle_ratio", "small": args.small, "large": args.large,
                      "ratio": round(large["idle_seconds"] / small["idle_seconds"], 2),
                      "goal": 1.2}), flush=True)


if __name__ == "__main__":
    main()
