"""Field values have exactly one stored form, and come back as equal values of the same type."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from channel_sync.mapping import build_opportunity, flatten
from channel_sync.model import CanonicalField, Opportunity, canonical_fields
from channel_sync.store import (
    Store,
    UnstorableValueError,
    decode_value,
    encode_fields,
    encode_value,
    json_text,
    normalize_fields,
)
from channel_sync.store.records import document_values, opportunity_document
from store.helpers import make_deal

EXAMPLES = int(os.environ.get("CHANNEL_SYNC_TEST_VALUE_EXAMPLES", "200"))
DB_EXAMPLES = int(os.environ.get("CHANNEL_SYNC_TEST_VALUE_DB_EXAMPLES", "40"))

FIELDS = canonical_fields()
PATHS = sorted(FIELDS)

text_values = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30
)
decimals = st.decimals(
    min_value=Decimal("-1e15"),
    max_value=Decimal("1e15"),
    places=2,  # the canonical amount has two decimal places
    allow_nan=False,
    allow_infinity=False,
)
aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)


def values_for(field: CanonicalField) -> st.SearchStrategy[object]:
    kind: type = field.type
    if kind is list:
        return st.lists(text_values.filter(bool), max_size=4)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    scalar: dict[type, st.SearchStrategy[object]] = {
        bool: st.booleans(),
        int: st.integers(-(2**53), 2**53),
        Decimal: decimals,
        datetime: aware,
        date: st.dates(),
        str: text_values,
    }
    return st.one_of(st.none(), scalar[kind])


path_and_value = st.sampled_from(PATHS).flatmap(
    lambda path: st.tuples(st.just(path), values_for(FIELDS[path]))
)


@settings(max_examples=EXAMPLES, print_blob=True)
@given(path_and_value)
def test_round_trip_is_lossless_and_encoding_is_a_fixed_point(item: tuple[str, object]) -> None:
    path, value = item
    stored = encode_value(path, value)
    back = decode_value(path, stored)
    if isinstance(value, list):
        assert back == sorted(set(value))
    else:
        assert back == value
        assert type(back) is type(value)
    assert encode_value(path, back) == stored


@settings(max_examples=EXAMPLES, print_blob=True)
@given(decimals, st.integers(0, 6))
def test_equal_decimals_store_equal(value: Decimal, zeros: int) -> None:
    padded = Decimal(f"{value:f}{'' if '.' in f'{value:f}' else '.'}{'0' * zeros}")
    assert padded == value
    assert encode_value("amount", padded) == encode_value("amount", value)
    assert encode_value("amount", value.normalize()) == encode_value("amount", value)


@settings(max_examples=EXAMPLES, print_blob=True)
@given(aware, st.integers(-14 * 60, 14 * 60))
def test_one_instant_stores_one_way_whatever_the_offset(value: datetime, minutes: int) -> None:
    shifted = value.astimezone(timezone(timedelta(minutes=minutes)))
    path = "registration.expires_at"
    assert encode_value(path, shifted) == encode_value(path, value)
    assert decode_value(path, encode_value(path, shifted)) == value


def test_known_equivalences() -> None:
    assert (
        encode_value("amount", Decimal("10.50"))
        == encode_value("amount", Decimal("10.5"))
        == "10.5"
    )
    assert encode_value("amount", Decimal("1E+2")) == "100"
    assert encode_value("amount", Decimal("-0.00")) == "0"
    assert encode_value("amount", 7) == "7"
    assert encode_value("amount", " 3.10 ") == "3.1"
    assert encode_value("stage", "proposal") == "proposal"
    assert encode_value("products", ["B", "A", "B"]) == ["A", "B"]
    assert normalize_fields({"amount": Decimal("10.50")}) == {"amount": Decimal("10.5")}
    assert list(encode_fields({"stage": None, "amount": None})) == ["amount", "stage"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("amount", 10.5, "expected Decimal"),
        ("amount", "ten", "not a decimal"),
        ("amount", Decimal("NaN"), "finite"),
        ("probability", True, "expected int"),
        ("target_close_date", datetime(2024, 1, 1, tzinfo=UTC), "expected date"),
        ("registration.expires_at", datetime(2024, 1, 1), "naive"),
        ("stage", "won-ish", "not a Stage"),
        ("name", "a\x00b", "NUL"),
        ("name", "\ud800", "not valid Unicode"),
        ("nmae", "typo", "not a canonical field"),
        ("products", "A;B", "expected list"),
    ],
)
def test_values_without_a_lossless_form_are_refused(path: str, value: object, message: str) -> None:
    with pytest.raises(UnstorableValueError, match=message):
        encode_value(path, value)


def test_record_documents_are_normalized() -> None:
    one = make_deal(
        amount="10.50",
        registration={"status": "submitted", "expires_at": "2024-06-01T12:00:00+02:00"},
    )
    two = make_deal(
        amount="10.5", registration={"status": "submitted", "expires_at": "2024-06-01T10:00:00Z"}
    )
    assert opportunity_document(one) == opportunity_document(two)
    assert Opportunity.model_validate(opportunity_document(one)) == Opportunity.model_validate(
        opportunity_document(two)
    )


def test_values_survive_the_database_unchanged(store: Store) -> None:
    """Bases go through each back-end's JSON column and come back equal, with equal types."""
    counter = itertools.count()
    with store.transaction() as tx:
        tx.records.insert(make_deal("holder"))

    @settings(
        max_examples=DB_EXAMPLES,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.dictionaries(st.sampled_from(PATHS), st.none(), max_size=6).flatmap(
            lambda keys: st.fixed_dictionaries({p: values_for(FIELDS[p]) for p in keys})
        )
    )
    def round_trip(base: dict[str, object]) -> None:
        connection = f"c{next(counter)}"
        with store.transaction() as tx:
            tx.links.link(connection, "holder", None, base=base, written=base)
        with store.read() as tx:
            link = tx.links.by_canonical(connection, "holder")
        assert link is not None
        expected = normalize_fields(base)
        assert dict(link.base) == expected
        assert {p: type(v) for p, v in link.base.items()} == {
            p: type(v) for p, v in expected.items()
        }
        assert encode_fields(link.base) == encode_fields(base)

    round_trip()


