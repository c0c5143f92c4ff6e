"""Cursor cost in a burst: what a read spends on its cursors when many records changed recently.

A change cursor remembers every (id, modstamp) it delivered within the look-back window, and the
engine stores the cursor with every page. A read that runs during or just after a mass update
therefore carries a long list, rebuilt, encoded and stored whole per page. This benchmark feeds
W records (one every 1/3 ms, all inside the default two-minute look-back) through the
connectors' ``PageAssembler`` in pages of 200 and saves each page's cursor the way a cycle does
(``save_cursor`` in a transaction of a SQLite store), then prints the seconds and the bytes of
cursor JSON written. The cost grows with the square of W.

    python benchmarks/cursor_burst.py [--sizes 10000,20000,40000] [--page 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channel_sync.clock import SystemClock
from channel_sync.connectors.cursor import CursorPolicy, PageAssembler, Stamped
from channel_sync.store import open_store
from channel_sync.sync.cycle import save_cursor

CONNECTION = "partner-a-hubspot"


def one_read(records: int, page: int, folder: Path) -> dict[str, object]:
    store = open_store(f"sqlite:///{folder / f'state-{records}.db'}", clock=SystemClock())
    started_at = datetime.now(UTC)
    first = started_at - timedelta(seconds=30)
    assembler: PageAssembler[None] = PageAssembler(
        None, CursorPolicy(lookback=timedelta(minutes=2)), read_started=started_at
    )
    written = pages = 0
    seconds = 0.0
    try:
        for start in range(0, records, page):
            batch = [
                Stamped(f"{i:018d}", first + timedelta(microseconds=333 * i), None)
                for i in range(start, min(records, start + page))
            ]
            started = time.perf_counter()
            chunk = assembler.push(batch, run_complete=start + page >= records)
            if chunk is not None:
                with store.transaction() as tx:
                    save_cursor(tx, CONNECTION, chunk.cursor)
            seconds += time.perf_counter() - started
            if chunk is not None:  # measured outside the timing
                written += len(json.dumps(chunk.cursor.to_json()))
                pages += 1
        remembered = len(assembler.cursor.seen) if assembler.cursor is not None else 0
    finally:
        store.dispose()
    return {
        "scenario": "cursor_burst", "records": records, "pages": pages,
        "seconds": round(seconds, 2), "cursor_json_mb": round(written / 1e6, 1),
        "last_cursor_remembers": remembered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,40000",
                        help="records changed within the look-back, comma-separated")
    parser.add_argument("--page", type=int, default=200, help="records a page holds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="channel-sync-cursor-burst-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            print(json.dumps(one_read(size, args.page, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
