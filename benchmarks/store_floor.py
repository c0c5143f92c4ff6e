"""Store floor: the durable rows a two-way cycle must write, with no engine around them.

For one changed deal the issue's design has to keep, in the read page's one transaction, the
deal's new document, its link's new base, an outbox entry for the other side and an audit row;
the drain then claims the entry, reads the deal to build the write, and in the settle
transaction confirms the entry, records what it wrote on the target's link and audits it. This
benchmark issues exactly those statements through the standard library's ``sqlite3`` driver on
the project's own migrated schema (its indexes and audit triggers, the engine's pragmas), in the
engine's page and batch sizes, with every value encoded beforehand: no SQLAlchemy, no pydantic,
no mapping, no merge. What it measures is a floor under any engine that keeps this state on
SQLite; compare it with the bare-client floor of ``engine_overhead.py`` on the same machine.

With ``--model`` each changed deal is also validated once as the canonical ``Opportunity`` and
dumped to the document the read page stores (the least model work an engine built on the
canonical model can do per change), inside the timed read side.

    python benchmarks/store_floor.py [--n 10000] [--page 200] [--batch 200] [--repeat 3]
                                     [--model]       (env CHANNEL_SYNC_BENCH_N)

N deals change on each side (2N in all, as in ``engine_overhead.py``); the store holds 2N deals
linked on both connections. Prints per round the read-side and drain-side seconds and
microseconds per changed deal, then the median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from channel_sync.mapping.flat import flatten
from channel_sync.model import Opportunity
from channel_sync.store.engine import make_engine
from channel_sync.store.json_text import dumps
from channel_sync.store.migrate import upgrade

VENDOR = "vendor-salesforce"
PARTNER = "partner-a-hubspot"
PARTNER_ID = "partner-a"


def stamp(when: datetime) -> str:
    """The engine's SQLite form of a UTC timestamp (``UTCDateTime``)."""
    return when.replace(tzinfo=None).isoformat(" ", "microseconds")


def canonical_id(index: int) -> str:
    return f"cs_{index:022d}"


def sample_deal(index: int, amount: int) -> Opportunity:
    return Opportunity.model_validate({
        "id": canonical_id(index), "partner_id": PARTNER_ID, "name": f"Acme renewal {index}",
        "customer": {"company_name": f"Acme {index} Corp", "domain": f"acme{index}.com",
                     "country_code": "US"},
        "stage": "negotiation", "probability": 60, "amount": str(amount),
        "target_close_date": "2026-12-31", "products": ["widget", "gadget"],
        "description": "renewal with expansion", "partner_contact": {
            "first_name": "Jo", "last_name": "Partner", "email": "jo@partner.example"},
    })


def encoded(deal: Opportunity) -> tuple[str, str]:
    """The deal's stored document and a link base of its flat values, as JSON text."""
    flat = {k: v for k, v in flatten(deal).items() if not isinstance(v, (list, dict))}
    return dumps(deal.model_dump(mode="json")), dumps(flat | {"id": deal.id})


def seed(db: sqlite3.Connection, deals: int, now: str) -> None:
    doc, base = encoded(sample_deal(0, 1000))
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO records (canonical_id, partner_id, data, version, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?)",
        ((canonical_id(i), PARTNER_ID, doc, now, now) for i in range(deals)),
    )
    for prefix, connection in (("006", VENDOR), ("hs", PARTNER)):
        db.executemany(
            "INSERT INTO links (connection, remote_id, canonical_id, partner_id, base, written,"
            " remote_modstamp, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((connection, f"{prefix}{i:015d}", canonical_id(i), PARTNER_ID, base, base, now,
              now, now) for i in range(deals)),
        )
    db.execute(
        "INSERT INTO leases (name, holder, epoch, acquired_at, expires_at) VALUES (?, ?, 1, ?, ?)",
        ("bench", "bench", now, now),
    )
    db.execute("COMMIT")


def in_list(count: int) -> str:
    return ",".join("?" * count)


