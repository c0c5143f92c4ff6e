from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from channel_sync.errors import RecordError
from channel_sync.mapping import TranslationError
from channel_sync.model import CoSellStatus, RegistrationStatus, Stage

from .helpers import compiled, with_fields

STAGES = {
    "canonical": "stage",
    "remote": "StageName",
    "type": "picklist",
    "authority": "shared",
    "value_map": {
        "values": {
            "Prospecting": "prospecting",
            "Qualification": "qualification",
            "Needs Analysis": "qualification",
            "Closed Won": "closed_won",
        },
        "outbound": {"qualification": "Qualification"},
    },
}
AMOUNT = {"canonical": "amount", "remote": "Amount", "type": "number", "scale": 2,
          "authority": "shared"}


def test_inbound_reads_only_the_fields_present_and_the_canonical_id() -> None:
    mapping = compiled(with_fields(STAGES, AMOUNT))
    assert mapping.inbound({"Channel_Sync_Id__c": "cs_1", "Name": "Acme", "Amount": 12.5}) == {
        "id": "cs_1",
        "name": "Acme",
        "amount": Decimal("12.50"),
    }
    # A record without a canonical id yet (new in the partner CRM) gets none.
    assert mapping.inbound({"Channel_Sync_Id__c": None, "StageName": "Prospecting"}) == {
        "stage": Stage.PROSPECTING
    }


def test_outbound_writes_only_the_paths_given_plus_the_key() -> None:
    mapping = compiled(with_fields(STAGES, AMOUNT))
    assert mapping.outbound({"id": "cs_1", "amount": Decimal("10.10")}) == {
        "Channel_Sync_Id__c": "cs_1",
        "Amount": 10.1,
    }
    assert mapping.outbound({"stage": Stage.CLOSED_WON, "name": None}) == {
        "StageName": "Closed Won",
        "Name": None,
    }


def test_several_remote_values_read_as_one_and_write_back_the_declared_choice() -> None:
    mapping = compiled(with_fields(STAGES))
    assert mapping.inbound({"StageName": "Needs Analysis"})["stage"] is Stage.QUALIFICATION
    assert mapping.outbound({"stage": "qualification"}) == {"StageName": "Qualification"}


def test_unmapped_value_is_a_record_error_naming_the_field() -> None:
    mapping = compiled(with_fields(STAGES))
    with pytest.raises(TranslationError) as caught:
        mapping.inbound({"StageName": "Closed Lost"})
    assert isinstance(caught.value, RecordError)
    assert caught.value.remote == "StageName"
    assert caught.value.canonical == "stage"
    assert "'Closed Lost' is not in the value map" in str(caught.value)
    with pytest.raises(TranslationError, match="stage -> StageName: 'closed_lost' has no remote"):
        mapping.outbound({"stage": Stage.CLOSED_LOST})


def test_unmapped_policies_default_and_pass() -> None:
    defaulting = {
        "canonical": "stage", "remote": "StageName", "type": "picklist",
        "direction": "inbound", "authority": "shared",
        "value_map": {"values": {"Won": "closed_won"}, "unmapped": "default",
                      "default": "prospecting"},
    }
    passing = {
        "canonical": "co_sell.status", "remote": "Co_Sell_Status__c", "type": "picklist",
        "authority": "vendor",
        "value_map": {"values": {"None": "none"}, "unmapped": "pass"},
    }
    mapping = compiled(with_fields(defaulting, passing))
    record = mapping.inbound({"StageName": "Something Else", "Co_Sell_Status__c": "engaged"})
    assert record["stage"] is Stage.PROSPECTING
    assert record["co_sell.status"] is CoSellStatus.ENGAGED
    assert mapping.outbound({"co_sell.status": CoSellStatus.NONE}) == {"Co_Sell_Status__c": "None"}
    assert mapping.outbound({"co_sell.status": CoSellStatus.DECLINED}) == {
        "Co_Sell_Status__c": "declined"
    }
    with pytest.raises(TranslationError, match="is not one of"):
        mapping.inbound({"Co_Sell_Status__c": "maybe"})


@pytest.mark.parametrize(("rounding", "expected"), [("half_even", "2.12"), ("half_up", "2.13"),
                                                    ("down", "2.12")])
def test_scale_rounds_as_declared(rounding: str, expected: str) -> None:
    mapping = compiled(with_fields({**AMOUNT, "rounding": rounding}))
    assert mapping.inbound({"Amount": "2.125"})["amount"] == Decimal(expected)


def test_currency_codes_are_normalized_and_limited() -> None:
    field = {"canonical": "currency_code", "remote": "CurrencyIsoCode", "type": "picklist",
             "authority": "shared", "currency": {"allowed": ["USD", "EUR"]}}
    mapping = compiled(with_fields(field))
    assert mapping.inbound({"CurrencyIsoCode": " eur "})["currency_code"] == "EUR"
    with pytest.raises(TranslationError, match="JPY is not one of the allowed currencies"):
        mapping.inbound({"CurrencyIsoCode": "JPY"})
    with pytest.raises(TranslationError, match="not an ISO 4217"):
        mapping.outbound({"currency_code": "XXY"})


