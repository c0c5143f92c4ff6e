"""Arbitrary request bodies, sent through the client, never get a 500 or a non-HubSpot body.

Size: CHANNEL_SYNC_HS_FUZZ_EXAMPLES (default 20 per endpoint); seed: CHANNEL_SYNC_TEST_SEED
(printed, so a failure can be replayed).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hubspot.crm.deals import ApiException
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .conftest import Portal, error_body

EXAMPLES = int(os.environ.get("CHANNEL_SYNC_HS_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", str(random.SystemRandom().randrange(2**32))))
print(f"test_robustness: CHANNEL_SYNC_TEST_SEED={SEED} examples={EXAMPLES}")

KEYS = [
    "properties",
    "inputs",
    "id",
    "idProperty",
    "objectWriteTraceId",
    "filterGroups",
    "filters",
    "propertyName",
    "operator",
    "value",
    "highValue",
    "values",
    "sorts",
    "direction",
    "limit",
    "after",
    "query",
    "dealname",
    "amount",
    "closedate",
    "dealstage",
    "channel_sync_id",
    "channel_sync_products",
    "hs_object_id",
]
WORDS = [
    "EQ",
    "GT",
    "BETWEEN",
    "IN",
    "HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "DESCENDING",
    "channel_sync_id",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(KEYS + WORDS + ["", "10000000001", "2026-01-05", "1767607200000"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=25,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional=dict.fromkeys(KEYS[:17], json_values)),
)


def _call(portal: Portal, endpoint: str) -> Callable[[Any], Any]:
    calls: dict[str, Callable[[Any], Any]] = {
        "create": lambda b: portal.basic.create(simple_public_object_input_for_create=b),
        "update": lambda b: portal.basic.update("10000000001", simple_public_object_input=b),
        "search": lambda b: portal.search.do_search(public_object_search_request=b),
        "batch_read": lambda b: portal.batch.read(batch_read_input_simple_public_object_id=b),
        "batch_create": lambda b: portal.batch.create(
            batch_input_simple_public_object_batch_input_for_create=b
        ),
        "batch_update": lambda b: portal.batch.update(
            batch_input_simple_public_object_batch_input=b
        ),
        "batch_upsert": lambda b: portal.batch.upsert(
            batch_input_simple_public_object_batch_input_upsert=b
        ),
        "batch_archive": lambda b: portal.batch.archive(batch_input_simple_public_object_id=b),
    }
    return calls[endpoint]


@pytest.mark.parametrize(
    "endpoint",
    [
        "create",
        "update",
        "search",
        "batch_read",
        "batch_create",
        "batch_update",
        "batch_upsert",
        "batch_archive",
    ],
)
def test_any_body_gets_a_hubspot_answer(portal: Portal, endpoint: str) -> None:
    call = _call(portal, endpoint)

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(body=bodies)
    def check(body: Any) -> None:
        portal.clock.advance(timedelta(seconds=1))  # keep search under its per-second limit
        refused: ApiException | None = None
        try:
            call(body)
        except ApiException as exc:
            refused = exc
        if refused is not None:
            assert 400 <= refused.status < 500, refused.body
            error_body(refused)

    check()
