"""Memory of an initial backfill: N partner deals synced into an empty store and vendor org.

The deals are loaded straight into the partner HubSpot sandbox; the engine's first cycles read
them, create them in the hub and upsert them into the vendor Salesforce sandbox, with a rich
progress bar fed from the vendor org's record count. Peak RSS is ``ru_maxrss`` of this process,
which also hosts both sandboxes (their share is printed as the RSS after loading). Goal: peak
<= 400 MB.

    python benchmarks/engine_backfill.py [--n 100000]     (env CHANNEL_SYNC_BENCH_BACKFILL)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
from pathlib import Path
from typing import Any

from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _world import cycle_summary, open_world


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int) -> None:
    with open_world() as world:
        world.seed_partner_deals(n)
        loaded = peak_mb()
        vendor: Any = world.vendor.backend
        result: dict[str, Any] = {}

        def work() -> None:
            reports, seconds = world.sync()
            result["reports"], result["seconds"] = reports, seconds

        worker = threading.Thread(target=work, name="backfill")
        with Progress(transient=True) as progress:
            task = progress.add_task("backfill", total=n)
            worker.start()
            while worker.is_alive():
                worker.join(0.5)
                progress.update(task, completed=len(vendor.store.records))
        print(json.dumps({
            "scenario": "backfill", "n": n, "seconds": round(result["seconds"], 1),
            "peak_rss_mb": round(peak_mb(), 1), "rss_after_loading_sandboxes_mb": round(loaded, 1),
            "goal_mb": 400, "cycle": cycle_summary(result["reports"]),
        }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("CHANNEL_SYNC_BENCH_BACKFILL",
                                                                    "100000")))
    run(parser.parse_args().n)


if __name__ == "__main__":
    main()
