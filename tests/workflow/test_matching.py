"""The customer matcher, the conflict search and what each audience is told.

The randomized comparison of the index against brute force takes its size from
CHANNEL_SYNC_TEST_MATCH_RECORDS (default 600 deals, 60 queries); CHANNEL_SYNC_TEST_SEED fixes
the seed, which the test prints.
"""

from __future__ import annotations

import os
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_sync.errors import ConfigurationError
from channel_sync.model import Customer, Opportunity
from channel_sync.workflow.matching import (
    DEFAULT_THRESHOLD,
    EMPTY_ALIASES,
    PARTNER_REVIEW_MESSAGE,
    AliasFamily,
    AliasTable,
    ChannelConflict,
    CustomerIndex,
    CustomerKey,
    CustomerMatcher,
    CustomerRecord,
    MatchReason,
    conflict_evidence,
    find_conflicts,
    partner_safe_summary,
)

RECORDS = int(os.environ.get("CHANNEL_SYNC_TEST_MATCH_RECORDS", "600"))
matcher = CustomerMatcher()


def seed_for(test: str) -> int:
    default = str(random.SystemRandom().randrange(2**32))
    seed = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", default))
    print(f"{test}: CHANNEL_SYNC_TEST_SEED={seed}")
    return seed


def record(
    canonical_id: str,
    partner_id: str | None,
    name: str | None,
    domain: str | None = None,
    products: tuple[str, ...] = ("CLOUD-CORE",),
) -> CustomerRecord:
    return CustomerRecord(canonical_id, partner_id, name, domain, frozenset(products))


def test_a_shared_registrable_domain_decides_whatever_the_names() -> None:
    result = matcher.compare("Alphabet", "google.com", "Google LLC", "https://www.google.com/")
    assert (result.match, result.score, result.reason) == (True, 1.0, MatchReason.DOMAIN)
    assert result.evidence == "same web domain google.com"
    assert matcher.compare("Acme EU", "eu.acme.com", "Acme", "acme.com").reason is (
        MatchReason.DOMAIN
    )


def test_a_shared_free_mail_domain_is_not_evidence() -> None:
    result = matcher.compare("Acme Dental", "gmail.com", "Bravo Plumbing", "gmail.com")
    assert not result.match
    assert result.reason is MatchReason.NONE
    assert "gmail.com is a free mail domain" in result.evidence


def test_different_tenants_of_a_shared_suffix_are_different_customers() -> None:
    assert not matcher.compare("Contoso", "contoso.co.uk", "Fabrikam", "fabrikam.co.uk").match
    shops = matcher.compare("Maple", "maple.myshopify.com", "Oak", "oak.myshopify.com")
    assert not shops.match


def test_names_decide_when_domains_differ_or_are_missing() -> None:
    result = matcher.compare("Orange S.A.", "orange.com", "Orange", "orange.fr")
    assert (result.match, result.reason) == (True, MatchReason.NAME)
    assert result.evidence == (
        'company names "Orange S.A." and "Orange" match: both read as "orange"'
    )
    miss = matcher.compare("Acme Analytics", None, "Acme Logistics", "")
    assert (miss.match, miss.reason) == (False, MatchReason.NONE)
    assert "below the 0.87 threshold" in miss.evidence


def test_the_threshold_is_configurable_and_checked() -> None:
    assert CustomerMatcher().threshold == DEFAULT_THRESHOLD
    strict = CustomerMatcher(0.99)
    lenient = CustomerMatcher(0.45)
    assert not strict.compare("Goldman Sachs", None, "Goldman Sacks", None).match
    assert lenient.compare("Acme", None, "Acme Analytics", None).match
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ConfigurationError, match="threshold"):
            CustomerMatcher(bad)


def test_evidence_quotes_names_safely() -> None:
    long_name = "Acme " + "x" * 300
    result = matcher.compare(long_name + "\n\x1b[31m", None, "Zeta", None)
    assert "\x1b" not in result.evidence
    assert "\n" not in result.evidence
    assert len(result.evidence) < 300


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + " .&-'é", max_size=30),
    st.text(alphabet=string.ascii_letters + " .&-'é", max_size=30),
)
def test_matching_is_symmetric(a: str, b: str) -> None:
    one = matcher.compare(a, None, b, None)
    other = matcher.compare(b, None, a, None)
    assert (one.match, one.score) == (other.match, other.score)
    assert 0.0 <= one.score <= 1.0


