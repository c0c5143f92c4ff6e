from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from channel_sync.mapping.spec import Connector, WireType
from channel_sync.mapping.wire import WireError, decoder, encoder, parse_text

SF, HS = Connector.SALESFORCE, Connector.HUBSPOT
W = WireType


def test_salesforce_wire_forms() -> None:
    moment = datetime(2026, 1, 5, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert encoder(SF, W.DATETIME)(moment) == "2026-01-05T10:00:00.123+0000"
    assert encoder(SF, W.DATE)(date(2026, 3, 31)) == "2026-03-31"
    assert encoder(SF, W.NUMBER)(Decimal("1000.50")) == 1000.5
    assert encoder(SF, W.NUMBER)(Decimal("1000")) == 1000
    assert isinstance(encoder(SF, W.NUMBER)(Decimal("1000")), int)
    assert encoder(SF, W.BOOLEAN)(True) is True
    assert encoder(SF, W.MULTIPICKLIST)(["ANALYTICS", "TRAINING"]) == "ANALYTICS;TRAINING"
    assert encoder(SF, W.MULTIPICKLIST)([]) is None
    assert encoder(SF, W.STRING)(None) is None


def test_hubspot_wire_forms_are_strings() -> None:
    assert encoder(HS, W.NUMBER)(Decimal("1000.50")) == "1000.5"
    assert encoder(HS, W.NUMBER)(Decimal("1E+3")) == "1000"
    assert encoder(HS, W.INTEGER)(42) == "42"
    assert encoder(HS, W.BOOLEAN)(False) == "false"
    assert encoder(HS, W.DATETIME)(datetime(2026, 3, 31, tzinfo=UTC)) == "2026-03-31T00:00:00Z"
    assert (
        encoder(HS, W.DATETIME)(datetime(2026, 3, 31, 0, 0, 0, 250000, tzinfo=UTC))
        == "2026-03-31T00:00:00.250Z"
    )
    assert encoder(HS, W.MULTIPICKLIST)(["A", "B"]) == "A;B"
    # HubSpot clears a property with an empty string.
    for wire in W:
        assert encoder(HS, wire)(None) == ""


@pytest.mark.parametrize(
    "raw",
    ["2026-01-05T10:00:00.000+0000", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00+01:00"],
)
def test_datetimes_decode_to_the_same_instant(raw: str) -> None:
    value = decoder(SF, W.DATETIME)(raw)
    assert value == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert value.tzinfo is UTC


def test_hubspot_reads_epoch_milliseconds_and_empty_strings() -> None:
    assert decoder(HS, W.DATETIME)("1774915200000") == datetime(2026, 3, 31, tzinfo=UTC)
    assert decoder(HS, W.DATE)("1774915200000") == date(2026, 3, 31)
    assert decoder(HS, W.DATE)("2026-03-31T00:00:00.000Z") == date(2026, 3, 31)
    for wire in W:
        assert decoder(HS, wire)("") in (None, [])
    assert decoder(HS, W.NUMBER)("1000.50") == Decimal("1000.50")
    assert decoder(HS, W.BOOLEAN)("TRUE") is True


def test_naive_wire_datetimes_take_the_field_zone() -> None:
    berlin = timezone(timedelta(hours=2))
    assert decoder(SF, W.DATETIME, berlin)("2026-06-01T12:00:00") == datetime(
        2026, 6, 1, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("connector", "wire", "raw", "fragment"),
    [
        (SF, W.NUMBER, True, "expected a number, got True"),
        (SF, W.NUMBER, "12,5", "expected a number"),
        (SF, W.INTEGER, 12.5, "whole number"),
        (SF, W.BOOLEAN, "yes", "true or false"),
        (SF, W.STRING, 12, "expected text"),
        (SF, W.DATE, "31/03/2026", "a date (YYYY-MM-DD)"),
        (HS, W.DATETIME, "next tuesday", "ISO 8601"),
        (HS, W.MULTIPICKLIST, {"a": 1}, "';'-separated"),
        (SF, W.NUMBER, "NaN", "expected a number"),
    ],
)
def test_bad_wire_values_are_refused_with_a_reason(
    connector: Connector, wire: WireType, raw: object, fragment: str
) -> None:
    with pytest.raises(WireError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        decoder(connector, wire)(raw)


def test_encoders_refuse_wrong_python_types_and_separator_in_items() -> None:
    with pytest.raises(WireError, match="a number"):
        encoder(HS, W.NUMBER)("12")
    with pytest.raises(WireError, match="cannot contain ';'"):
        encoder(SF, W.MULTIPICKLIST)(["A;B"])
    with pytest.raises(WireError, match="aware"):
        encoder(SF, W.DATETIME)(datetime(2026, 1, 1))


def test_value_map_keys_are_read_as_their_wire_type() -> None:
    assert parse_text(W.BOOLEAN, "true") is True
    assert parse_text(W.NUMBER, "1.50") == Decimal("1.5")
    assert parse_text(W.PICKLIST, "Closed Won") == "Closed Won"
    with pytest.raises(WireError, match="do not apply"):
        parse_text(W.DATE, "2026-01-01")
