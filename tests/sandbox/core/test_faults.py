from __future__ import annotations

import pytest
from pydantic import ValidationError

from channel_sync.sandbox.core import FaultBook, FaultRule


def rule(**kw: object) -> FaultRule:
    return FaultRule.model_validate({"path": "^/items", "status": 503, **kw})


def outcomes(
    book: FaultBook, n: int, method: str = "GET", path: str = "/items"
) -> list[str | None]:
    result = []
    for _ in range(n):
        hit = book.match(method, path)
        result.append(hit.id if hit else None)
    return result


def test_after_then_count() -> None:
    book = FaultBook()
    book.add(rule(id="r", after=2, count=3))
    assert outcomes(book, 7) == [None, None, "r", "r", "r", None, None]


def test_count_none_applies_to_every_later_match() -> None:
    book = FaultBook()
    book.add(rule(id="r", after=1, count=None))
    assert outcomes(book, 5) == [None, "r", "r", "r", "r"]


def test_method_and_path_must_match() -> None:
    book = FaultBook()
    book.add(rule(id="r", method="post", path=r"/sobjects/Opportunity/\w+$", count=None))
    assert book.match("GET", "/services/data/v59.0/sobjects/Opportunity/006A") is None
    assert book.match("POST", "/services/data/v59.0/sobjects/Account/001A") is None
    hit = book.match("POST", "/services/data/v59.0/sobjects/Opportunity/006A")
    assert hit is not None
    assert hit.id == "r"


def test_first_applicable_rule_wins_and_later_rules_still_count() -> None:
    book = FaultBook()
    book.add(rule(id="first", count=1))
    book.add(rule(id="second", after=1, count=1, status=500))
    # Request 1: both see it; "first" applies, "second" lets it through (after=1).
    # Request 2: "first" is spent; "second" has seen one already, so it applies.
    assert outcomes(book, 3) == ["first", "second", None]


def test_replacing_a_rule_restarts_its_counters() -> None:
    book = FaultBook()
    book.add(rule(id="r", count=1))
    assert outcomes(book, 2) == ["r", None]
    book.add(rule(id="r", count=1))
    assert outcomes(book, 1) == ["r"]
    assert book.remove("r")
    assert not book.remove("r")
    assert outcomes(book, 1) == [None]


def test_state_reports_usage() -> None:
    book = FaultBook()
    book.add(rule(id="r", count=2))
    book.match("GET", "/items")
    state = book.to_json()
    assert state["rules"][0]["id"] == "r"
    assert state["rules"][0]["seen"] == 1
    assert state["rules"][0]["applied"] == 1
    assert state["rules"][0]["remaining"] == 1


def test_locked_records() -> None:
    book = FaultBook()
    book.lock("006A", "ext-1")
    assert book.is_locked(None, "ext-1")
    assert book.is_locked("006A")
    assert not book.is_locked(None, "ext-2")
    assert not book.is_locked()
    book.unlock("006A")
    assert not book.is_locked("006A")
    book.clear()
    assert book.locked_records == set()
    assert book.rules == []


def test_ids_are_generated_and_distinct() -> None:
    a, b = rule(), rule()
    assert a.id != b.id
    assert a.method == "*"


@pytest.mark.parametrize(
    "body",
    [
        {"path": "(", "status": 500},
        {"path": "x", "status": 500, "drop_response": True},
        {"path": "x", "timeout": True, "drop_response": True},
        {"path": "x"},
        {"path": "x", "latency_ms": 5, "body": {"a": 1}},
        {"path": "x", "status": 700},
        {"path": "x", "status": 500, "colour": "red"},
        {"path": "x", "status": 500, "count": 0},
        {"path": "x", "status": 500, "after": -1},
    ],
)
def test_invalid_rules_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaultRule.model_validate(body)


def test_latency_alone_is_a_rule() -> None:
    assert FaultRule(path="x", latency_ms=10).latency_ms == 10