def test_records_come_from_canonical_deals() -> None:
    deal = Opportunity(
        id="cs_1",
        partner_id="partner-a",
        name="Renewal",
        customer=Customer(company_name="Acme Corp", domain="https://acme.com/"),
        products=["B", "A"],
    )
    assert CustomerRecord.from_opportunity(deal) == CustomerRecord(
        "cs_1", "partner-a", "Acme Corp", "acme.com", frozenset({"A", "B"})
    )


EXISTING = [
    record("v1", None, "ACME Corporation", "acme.com"),
    record("p1", "partner-b", "Acme Corp.", None, ("CLOUD-CORE", "TRAINING")),
    record("p2", "partner-a", "Acme Corp", "acme.com"),  # the candidate's own partner
    record("p3", "partner-c", "Acme Logistics", "acmelogistics.com"),
    record("p4", "partner-d", "Globex", "eu.acme.com", ("SECURITY",)),
    record("p5", "partner-e", "ACME", None, ()),
]
CANDIDATE = record("new", "partner-a", "Acme Inc", "https://www.acme.com", ("cloud-core",))


def test_find_conflicts_reports_other_owners_of_the_customer_best_first() -> None:
    conflicts = find_conflicts(CANDIDATE, EXISTING)
    assert [c.existing.canonical_id for c in conflicts] == ["v1", "p1", "p5"]
    vendor, partner, unknown = conflicts
    assert vendor.vendor_direct
    assert (vendor.result.reason, vendor.shared_products) == (MatchReason.DOMAIN, {"cloud-core"})
    assert partner.result.reason is MatchReason.NAME
    assert (unknown.products_known, unknown.shared_products) == (False, frozenset())


def test_product_overlap_can_be_ignored() -> None:
    ids = {c.existing.canonical_id for c in find_conflicts(CANDIDATE, EXISTING, False)}
    assert ids == {"v1", "p1", "p4", "p5"}


def test_vendor_direct_candidates_only_clash_with_partners() -> None:
    candidate = record("vnew", None, "Acme", "acme.com")
    ids = [c.existing.canonical_id for c in find_conflicts(candidate, EXISTING)]
    assert "v1" not in ids
    assert {"p1", "p2"} <= set(ids)


def test_the_candidate_never_conflicts_with_itself() -> None:
    itself = record("new", "partner-z", "Acme Inc", "acme.com")
    assert find_conflicts(CANDIDATE, [itself]) == []


def test_the_index_finds_acronyms_in_both_directions() -> None:
    index = CustomerIndex(
        [record("a", None, "International Business Machines Corp"), record("b", None, "KPMG")]
    )
    assert [r.canonical_id for r, _ in index.matches("IBM", None)] == ["a"]
    assert [r.canonical_id for r, _ in index.matches("Klynveld Peat Marwick Goerdeler", None)] == [
        "b"
    ]
    # Two-letter initials score 0.85, below the default threshold (names alone, no aliases).
    index_records = [record("a", None, "General Electric")]
    strict = CustomerIndex(index_records, CustomerMatcher(aliases=EMPTY_ALIASES))
    assert [r.canonical_id for r, _ in strict.matches("GE", None)] == []
    lenient = CustomerIndex(index_records, CustomerMatcher(0.85, EMPTY_ALIASES))
    assert [r.canonical_id for r, _ in lenient.matches("GE", None)] == ["a"]
    # The built-in aliases list "GE" under General Electric, so it matches at any threshold.
    listed = CustomerIndex(index_records)
    assert [(r.canonical_id, m.reason) for r, m in listed.matches("GE", None)] == [
        ("a", MatchReason.ALIAS)
    ]


def conflict(canonical_id: str, partner_id: str | None, name: str) -> ChannelConflict:
    existing = record(canonical_id, partner_id, name)
    result = matcher.compare("Acme Corp", None, name, None)
    return ChannelConflict(existing, result, frozenset({"CLOUD-CORE"}), True)


