"""CRM search requests: their shape and HubSpot's limits on them.

Search is the sync engine's change feed (``hs_lastmodifieddate GT cursor``, sorted ascending), so
its limits are enforced exactly where real HubSpot enforces them: at most five filter groups of
six filters and eighteen filters in all, one sort, pages of at most 200, and no paging beyond
the 10,000th result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from channel_sync.sandbox.hubspot.errors import HubSpotError, validation_error
from channel_sync.sandbox.hubspot.properties import PROPERTIES_BY_NAME


@dataclass(frozen=True)
class SearchLimits:
    max_groups: int = 5
    max_filters_per_group: int = 6
    max_filters: int = 18
    max_limit: int = 200
    default_limit: int = 10
    window: int = 10_000
    max_query_length: int = 3_000


OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)


def problem(detail: str) -> HubSpotError:
    # Real HubSpot answers most malformed searches with this bare message; the detail goes in
    # ``errors`` so a developer still sees what was wrong.
    error = validation_error("There was a problem with the request.")
    error.errors = [{"message": detail, "code": "INVALID_SEARCH_REQUEST"}]
    return error


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "propertyName": self.property_name,
            "operator": self.operator,
            "value": self.value,
            "highValue": self.high_value,
            "values": list(self.values),
        }


@dataclass(frozen=True)
class Sort:
    property_name: str
    descending: bool


@dataclass(frozen=True)
class SearchRequest:
    groups: tuple[tuple[Filter, ...], ...]
    sort: Sort | None
    query: str | None
    properties: tuple[str, ...] | None
    limit: int
    after: int

    def cache_key(self) -> str:
        return json.dumps(
            {
                "groups": [[f.to_json() for f in g] for g in self.groups],
                "sort": self.sort and [self.sort.property_name, self.sort.descending],
                "query": self.query,
            },
            sort_keys=True,
            default=str,
        )


def _int(raw: Any, name: str) -> int:
    if isinstance(raw, bool):
        raise problem(f"{name} must be an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise problem(f"{name} must be an integer, got {raw!r}")


def _parse_filter(raw: Any) -> Filter:
    if not isinstance(raw, dict):
        raise problem("each filter must be an object")
    name = raw.get("propertyName")
    operator = raw.get("operator", "EQ")
    if not isinstance(name, str) or not name:
        raise problem("filter without propertyName")
    if not isinstance(operator, str) or operator.upper() not in OPERATORS:
        raise problem(f"unknown filter operator {operator!r}")
    operator = operator.upper()
    if name not in PROPERTIES_BY_NAME:
        raise problem(f"property {name} does not exist")
    values = raw.get("values")
    if operator in ("IN", "NOT_IN"):
        if not isinstance(values, list) or not values:
            raise problem(f"{operator} needs a non-empty values list")
    elif operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        pass
    elif raw.get("value") is None:
        raise problem(f"{operator} needs a value")
    if operator == "BETWEEN" and raw.get("highValue") is None:
        raise problem("BETWEEN needs value and highValue")
    return Filter(
        property_name=name,
        operator=operator,
        value=raw.get("value"),
        high_value=raw.get("highValue"),
        values=tuple(values) if isinstance(values, list) else (),
    )


def _parse_sort(raw: Any) -> Sort:
    if isinstance(raw, str):
        descending = raw.startswith("-")
        name = raw.lstrip("-")
    elif isinstance(raw, dict):
        name = raw.get("propertyName", "")
        direction = str(raw.get("direction", "ASCENDING")).upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise problem(f"unknown sort direction {direction!r}")
        descending = direction == "DESCENDING"
    else:
        raise problem("a sort is a property name or {propertyName, direction}")
    if name not in PROPERTIES_BY_NAME:
        raise problem(f"cannot sort by unknown property {name!r}")
    return Sort(name, descending)


def _parse_groups(raw_groups: Any, limits: SearchLimits) -> tuple[tuple[Filter, ...], ...]:
    if not isinstance(raw_groups, list):
        raise problem("filterGroups must be a list")
    if len(raw_groups) > limits.max_groups:
        raise validation_error(
            f"Too many filter groups: {len(raw_groups)} (maximum {limits.max_groups})"
        )
    groups: list[tuple[Filter, ...]] = []
    for raw_group in raw_groups:
        filters = raw_group.get("filters") if isinstance(raw_group, dict) else None
        if not isinstance(filters, list):
            raise problem("each filter group needs a filters list")
        if len(filters) > limits.max_filters_per_group:
            raise validation_error(
                f"Too many filters in a group: {len(filters)} "
                f"(maximum {limits.max_filters_per_group})"
            )
        groups.append(tuple(_parse_filter(f) for f in filters))
    total = sum(len(g) for g in groups)
    if total > limits.max_filters:
        raise validation_error(f"Too many filters: {total} (maximum {limits.max_filters})")
    return tuple(groups)


def _parse_sorts(raw_sorts: Any) -> Sort | None:
    if not isinstance(raw_sorts, list):
        raise problem("sorts must be a list")
    if len(raw_sorts) > 1:
        raise validation_error("Only one sort is supported per search request")
    return _parse_sort(raw_sorts[0]) if raw_sorts else None


def _parse_query(query: Any, limits: SearchLimits) -> str | None:
    if query is None:
        return None
    if not isinstance(query, str):
        raise problem("query must be a string")
    if len(query) > limits.max_query_length:
        raise validation_error(f"query is longer than {limits.max_query_length} characters")
    return query.strip() or None


def _parse_window(body: dict[str, Any], limits: SearchLimits) -> tuple[int, int]:
    raw_limit = body.get("limit")
    limit = limits.default_limit if raw_limit is None else _int(raw_limit, "limit")
    if limit < 0 or limit > limits.max_limit:
        raise validation_error(f"limit must be between 0 and {limits.max_limit}, got {limit}")
    raw_after = body.get("after")
    after = 0 if raw_after in (None, "") else _int(raw_after, "after")
    if after < 0:
        raise problem("after must not be negative")
    if after + limit > limits.window:
        raise validation_error(
            f"Search results are limited to {limits.window} per query: after ({after}) plus "
            f"limit ({limit}) exceeds it. Narrow the filters and start a new query.",
            after=[str(after)],
            limit=[str(limit)],
        )
    return limit, after


def parse_request(body: Any, limits: SearchLimits) -> SearchRequest:
    if not isinstance(body, dict):
        raise problem("the search request must be a JSON object")
    raw_props = body.get("properties")
    if raw_props is not None and (
        not isinstance(raw_props, list) or not all(isinstance(p, str) for p in raw_props)
    ):
        raise problem("properties must be a list of property names")
    limit, after = _parse_window(body, limits)
    return SearchRequest(
        groups=_parse_groups(body.get("filterGroups") or [], limits),
        sort=_parse_sorts(body.get("sorts") or []),
        query=_parse_query(body.get("query"), limits),
        properties=tuple(raw_props) if raw_props else None,
        limit=limit,
        after=after,
    )