def read_side(db: sqlite3.Connection, source: str, target: str, ids: list[int],
              docs: dict[int, tuple[str, str]], page: int, now: str, run_id: int,
              plain: dict[int, dict[str, Any]] | None) -> None:
    """The pages of one connection's read: look-up, then one transaction of writes a page;
    with ``plain`` (the deals as plain data) each changed deal is validated and dumped first."""
    prefix = "006" if source == VENDOR else "hs"
    for start in range(0, len(ids), page):
        part = ids[start:start + page]
        if plain is not None:
            for i in part:
                deal = Opportunity.model_validate(plain[i])
                docs[i] = (dumps(deal.model_dump(mode="json")), docs[i][1])
        remote = [f"{prefix}{i:015d}" for i in part]
        keys = [canonical_id(i) for i in part]
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT epoch, holder FROM leases WHERE name = ?", ("bench",)).fetchall()
        db.execute(f"SELECT canonical_id, remote_id, base, written, remote_modstamp FROM links"
                   f" WHERE connection = ? AND remote_id IN ({in_list(len(part))})",
                   [source, *remote]).fetchall()
        db.execute(f"SELECT canonical_id, data, version FROM records"
                   f" WHERE canonical_id IN ({in_list(len(part))})", keys).fetchall()
        db.execute(f"SELECT canonical_id, field FROM conflicts WHERE status = 'open'"
                   f" AND canonical_id IN ({in_list(len(part))})", keys).fetchall()
        db.executemany(
            "UPDATE records SET data = ?, version = version + 1, updated_at = ?"
            " WHERE canonical_id = ? AND version = ?",
            ((docs[i][0], now, canonical_id(i), 1) for i in part),
        )
        db.executemany(
            "UPDATE links SET base = ?, written = written, remote_modstamp = ?, updated_at = ?"
            " WHERE connection = ? AND canonical_id = ?",
            ((docs[i][1], now, now, source, canonical_id(i)) for i in part),
        )
        db.executemany(
            "INSERT INTO outbox (target_connection, canonical_id, partner_id, op, fields, status,"
            " attempts, available_at, created_at, updated_at)"
            " VALUES (?, ?, ?, 'upsert', '[\"amount\"]', 'pending', 0, ?, ?, ?)",
            ((target, canonical_id(i), PARTNER_ID, now, now, now) for i in part),
        )
        db.executemany(
            "INSERT INTO audit_events (actor, source_system, connection, canonical_id,"
            " partner_id, external_key, field, old_value, new_value, source_ts, engine_ts,"
            " run_id, direction, decision) VALUES ('channel-sync', ?, ?, ?, ?, ?, 'amount',"
            " '\"1000.00\"', ?, ?, ?, ?, 'inbound', 'remote wins')",
            ((source, source, canonical_id(i), PARTNER_ID, r, json.dumps(str(i)), now, now,
              run_id) for i, r in zip(part, remote, strict=True)),
        )
        db.execute(
            "INSERT OR REPLACE INTO cursors (connection, modstamp, last_id, extras, updated_at)"
            " VALUES (?, ?, ?, '{}', ?)", (source, now, remote[-1], now),
        )
        db.execute("SELECT epoch, holder FROM leases WHERE name = ?", ("bench",)).fetchall()
        db.execute("COMMIT")


