"""How much a compiled mapping costs per record, against the model validation it feeds.

Translates a 30-field Salesforce opportunity record inbound (wire -> flat canonical values) and
outbound (flat canonical values -> wire) with the shipped vendor mapping plus five contact
fields, and times bare ``Opportunity.model_validate`` on the same deals in the same run. Prints
one JSON object; ``ratio`` is (inbound + outbound) / model_validate, and the goal is <= 2.

Size: CHANNEL_SYNC_BENCH_RECORDS (default 2000 distinct records, each pass timed 5 times, best
kept). Run from the repository root: ``.venv/bin/python benchmarks/mapping_translate.py``.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from channel_sync.config import load_document
from channel_sync.mapping import MappingSpec, compile_mapping
from channel_sync.mapping.flat import to_nested
from channel_sync.model import Opportunity

RECORDS = int(os.environ.get("CHANNEL_SYNC_BENCH_RECORDS", "2000"))
SEED = int(os.environ.get("CHANNEL_SYNC_BENCH_SEED", "20260105"))
REPEATS = 5
MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "vendor-salesforce-opportunity.yaml"

EXTRA_FIELDS = [
    {"canonical": f"partner_contact.{leaf}", "remote": f"Partner_Contact_{name}__c",
     "type": "string", "authority": "partner"}
    for leaf, name in (
        ("first_name", "First_Name"),
        ("last_name", "Last_Name"),
        ("phone", "Phone"),
        ("business_title", "Title"),
    )
] + [{"canonical": "vendor_owner.email", "remote": "Vendor_Owner_Email__c", "type": "string",
      "authority": "vendor"}]
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review",
          "Closed Won", "Closed Lost"]
PRODUCTS = ["CLOUD-CORE", "CLOUD-PLUS", "SECURITY-SUITE", "ANALYTICS", "TRAINING"]


def build_mapping() -> Any:
    data = load_document(MAPPING).data
    data["fields"] = [f for f in data["fields"] if f.get("direction") != "outbound"]
    data["fields"] += EXTRA_FIELDS
    data["examples"] = []
    return compile_mapping(MappingSpec.model_validate(data))


def remote_record(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "Id": f"006Dn{index:013d}",
        "Channel_Sync_Id__c": f"cs_bench_{index}",
        "SystemModstamp": "2026-02-10T09:30:00.000+0000",
        "IsDeleted": False,
        "Name": f"Deal {index} - expansion",
        "Description": "Three regions, phased roll-out." * rng.randint(1, 3),
        "Customer_Name__c": f"Customer {rng.randint(1, 10_000)} GmbH",
        "Customer_Domain__c": f"customer{rng.randint(1, 10_000)}.example",
        "Customer_Country__c": rng.choice(["DE", "US", "GB", "FR"]),
        "Customer_Industry__c": "Manufacturing",
        "Partner_Contact_Email__c": f"rep{index}@partner.example",
        "Partner_Contact_First_Name__c": "Jana",
        "Partner_Contact_Last_Name__c": "Berg",
        "Partner_Contact_Phone__c": "+49 30 1234567",
        "Partner_Contact_Title__c": "Account Executive",
        "Vendor_Owner_Email__c": "owner@vendor.example",
        "StageName": rng.choice(STAGES),
        "Amount": round(rng.uniform(1000, 500_000), 2),
        "CurrencyIsoCode": rng.choice(["USD", "EUR", "GBP"]),
        "CloseDate": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "Products__c": ";".join(sorted(rng.sample(PRODUCTS, rng.randint(1, 3)))),
        "Probability": rng.choice([10, 20, 50, 75, 90]),
        "Registration_Status__c": rng.choice(["Submitted", "Under Review", "Approved"]),
        "Registration_Number__c": f"DR-2026-{index:05d}",
        "Registration_Decided__c": "2026-01-07T15:20:00.000+0000",
        "Registration_Expires__c": "2026-07-06T00:00:00.000+0000",
        "Registration_Decision_Reason__c": "Net-new logo, no overlap.",
        "Channel_Conflict__c": rng.random() < 0.1,
        "Channel_Conflict_Evidence__c": None,
        "Co_Sell_Status__c": rng.choice(["None", "Requested", "Engaged"]),
        "Co_Sell_Vendor_Rep__c": "sam.rivera@vendor.example",
        "NextStep": "Joint executive briefing",
        "Co_Sell_Notes__c": "Security team wants a SOC 2 walkthrough.",
    }


def best_of(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    rng = random.Random(SEED)
    mapping = build_mapping()
    records = [remote_record(rng, i) for i in range(RECORDS)]
    flats = [mapping.inbound(r) for r in records]
    nested = [to_nested(f) for f in flats]
    for data in nested[:50]:  # the data really is a valid opportunity
        Opportunity.model_validate(data)
    inbound = mapping.inbound
    outbound = mapping.outbound
    validate = Opportunity.model_validate
    t_in = best_of(lambda: [inbound(r) for r in records])
    t_out = best_of(lambda: [outbound(f) for f in flats])
    t_model = best_of(lambda: [validate(d) for d in nested])
    print(
        json.dumps(
            {
                "benchmark": "mapping_translate",
                "records": RECORDS,
                "seed": SEED,
                "canonical_fields_per_record": len(flats[0]),
                "remote_fields_per_record": len(records[0]),
                "inbound_records_per_s": round(RECORDS / t_in),
                "outbound_records_per_s": round(RECORDS / t_out),
                "in_plus_out_records_per_s": round(RECORDS / (t_in + t_out)),
                "model_validate_records_per_s": round(RECORDS / t_model),
                "ratio": round((t_in + t_out) / t_model, 3),
                "goal_ratio_max": 2,
            }
        )
    )


if __name__ == "__main__":
    main()
