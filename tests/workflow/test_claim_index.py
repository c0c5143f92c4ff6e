"""What the conflict index keeps per open claim, and that keeping little loses no match.

The index follows every open claim of the hub, so its size per claim sets the engine's memory
in a large backfill. It keeps each deal's record and search strings, with a bare position under
a lookup key only one deal has; the customer key is prepared again for each candidate.
"""

from __future__ import annotations

import gc
import random
import string
import tracemalloc

from channel_sync.model import Opportunity
from channel_sync.sync.claims import NO_PRODUCTS, Claim
from channel_sync.workflow.matching import (
    AliasFamily,
    AliasTable,
    CustomerIndex,
    CustomerMatcher,
    CustomerRecord,
    MatchReason,
)

#: Bytes the index may keep per deal, beside the deal's record (about 300 on CPython 3.11).
BUDGET_PER_DEAL = 600


def record(canonical_id: str, name: str | None, domain: str | None = None) -> CustomerRecord:
    return CustomerRecord(canonical_id, f"partner-{canonical_id}", name, domain)


def found(index: CustomerIndex, name: str | None, domain: str | None) -> list[str]:
    return [r.canonical_id for r, _ in index.matches(name, domain)]


def test_one_deal_under_a_key_and_then_several_are_all_found() -> None:
    index = CustomerIndex([record("a", "Acme Logistics Inc.", "acme-logistics.com")])
    assert found(index, "ACME Logistics", None) == ["a"]
    assert found(index, None, "www.acme-logistics.com") == ["a"]
    index.add(record("b", "Acme Logistics GmbH", "acme-logistics.com"))
    index.add(record("c", "Globex", "acme-logistics.com"))
    index.add(record("d", "Acme Logistics", None))
    assert found(index, "ACME Logistics", None) == ["a", "b", "d"]
    assert found(index, None, "acme-logistics.com") == ["a", "b", "c"]
    assert len(index) == 4


def test_acronyms_and_initials_shared_by_several_deals() -> None:
    index = CustomerIndex([
        record("a", "International Business Machines Corp"),
        record("b", "International Business Machines"),
        record("c", "KPMG"),
        record("d", "KPMG AG"),
    ])
    assert found(index, "IBM", None) == ["a", "b"]
    assert found(index, "Klynveld Peat Marwick Goerdeler", None) == ["c", "d"]


def test_deals_of_one_alias_family_are_found_together() -> None:
    families = AliasTable([AliasFamily("Globex", ("Initech Systems", "GBX"), ("hooli.com",))])
    index = CustomerIndex(
        [record("a", "Initech Systems"), record("b", "Unrelated Name", "hooli.com"),
         record("c", "Initech Systems Inc")],
        CustomerMatcher(aliases=families),
    )
    matches = index.matches("GBX", None)
    assert [r.canonical_id for r, _ in matches] == ["a", "b", "c"]
    assert {m.reason for _, m in matches} == {MatchReason.ALIAS}


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))


def test_the_index_keeps_little_per_deal() -> None:
    rng = random.Random(20261127)
    records = [
        record(f"cs_{i:06d}", f"{_word(rng).title()} {_word(rng).title()} Inc",
               f"{_word(rng)}.com")
        for i in range(2000)
    ]
    matcher = CustomerMatcher()
    CustomerIndex(records[:10], matcher)  # the matcher's tables and the regexes, once
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = CustomerIndex(records, matcher)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(index) == len(records)
    assert kept / len(records) < BUDGET_PER_DEAL


def _deal(canonical_id: str, products: list[str]) -> Opportunity:
    return Opportunity.model_validate({
        "id": canonical_id, "partner_id": "partner-a", "name": "Deal", "products": products,
        "customer": {"company_name": "Acme Corp", "domain": "acme.example"},
        "registration": {"status": "submitted"},
    })


def test_claims_listing_the_same_products_share_one_set() -> None:
    first = Claim.summary(_deal("cs_1", ["CLOUD-CORE", "TRAINING"]))
    second = Claim.summary(_deal("cs_2", ["TRAINING", "CLOUD-CORE"]))
    other = Claim.summary(_deal("cs_3", ["CLOUD-CORE"]))
    assert first.products == {"CLOUD-CORE", "TRAINING"}
    assert first.products is second.products
    assert other.products == {"CLOUD-CORE"}
    assert Claim.summary(_deal("cs_4", [])).products is NO_PRODUCTS
    assert CustomerRecord.from_claim(first).products is first.products
