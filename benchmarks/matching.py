"""How well and how fast the channel-conflict matcher finds the same customer.

Quality: precision, recall and F1 on ``tests/data/company_pairs.csv`` for the tuning half (rows
1-200, where the default threshold was chosen), the hold-out half and all; at the default
threshold and at several others, with the built-in customer aliases (what the product ships) and
without any aliases (the names and domains alone).

Speed: one registration against N existing open deals with synthetic company names and domains
(deterministic seed): the time to build a ``CustomerIndex``, the median and 95th-percentile time
of one query against it, and the one-shot ``find_conflicts`` (which builds a throw-away index).

Sizes: CHANNEL_SYNC_BENCH_CUSTOMERS (default "10000,100000"), CHANNEL_SYNC_BENCH_QUERIES
(default 50). Prints one JSON object. Run from the repository root:
``.venv/bin/python benchmarks/matching.py``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from channel_sync.workflow.match_pairs import CompanyPair, read_pairs
from channel_sync.workflow.matching import (
    DEFAULT_THRESHOLD,
    EMPTY_ALIASES,
    AliasTable,
    CustomerIndex,
    CustomerMatcher,
    CustomerRecord,
    find_conflicts,
)

SIZES = [int(s) for s in os.environ.get("CHANNEL_SYNC_BENCH_CUSTOMERS", "10000,100000").split(",")]
QUERIES = int(os.environ.get("CHANNEL_SYNC_BENCH_QUERIES", "50"))
SEED = int(os.environ.get("CHANNEL_SYNC_BENCH_SEED", "20260302"))
PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "company_pairs.csv"
THRESHOLDS = [0.80, 0.83, 0.85, 0.87, 0.89, 0.91, 0.93, 0.95]

SYLLABLES = ["ac", "me", "glo", "bex", "ini", "tech", "um", "bre", "la", "hoo", "li", "stark",
             "way", "ne", "won", "ka", "ty", "rell", "cy", "ber", "dyne", "soy", "lent", "van",
             "de", "lay", "pi", "ed", "os", "corp", "zen", "ith", "nor", "tha", "mar", "kon",
             "ro", "vi", "sta", "qua", "dra", "pex", "lum", "en", "ar", "is", "to", "ri"]
INDUSTRY = ["Analytics", "Logistics", "Systems", "Solutions", "Foods", "Bank", "Energy",
            "Health", "Software", "Capital", "Media", "Labs", "Industries", "Motors", "Partners",
            "Consulting", "Pharmaceuticals", "Insurance", "Retail", "Construction"]
SUFFIXES = ["", " Inc", " Inc.", " LLC", " GmbH", " S.A.", " plc", " Group", " Holdings",
            " Ltd", " Corporation", " AG", " B.V.", " Pty Ltd"]
TLDS = [".com", ".com", ".com", ".io", ".de", ".co.uk", ".fr", ".com.au"]


def figures(part: list[tuple[bool, float]], threshold: float) -> str:
    tp = sum(1 for label, s in part if label and s >= threshold)
    fp = sum(1 for label, s in part if not label and s >= threshold)
    fn = sum(1 for label, s in part if label and s < threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return f"P {precision:.3f} R {tp / (tp + fn):.3f} F1 {2 * tp / (2 * tp + fp + fn):.3f}"


def quality(pairs: list[CompanyPair], aliases: AliasTable | None) -> dict[str, Any]:
    """Figures for one alias table (``None``: the built-in list) at each threshold."""
    probe = CustomerMatcher(0.01, aliases)
    scored = [
        (bool(p.label), probe.compare(p.name_a, p.domain_a, p.name_b, p.domain_b).score)
        for p in pairs
    ]
    half = len(scored) // 2
    parts = {"tuning": scored[:half], "hold_out": scored[half:], "all": scored}
    return {
        f"{threshold:.2f}": {name: figures(part, threshold) for name, part in parts.items()}
        for threshold in THRESHOLDS
    }


def company(rng: random.Random) -> tuple[str, str]:
    stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    words = [stem, *rng.sample(INDUSTRY, rng.randint(0, 2))]
    domain = stem.lower() + rng.choice(TLDS)
    return " ".join(words) + rng.choice(SUFFIXES), domain


def records(rng: random.Random, count: int) -> list[CustomerRecord]:
    out = []
    for number in range(count):
        name, domain = company(rng)
        partner = None if rng.random() < 0.3 else f"partner-{rng.randrange(40)}"
        products = frozenset(rng.sample(["CORE", "PLUS", "SECURITY", "ANALYTICS"], 2))
        out.append(CustomerRecord(f"cs_{number}", partner, name, domain, products))
    return out


def speed(size: int, rng: random.Random) -> dict[str, Any]:
    existing = records(rng, size)
    started = time.perf_counter()
    index = CustomerIndex(existing)
    build = time.perf_counter() - started
    candidates = []
    for number in range(QUERIES):
        base = rng.choice(existing)
        name = base.company_name or ""
        if number % 2:  # half the queries are typo'd copies of existing customers
            i = rng.randrange(1, max(2, len(name) - 1))
            name = name[:i] + name[i + 1 :]
        candidates.append(
            CustomerRecord(f"new_{number}", "partner-new", name, None, frozenset({"CORE"}))
        )
    timings, found = [], 0
    for candidate in candidates:
        started = time.perf_counter()
        found += len(index.find_conflicts(candidate))
        timings.append(time.perf_counter() - started)
    timings.sort()
    started = time.perf_counter()
    find_conflicts(candidates[0], existing)
    one_shot = time.perf_counter() - started
    return {
        "existing": size,
        "index_build_s": round(build, 3),
        "query_median_ms": round(statistics.median(timings) * 1000, 2),
        "query_p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
        "conflicts_found": found,
        "one_shot_find_conflicts_s": round(one_shot, 3),
    }


def main() -> None:
    rng = random.Random(SEED)
    pairs = read_pairs(PAIRS, need_label=True)
    with_aliases, without = quality(pairs, None), quality(pairs, EMPTY_ALIASES)
    report = {
        "pairs": len(pairs),
        "default_threshold": DEFAULT_THRESHOLD,
        "quality_at_default": {
            "builtin_aliases": with_aliases[f"{DEFAULT_THRESHOLD:.2f}"],
            "no_aliases": without[f"{DEFAULT_THRESHOLD:.2f}"],
        },
        "quality": {"builtin_aliases": with_aliases, "no_aliases": without},
        "speed": [speed(size, rng) for size in SIZES],
        "queries": QUERIES,
        "seed": SEED,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