def drain_side(db: sqlite3.Connection, target: str, docs: dict[int, tuple[str, str]],
               batch: int, now: str, run_id: int) -> int:
    """Claim, read and settle every pending entry of ``target`` in batches; entries sent."""
    sent = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(
            "SELECT o.id, o.canonical_id, o.fields FROM outbox o WHERE o.target_connection = ?"
            " AND o.status = 'pending' AND o.available_at <= ? AND NOT EXISTS (SELECT 1 FROM"
            " outbox p WHERE p.target_connection = o.target_connection AND p.canonical_id ="
            " o.canonical_id AND (p.status = 'in_flight' OR (p.status = 'pending' AND p.id <"
            " o.id))) ORDER BY o.id LIMIT ?", (target, now, batch),
        ).fetchall()
        if not rows:
            db.execute("COMMIT")
            return sent
        entry_ids = [r[0] for r in rows]
        db.execute(f"UPDATE outbox SET status = 'in_flight', batch_id = ?, updated_at = ?"
                   f" WHERE id IN ({in_list(len(rows))})", ["b", now, *entry_ids])
        db.execute("COMMIT")
        keys = [r[1] for r in rows]
        db.execute(f"SELECT canonical_id, data, version FROM records"
                   f" WHERE canonical_id IN ({in_list(len(keys))})", keys).fetchall()
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT epoch, holder FROM leases WHERE name = ?", ("bench",)).fetchall()
        db.execute(f"UPDATE outbox SET status = 'confirmed', last_error = NULL, updated_at = ?"
                   f" WHERE status = 'in_flight' AND id IN ({in_list(len(rows))})",
                   [now, *entry_ids])
        db.executemany(
            "UPDATE links SET base = ?, written = ?, updated_at = ?"
            " WHERE connection = ? AND canonical_id = ?",
            ((docs[int(k[3:])][1], docs[int(k[3:])][1], now, target, k) for k in keys),
        )
        db.executemany(
            "INSERT INTO audit_events (actor, source_system, connection, canonical_id,"
            " partner_id, external_key, field, old_value, new_value, source_ts, engine_ts,"
            " run_id, direction, decision) VALUES ('channel-sync', ?, ?, ?, ?, NULL, 'amount',"
            " NULL, '\"1.00\"', NULL, ?, ?, 'outbound', NULL)",
            ((target, target, k, PARTNER_ID, now, run_id) for k in keys),
        )
        db.execute("COMMIT")
        sent += len(rows)


def one_round(db: sqlite3.Connection, n: int, index: int, *, page: int,
              batch: int, model: bool) -> dict[str, Any]:
    now = stamp(datetime.now(UTC) + timedelta(seconds=index))
    vendor_ids = list(range(n))  # edited in Salesforce
    partner_ids = list(range(n, 2 * n))  # edited in HubSpot
    deals = {i: sample_deal(i, 2000 + index) for i in range(2 * n)}
    docs = {i: encoded(deal) for i, deal in deals.items()}
    plain = {i: deal.model_dump() for i, deal in deals.items()} if model else None
    started = time.perf_counter()
    read_side(db, VENDOR, PARTNER, vendor_ids, docs, page, now, index, plain)
    read_side(db, PARTNER, VENDOR, partner_ids, docs, page, now, index, plain)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    sent = drain_side(db, PARTNER, docs, batch, now, index)
    sent += drain_side(db, VENDOR, docs, batch, now, index)
    drain_s = time.perf_counter() - started
    if sent != 2 * n:
        msg = f"drained {sent} entries, expected {2 * n}"
        raise SystemExit(msg)
    return {
        "scenario": "store_floor", "n": n, "round": index + 1, "model": model,
        "read_side_seconds": round(read_s, 3), "drain_side_seconds": round(drain_s, 3),
        "store_seconds": round(read_s + drain_s, 3),
        "us_per_changed_deal": round(1e6 * (read_s + drain_s) / (2 * n), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("CHANNEL_SYNC_BENCH_N",
                                                                    "10000")))
    parser.add_argument("--page", type=int, default=200, help="records a read page holds")
    parser.add_argument("--batch", type=int, default=200, help="outbox entries a claim takes")
    parser.add_argument("--repeat", type=int, default=3, help="rounds to measure")
    parser.add_argument("--model", action="store_true",
                        help="validate and dump each changed deal as the canonical model too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="channel-sync-store-floor-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'store.db'}")
        upgrade(engine)
        raw = engine.raw_connection()
        db = raw.driver_connection
        assert isinstance(db, sqlite3.Connection)
        seed(db, 2 * args.n, stamp(datetime.now(UTC)))
        rounds = []
        for index in range(args.repeat):
            rounds.append(one_round(db, args.n, index, page=args.page, batch=args.batch,
                                    model=args.model))
            print(json.dumps(rounds[-1]), flush=True)
        print(json.dumps({
            "scenario": "store_floor_rounds", "n": args.n, "rounds": args.repeat,
            "model": args.model,
            "median_store_seconds": statistics.median(r["store_seconds"] for r in rounds),
            "median_us_per_changed_deal": statistics.median(
                r["us_per_changed_deal"] for r in rounds),
        }), flush=True)
        raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