def test_close_date_held_as_hubspot_datetime_is_taken_in_the_field_zone() -> None:
    field = {"canonical": "target_close_date", "remote": "closedate", "type": "datetime",
             "timezone": "Europe/Berlin", "authority": "shared"}
    mapping = compiled(with_fields(field, connector="hubspot"))
    # Midnight in Berlin (summer time) is 22:00 UTC the day before.
    assert mapping.inbound({"closedate": "2026-06-29T22:00:00Z"})["target_close_date"] == date(
        2026, 6, 30
    )
    assert mapping.outbound({"target_close_date": date(2026, 6, 30)}) == {
        "closedate": "2026-06-29T22:00:00Z"
    }


def test_dates_in_text_fields_use_the_format_and_zone() -> None:
    day = {"canonical": "target_close_date", "remote": "Close__c", "type": "string",
           "format": "%d/%m/%Y", "authority": "shared"}
    moment = {"canonical": "registration.decided_at", "remote": "Decided__c", "type": "string",
              "format": "%Y-%m-%d %H:%M", "timezone": "America/New_York", "authority": "vendor"}
    mapping = compiled(with_fields(day, moment))
    values = mapping.inbound({"Close__c": "31/03/2026", "Decided__c": "2026-01-05 09:30"})
    assert values["target_close_date"] == date(2026, 3, 31)
    assert values["registration.decided_at"] == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert mapping.outbound(values) == {"Close__c": "31/03/2026", "Decided__c": "2026-01-05 09:30"}


def test_defaults_trim_and_constants() -> None:
    fields = (
        {"canonical": "co_sell.status", "remote": "Co_Sell_Status__c", "type": "picklist",
         "authority": "vendor", "default": "none", "value_map": {"values": {
             "None": "none", "Requested": "requested"}}},
        {"canonical": "customer.industry", "remote": "Industry", "type": "string",
         "trim": True, "direction": "inbound", "authority": "partner"},
        {"canonical": "currency_code", "constant": "EUR", "direction": "inbound",
         "authority": "vendor"},
        {"remote": "Type", "type": "picklist", "constant": "Partner Deal",
         "direction": "outbound"},
    )
    mapping = compiled(with_fields(*fields))
    assert mapping.inbound({"Co_Sell_Status__c": None, "Industry": "  Retail "}) == {
        "co_sell.status": CoSellStatus.NONE,
        "customer.industry": "Retail",
        "currency_code": "EUR",
    }
    assert mapping.outbound({"co_sell.status": None}) == {
        "Co_Sell_Status__c": "None",
        "Type": "Partner Deal",
    }


def test_partner_id_is_written_but_never_read() -> None:
    field = {"canonical": "partner_id", "remote": "Partner_Account__c", "type": "string",
             "direction": "outbound", "authority": "partner"}
    mapping = compiled(with_fields(field))
    assert "partner_id" not in mapping.inbound({"Partner_Account__c": "partner-b", "Name": "x"})
    assert mapping.outbound({"partner_id": "partner-a"}) == {"Partner_Account__c": "partner-a"}


def test_register_flag_and_status_split_by_direction() -> None:
    flag = {"canonical": "registration.status", "remote": "channel_sync_register",
            "type": "boolean", "direction": "inbound", "authority": "partner",
            "value_map": {"values": {"true": "submitted", "false": "withdrawn"}}}
    status = {"canonical": "registration.status", "remote": "channel_sync_registration_status",
              "type": "picklist", "direction": "outbound", "authority": "vendor"}
    mapping = compiled(with_fields(flag, status, connector="hubspot"))
    got = mapping.inbound({"channel_sync_register": "true"})
    assert got["registration.status"] is RegistrationStatus.SUBMITTED
    assert mapping.outbound({"registration.status": RegistrationStatus.APPROVED}) == {
        "channel_sync_registration_status": "approved"
    }


def test_record_helpers_for_connectors() -> None:
    mapping = compiled(with_fields(STAGES, AMOUNT))
    record = {"Id": "006A", "Channel_Sync_Id__c": "cs_9", "IsDeleted": True,
              "SystemModstamp": "2026-01-05T10:00:00.000+0000"}
    assert mapping.remote_id(record) == "006A"
    assert mapping.canonical_id(record) == "cs_9"
    assert mapping.is_deleted(record)
    assert mapping.modstamp(record) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    with pytest.raises(TranslationError, match="no SystemModstamp"):
        mapping.modstamp({"Id": "006B"})
    assert mapping.read_fields == (
        "Id", "Channel_Sync_Id__c", "SystemModstamp", "IsDeleted", "Name", "StageName", "Amount"
    )
    assert mapping.write_fields == ("Channel_Sync_Id__c", "Name", "StageName", "Amount")
    stage = mapping.codecs_for("stage")[0]
    assert stage.authority is not None
    assert stage.authority.value == "shared"
    assert mapping.codecs_for("stage")[0].on_conflict is not None


def test_opportunity_in_and_out() -> None:
    mapping = compiled(with_fields(STAGES, AMOUNT))
    opp = mapping.to_opportunity(
        {"Channel_Sync_Id__c": "cs_1", "Name": " Acme ", "StageName": "Closed Won", "Amount": 5}
    )
    assert (opp.id, opp.name, opp.stage, opp.amount) == ("cs_1", "Acme", Stage.CLOSED_WON,
                                                         Decimal("5.00"))
    assert mapping.from_opportunity(opp) == {
        "Channel_Sync_Id__c": "cs_1", "Name": "Acme", "StageName": "Closed Won", "Amount": 5,
    }
