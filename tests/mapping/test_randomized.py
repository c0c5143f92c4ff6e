"""Randomized checks: random deals through the shipped mappings, and mutated mapping files.

Sizes come from CHANNEL_SYNC_TEST_RECORDS (default 150 deals per mapping) and
CHANNEL_SYNC_TEST_FUZZ (default 120 mutated files); CHANNEL_SYNC_TEST_SEED fixes the seed,
which every test prints so a failure can be replayed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from channel_sync.config import FileError, Problem
from channel_sync.mapping import (
    Direction,
    LoadedMapping,
    build_opportunity,
    check_round_trips,
    flatten,
    load_mapping,
    run_examples,
)
from channel_sync.mapping.flat import canonical_value
from channel_sync.mapping.roundtrip import canonical_probes, same_canonical
from channel_sync.model import canonical_fields

from .helpers import SHIPPED, shipped_data

RECORDS = int(os.environ.get("CHANNEL_SYNC_TEST_RECORDS", "150"))
FUZZ = int(os.environ.get("CHANNEL_SYNC_TEST_FUZZ", "120"))
_CHARS = "abcXYZ 019;,'\"\\\n\t-_.@/äé東✓"


def seed_for(test: str) -> int:
    default = str(random.SystemRandom().randrange(2**32))
    seed = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", default))
    print(f"{test}: CHANNEL_SYNC_TEST_SEED={seed}")
    return seed


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_CHARS) for _ in range(rng.randint(1, 40)))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_random_deals_survive_outbound_then_inbound(path: Path) -> None:
    rng = random.Random(seed_for(f"random deals {path.name}"))
    mapping = load_mapping(path).compiled
    both = [c for c in mapping.fields if c.direction is Direction.BOTH and c.canonical]
    pools = {c.canonical: canonical_probes(c, mapping.spec.fields[c.index]) for c in both}
    assert len(pools) > 10
    for number in range(RECORDS):
        flat: dict[str, Any] = {"id": f"cs_{number}", "name": "placeholder"}
        for codec in both:
            assert codec.canonical is not None
            value = rng.choice(pools[codec.canonical])
            if canonical_fields()[codec.canonical].type is str and rng.random() < 0.5:
                # A constrained path (domain, e-mail, country) keeps the probe.
                with contextlib.suppress(ValueError):
                    value = canonical_value(codec.canonical, random_text(rng))
            flat[codec.canonical] = value
        values = flatten(build_opportunity(flat))
        back = mapping.inbound(mapping.outbound({p: values[p] for p in pools}))
        for codec in both:
            path_ = codec.canonical or ""
            got = canonical_value(path_, back[path_])
            assert same_canonical(got, values[path_]), (number, path_, values)


MUTATIONS = ("drop", "retype", "unknown_key", "duplicate_item", "swap_direction", "rename")
_ODD_VALUES: list[Any] = [None, True, 0, -1, 3.5, "", "x" * 300, [], {}, ["a"], {"k": "v"},
                          "customer.domain", "Name", "both", "picklist", "%d/%m", "Europe/Nowhere"]


def _nodes(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(loc, data)]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _nodes(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _nodes(value, (*loc, index))
    return out


def _mutate(rng: random.Random, data: dict[str, Any]) -> None:
    kind = rng.choice(MUTATIONS)
    loc, node = rng.choice(_nodes(data)[1:])
    parent: Any = data
    for part in loc[:-1]:
        parent = parent[part]
    key = loc[-1]
    if kind == "drop":
        del parent[key]
    elif kind == "retype":
        parent[key] = rng.choice(_ODD_VALUES)
    elif kind == "unknown_key" and isinstance(node, dict):
        node[rng.choice(["colour", "remote_field", "values", "type"])] = rng.choice(_ODD_VALUES)
    elif kind == "duplicate_item" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(node)))
    elif kind == "swap_direction" and isinstance(node, dict) and "canonical" in node:
        node["direction"] = rng.choice(["both", "inbound", "outbound"])
    elif kind == "rename" and isinstance(parent, dict):
        parent[f"{key}_"] = parent.pop(key)


def test_mutated_mapping_files_load_or_fail_with_located_problems(tmp_path: Path) -> None:
    rng = random.Random(seed_for("mutated mapping files"))
    loaded = refused = 0
    for number in range(FUZZ):
        data = shipped_data(rng.choice(SHIPPED).name)
        for _ in range(rng.randint(1, 3)):
            _mutate(rng, data)
        path = tmp_path / f"m{number}.yaml"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        mapping: LoadedMapping | None = None
        problems: list[Problem] = []
        try:
            mapping = load_mapping(path)
        except FileError as exc:
            problems = exc.problems
        if mapping is None:
            refused += 1
            assert problems
            assert all(p.file == path and p.message for p in problems)
            continue
        loaded += 1
        run_examples(mapping.compiled)
        check_round_trips(mapping.compiled)
    print(f"{loaded} loaded, {refused} refused")
    assert refused > 0
