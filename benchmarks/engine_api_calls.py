"""API calls per two-way cycle with the engine in the loop, against the minimum of the facts.

For each N, fresh vendor Salesforce and partner HubSpot sandboxes hold max(2N, 100) linked
deals; N are edited in Salesforce and another N in HubSpot, then one ``sync_once`` runs. Billed
calls are counted in the sandboxes' ledgers and compared with

    C = max(1, ceil(N/2000)) + max(1, ceil(N/200)) + ceil(N/1000) + ceil(N/100)

(queryAll, search, Composite of collections, HubSpot batch upsert). Goal: ratio <= 1.05.

    python benchmarks/engine_api_calls.py [--sizes 0,100,1000,10000]
    (env CHANNEL_SYNC_BENCH_SIZES)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _world import (
    PARTNER,
    SETTLE,
    VENDOR,
    CallCounter,
    change_in_hubspot,
    change_in_salesforce,
    cycle_summary,
    hs_client,
    linked_ids,
    open_world,
    sf_client,
)


def minimum(n: int) -> int:
    return (max(1, math.ceil(n / 2000)) + max(1, math.ceil(n / 200))
            + math.ceil(n / 1000) + math.ceil(n / 100))


def run(n: int) -> None:
    with open_world() as world:
        world.seed_partner_deals(max(2 * n, 100))
        world.sync()
        world.sync()
        sf_ids, hs_ids = linked_ids(world)
        world.clock.advance(SETTLE)
        change_in_salesforce(sf_client(world.vendor), [rid for _, rid in sf_ids[:n]], 50_000)
        change_in_hubspot(hs_client(world.partner), [rid for _, rid in hs_ids[n:2 * n]], 70_000)
        counters = {VENDOR: CallCounter(world.vendor), PARTNER: CallCounter(world.partner)}
        marks = {k: c.mark() for k, c in counters.items()}
        reports, seconds = world.sync()
        calls = {k: counters[k].since(marks[k]) for k in counters}
        total, least = sum(calls.values()), minimum(n)
        print(json.dumps({
            "scenario": "engine_api_calls", "n": n, "measured_calls": total,
            "minimum_calls": least, "ratio": round(total / least, 3), "goal": 1.05,
            "per_sandbox": calls, "seconds": round(seconds, 2), "cycle": cycle_summary(reports),
        }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("CHANNEL_SYNC_BENCH_SIZES",
                                                          "0,100,1000,10000"))
    for n in [int(s) for s in parser.parse_args().sizes.split(",") if s.strip()]:
        run(n)


if __name__ == "__main__":
    main()
