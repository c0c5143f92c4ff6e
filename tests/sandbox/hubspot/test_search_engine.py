"""The column-wise search engine against a plain reference evaluation over the deals' strings.

Size: CHANNEL_SYNC_HS_ENGINE_DEALS deals (default 1000) and CHANNEL_SYNC_HS_ENGINE_QUERIES random
searches (default 100); seed: CHANNEL_SYNC_TEST_SEED (printed).
"""

from __future__ import annotations

import os
import random
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from channel_sync.clock import FrozenClock
from channel_sync.sandbox.hubspot import HubSpotBackend
from channel_sync.sandbox.hubspot.properties import PROPERTIES_BY_NAME
from channel_sync.sandbox.hubspot.search_request import parse_request
from channel_sync.sandbox.hubspot.values import format_ms, parse_datetime
from channel_sync.sandbox.seed import generate_deals

from .conftest import START

DEALS = int(os.environ.get("CHANNEL_SYNC_HS_ENGINE_DEALS", "1000"))
QUERIES = int(os.environ.get("CHANNEL_SYNC_HS_ENGINE_QUERIES", "100"))
SEED = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", str(random.SystemRandom().randrange(2**32))))
print(f"test_search_engine: CHANNEL_SYNC_TEST_SEED={SEED} deals={DEALS} queries={QUERIES}")

FIELDS = [
    "amount",
    "closedate",
    "dealstage",
    "deal_currency_code",
    "dealname",
    "channel_sync_customer_country",
    "channel_sync_products",
    "channel_sync_register",
    "hs_lastmodifieddate",
    "createdate",
]


def reference_key(name: str, wire: str) -> Any:
    prop = PROPERTIES_BY_NAME[name]
    if prop.type == "number":
        return Decimal(wire)
    if prop.type == "datetime":
        return int(datetime.fromisoformat(wire).timestamp() * 1000)
    if prop.multi:
        return {p.casefold() for p in wire.split(";")}
    return wire.casefold()


def reference_value(name: str, raw: str) -> Any:
    prop = PROPERTIES_BY_NAME[name]
    if prop.type == "number":
        return Decimal(raw)
    if prop.type == "datetime":
        return parse_datetime(raw)
    return raw.casefold()


def reference_match(deal: dict[str, Any], flt: dict[str, Any]) -> bool:
    name, op = flt["propertyName"], flt["operator"]
    wire = deal["properties"].get(name)
    if op == "HAS_PROPERTY":
        return wire is not None
    if op == "NOT_HAS_PROPERTY":
        return wire is None
    negated = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
    if op in negated:
        return not reference_match(deal, {**flt, "operator": negated[op]})
    if wire is None:
        return False
    key = reference_key(name, wire)
    if op == "CONTAINS_TOKEN":
        words = re.findall(r"[^\W_]+", wire.casefold())
        return flt["value"].casefold() in words
    if op == "IN":
        wanted = {reference_value(name, v) for v in flt["values"]}
        return bool(key & wanted) if isinstance(key, set) else key in wanted
    value = reference_value(name, flt["value"])
    if isinstance(key, set):
        return op == "EQ" and value in key
    high = reference_value(name, flt["highValue"]) if op == "BETWEEN" else None
    return {
        "EQ": lambda: key == value,
        "LT": lambda: key < value,
        "LTE": lambda: key <= value,
        "GT": lambda: key > value,
        "GTE": lambda: key >= value,
        "BETWEEN": lambda: value <= key <= high,
    }[op]()


def reference_search(deals: list[dict[str, Any]], body: dict[str, Any]) -> list[str]:
    live = [d for d in deals if not d["archived"]]
    groups = body.get("filterGroups", [])
    if groups:
        live = [
            d for d in live if any(all(reference_match(d, f) for f in g["filters"]) for g in groups)
        ]
    live.sort(key=lambda d: int(d["id"]))
    if not body.get("sorts"):
        return [d["id"] for d in live]
    sort = body["sorts"][0]
    name = sort["propertyName"]
    present = [d for d in live if d["properties"].get(name) is not None]
    absent = [d for d in live if d["properties"].get(name) is None]

    def order(deal: dict[str, Any]) -> Any:
        # Multiple-checkbox values sort by their options in alphabetical order.
        key = reference_key(name, deal["properties"][name])
        return tuple(sorted(key)) if isinstance(key, set) else key

    present.sort(
        key=order,
        reverse=sort["direction"] == "DESCENDING",
    )
    return [d["id"] for d in present + absent]