def test_channel_manager_evidence_names_each_deal_and_fits_the_field() -> None:
    conflicts = [conflict("v9", None, "ACME Corp."), conflict("p9", "partner-b", "Acme")]
    text = conflict_evidence(conflicts)
    assert text.splitlines() == [
        "Possible channel conflict with 2 open deals:",
        (
            '- vendor-direct opportunity v9: company names "Acme Corp" and "ACME Corp." match: '
            'both read as "acme" [score 1.00]; products in common: CLOUD-CORE'
        ),
        (
            '- registration p9 of partner partner-b: company names "Acme Corp" and "Acme" match: '
            'both read as "acme" [score 1.00]; products in common: CLOUD-CORE'
        ),
    ]
    many = [conflict(f"p{i}", f"partner-{i}", "Acme " + "y" * 70) for i in range(200)]
    long_text = conflict_evidence(many)
    assert len(long_text) <= 4000
    assert long_text.splitlines()[-1].startswith("- and ")
    assert conflict_evidence([]) == ""


def test_the_partner_is_told_only_that_review_is_pending() -> None:
    secret = [conflict("p7", "partner-secret", "Acme")]
    vendor = [conflict("v7", None, "Acme"), *secret]
    assert partner_safe_summary(secret) == partner_safe_summary(vendor) == PARTNER_REVIEW_MESSAGE
    for text in ("partner-secret", "p7", "v7", "Acme", "vendor-direct"):
        assert text not in PARTNER_REVIEW_MESSAGE
    assert partner_safe_summary([]) is None


# -- the index against brute force ------------------------------------------------------------

STEMS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
         "cyberdyne", "soylent", "massive", "dynamic", "vandelay", "pied", "piper", "oscorp"]
WORDS = ["analytics", "logistics", "systems", "solutions", "foods", "bank", "energy", "health",
         "software", "capital", "media", "labs", "industries", "motors"]
SUFFIXES = ["", " Inc", " Inc.", " LLC", " GmbH", " S.A.", " plc", " Group", " Holdings",
            " International", " Corporation", " Co., Ltd."]


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i:]


def random_name(rng: random.Random) -> str:
    words = [rng.choice(STEMS), *rng.sample(WORDS, rng.randrange(0, 3))]
    if rng.random() < 0.1:
        return "".join(w[0] for w in words).upper() if len(words) > 1 else words[0].upper()
    if rng.random() < 0.3:
        index = rng.randrange(len(words))
        words[index] = typo(rng, words[index])
    if rng.random() < 0.1:
        words.append(rng.choice(["II", "III", "7"]))
    text = " ".join(w.capitalize() if rng.random() < 0.7 else w.upper() for w in words)
    return text + rng.choice(SUFFIXES)


def random_domain(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.5:
        return None
    if roll < 0.6:
        return "gmail.com"
    return rng.choice(["", "eu.", "www."]) + rng.choice(STEMS) + rng.choice([".com", ".co.uk"])


#: Families over the random names' words: listed by name (with and without trailing words), by
#: initials (which sets the acronym reading aside for other names) and by domain.
RANDOM_FAMILIES = AliasTable(
    [
        AliasFamily("Globex", ("Initech Systems", "GBX"), ("hooli.com",)),
        AliasFamily("Umbrella Group", ("Stark Industries", "Wayne"), ("wonka.co.uk",)),
        AliasFamily("Tyrell", ("Cyberdyne Labs", "AS", "SS", "ASA", "SSS", "WSA"), ()),
    ]
)


@pytest.mark.parametrize("aliases", [None, RANDOM_FAMILIES], ids=["built-in", "random-families"])
def test_the_index_returns_exactly_what_brute_force_does(aliases: AliasTable | None) -> None:
    rng = random.Random(seed_for("index against brute force"))
    records = [
        record(f"r{i}", f"partner-{rng.randrange(5)}", random_name(rng), random_domain(rng))
        for i in range(RECORDS)
    ]
    for threshold in (DEFAULT_THRESHOLD, 0.8, 0.95):
        strictness = CustomerMatcher(threshold, aliases)
        index = CustomerIndex(records, strictness)
        keys = [CustomerKey.of(r.company_name, r.domain) for r in records]
        for _ in range(max(1, RECORDS // 10)):
            name, domain = random_name(rng), random_domain(rng)
            query = CustomerKey.of(name, domain)
            expected = {
                r.canonical_id
                for r, key in zip(records, keys, strict=True)
                if strictness.compare_keys(query, key).match
            }
            found = {r.canonical_id for r, _ in index.matches(name, domain)}
            assert found == expected, (threshold, name, domain)