deal_values = st.dictionaries(st.sampled_from(PATHS), st.none(), max_size=12).flatmap(
    lambda keys: st.fixed_dictionaries({p: values_for(FIELDS[p]) for p in keys})
)


def _deal_from(values: dict[str, object]) -> Opportunity:
    fields = {p: v for p, v in values.items() if p not in ("id", "partner_id")}
    try:
        return build_opportunity({**fields, "id": "cs_1", "partner_id": "acme",
                                  "name": fields.get("name") or "Deal"})
    except ValidationError:
        assume(False)
        raise


@settings(
    max_examples=EXAMPLES, print_blob=True, suppress_health_check=[HealthCheck.filter_too_much]
)
@given(deal_values)
def test_a_documents_values_are_the_deals_values(values: dict[str, object]) -> None:
    """Reading values straight from a stored document gives what flattening the deal read
    back from it gives: equal values of the same types, at every path."""
    deal = _deal_from(values)
    document = opportunity_document(deal)
    read_back = flatten(Opportunity.model_validate_json(json_text.dumps(document)))
    direct = document_values(json_text.loads(json_text.dumps(document)))
    assert direct == read_back
    assert {p: type(v) for p, v in direct.items()} == {p: type(v) for p, v in read_back.items()}
    assert direct == flatten(deal)  # equal to the deal it was stored from, too


def test_a_stored_deals_values_match_its_deal(store: Store) -> None:
    deal = make_deal(
        "cs_vals", amount="10.50", products=["B", "A"], stage="proposal",
        registration={"status": "submitted", "expires_at": "2024-06-01T12:00:00.123456+02:00"},
        partner_contact={"first_name": " Ann ", "email": "ann@example.com"},
    )
    with store.transaction() as tx:
        tx.records.insert(deal)
    with store.read() as tx:
        stored = tx.records.get("cs_vals")
        assert stored is not None
        values = stored.values()
        assert values == flatten(stored.opportunity) == flatten(deal)
    assert values["amount"] == Decimal("10.5")
    assert values["registration.expires_at"] == datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert values["vendor_owner.email"] is None
    assert values["partner_contact.first_name"] == "Ann"
    assert stored.values(["stage", "amount", "not.a.path"]) == {
        "stage": values["stage"], "amount": Decimal("10.5"), "not.a.path": None
    }