def random_filter(rng: random.Random, deals: list[dict[str, Any]]) -> dict[str, Any]:
    name = rng.choice(FIELDS)
    sample = [d["properties"][name] for d in rng.sample(deals, 5) if d["properties"].get(name)]
    value = rng.choice(sample) if sample else "1"
    if name == "channel_sync_products":
        option = rng.choice(value.split(";"))
        op = rng.choice(["EQ", "NEQ", "IN", "NOT_IN"])
        if op in ("IN", "NOT_IN"):
            return {"propertyName": name, "operator": op, "values": [option]}
        return {"propertyName": name, "operator": op, "value": option}
    text = PROPERTIES_BY_NAME[name].type == "string"
    ops = ["EQ", "NEQ", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN"]
    ops += (
        ["CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"] if text else ["LT", "LTE", "GT", "GTE", "BETWEEN"]
    )
    op = rng.choice(ops)
    flt: dict[str, Any] = {"propertyName": name, "operator": op}
    if op in ("IN", "NOT_IN"):
        flt["values"] = [value, *(rng.choice(sample) for _ in range(2) if sample)]
    elif op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        flt["value"] = rng.choice(re.findall(r"[^\W_]+", value) or ["x"])
    elif op == "BETWEEN":
        low, high = sorted(
            [value, rng.choice(sample) if sample else value], key=lambda v: reference_key(name, v)
        )
        flt["value"], flt["highValue"] = low, high
    elif op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        flt["value"] = value
    return flt


@pytest.fixture(scope="module")
def seeded() -> HubSpotBackend:
    backend = HubSpotBackend("engine", FrozenClock(START))
    backend.seed(list(generate_deals(SEED % 1000, DEALS)))
    rng = random.Random(SEED)
    deals = backend.portal.store.all()
    now = backend.portal.now_ms()
    # Some archived, some edited later, some twice, at spread-out and tied times: the sorted
    # timestamp index must follow every move.
    for deal in rng.sample(deals, DEALS // 5):
        when = now + rng.choice([1, 2, rng.randint(3, 100_000)])
        if rng.random() < 0.3:
            backend.portal.store.archive(deal, when)
        else:
            backend.portal.store.update(deal, {"amount": None, "dealstage": "closedlost"}, when)
    return backend


def test_engine_agrees_with_the_reference(seeded: HubSpotBackend) -> None:
    rng = random.Random(SEED + 1)
    deals = seeded.snapshot()["deals"]
    engine = seeded.portal.search
    for _ in range(QUERIES):
        groups = [
            {"filters": [random_filter(rng, deals) for _ in range(rng.randint(1, 3))]}
            for _ in range(rng.randint(0, 3))
        ]
        body: dict[str, Any] = {"filterGroups": groups, "limit": 200}
        if rng.random() < 0.7:
            direction = rng.choice(["ASCENDING", "DESCENDING"])
            body["sorts"] = [{"propertyName": rng.choice(FIELDS), "direction": direction}]
        expected = reference_search(deals, body)
        got = [str(i) for i in engine.matching_ids(parse_request(body, engine.limits))]
        assert got == expected, body


def test_pages_cover_the_result_once(seeded: HubSpotBackend) -> None:
    engine = seeded.portal.search
    body = {"sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]}
    seen: list[int] = []
    after = 0
    while True:
        total, page, next_after = engine.page(
            parse_request({**body, "limit": 200, "after": after}, engine.limits)
        )
        seen += [d.id for d in page]
        if next_after is None:
            break
        after = next_after
    assert total == len(seen) == len(set(seen)) == len(seeded.portal.store)


def test_millisecond_formats_round_trip() -> None:
    rng = random.Random(SEED)
    for _ in range(1000):
        ms = rng.randrange(-(10**12), 253402300799999)
        text = format_ms(ms)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)
        assert parse_datetime(text) == ms


def test_windows_on_one_indexed_property_agree_with_the_reference(seeded: HubSpotBackend) -> None:
    """Two to four range filters on one timestamp in a group (the change feed's window, and
    any other combination) are narrowed to one range before the index is read."""
    rng = random.Random(SEED + 2)
    deals = seeded.snapshot()["deals"]
    engine = seeded.portal.search
    ops = ["EQ", "LT", "LTE", "GT", "GTE", "BETWEEN"]
    for _ in range(QUERIES):
        name = rng.choice(["hs_lastmodifieddate", "createdate"])
        stamps = sorted({d["properties"][name] for d in rng.sample(deals, 6)},
                        key=lambda v: reference_key(name, v))
        filters = []
        for _ in range(rng.randint(2, 4)):
            op = rng.choice(ops)
            flt: dict[str, Any] = {"propertyName": name, "operator": op}
            if op == "BETWEEN":
                low, high = sorted(rng.choices(stamps, k=2), key=lambda v: reference_key(name, v))
                flt["value"], flt["highValue"] = low, high
            else:
                flt["value"] = rng.choice(stamps)
            filters.append(flt)
        if rng.random() < 0.3:
            filters.append(random_filter(rng, deals))
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": name, "direction": "ASCENDING"}],
            "limit": 200,
        }
        expected = reference_search(deals, body)
        got = [str(i) for i in engine.matching_ids(parse_request(body, engine.limits))]
        assert got == expected, body
