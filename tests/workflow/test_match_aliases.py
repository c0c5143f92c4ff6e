"""Customer aliases: one family is one customer, two families are two, the project file wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from channel_sync.model import Opportunity
from channel_sync.workflow.channel_conflicts import ChannelConflictCheck
from channel_sync.workflow.match_aliases import combine
from channel_sync.workflow.match_pairs import read_pairs
from channel_sync.workflow.matching import (
    EMPTY_ALIASES,
    AliasFamily,
    AliasTable,
    CustomerIndex,
    CustomerKey,
    CustomerMatcher,
    CustomerRecord,
    MatchReason,
    alias_table,
    builtin_aliases,
)

from .workflow_helpers import deal, partner_ctx

PAIRS_FILE = Path(__file__).resolve().parent.parent / "data" / "company_pairs.csv"
builtin = CustomerMatcher()
names_only = CustomerMatcher(aliases=EMPTY_ALIASES)


def listed(matcher: CustomerMatcher, name: str) -> bool:
    """Whether the matcher's alias table lists a customer of this name."""
    return bool(matcher.families(CustomerKey.of(name, None)))


@pytest.mark.parametrize(
    ("a", "b", "family"),
    [
        ("Facebook", "Meta Platforms, Inc.", "Meta Platforms"),
        ("GSK plc", "GlaxoSmithKline", "GSK"),
        ("EY", "Ernst & Young LLP", "EY"),
        ("3M Company", "Minnesota Mining and Manufacturing", "3M"),
        ("Petrobras", "Petróleo Brasileiro S.A.", "Petrobras"),
        ("Chase Bank", "JPMorgan Chase & Co.", "JPMorgan Chase"),
        # Legal forms and trailing words such as "Global" or "International" may be added.
        ("Toyota Motor Global", "Toyota Jidosha K.K.", "Toyota"),
        ("Deutsche Post DHL Group", "DHL International GmbH", "DHL Group"),
    ],
)
def test_names_of_one_family_are_one_customer_both_ways(a: str, b: str, family: str) -> None:
    assert not names_only.compare(a, None, b, None).match
    for left, right in ((a, b), (b, a)):
        result = builtin.compare(left, None, right, None)
        assert (result.match, result.score, result.reason) == (True, 1.0, MatchReason.ALIAS)
        assert result.evidence.startswith(f"alias: {family} (")


def test_a_listed_domain_puts_a_customer_in_its_family() -> None:
    result = builtin.compare("Instagram Sales EMEA", "https://www.facebook.com/biz", "Meta", None)
    assert (result.match, result.reason) == (True, MatchReason.ALIAS)
    assert "facebook.com" in result.evidence
    assert builtin.compare("Acme Widgets", "acme.example", "Meta", None).match is False


def test_customers_in_two_different_families_are_two_customers() -> None:
    # The names alone read "SBI" as the initials of the other name.
    assert names_only.compare("SBI", None, "Saudi Basic Industries Corporation", None).match
    result = builtin.compare("SBI", None, "Saudi Basic Industries Corporation", None)
    assert (result.match, result.score, result.reason) == (False, 0.0, MatchReason.NONE)
    assert "listed as two companies, State Bank of India and SABIC" in result.evidence
    lenient = CustomerMatcher(0.01)
    assert lenient.compare("Pemex", None, "Cemex", None).match is False


@pytest.mark.parametrize(
    ("acronym", "other"),
    [("IBM", "International Bridge Materials"), ("UPS", "Unified Payment Systems")],
)
def test_a_listed_acronym_is_not_read_as_the_initials_of_an_unlisted_name(
    acronym: str, other: str
) -> None:
    assert names_only.compare(acronym, None, other, None).match is True
    result = builtin.compare(other, None, acronym, None)
    assert result.match is False
    assert "not read as initials" in result.evidence
    assert f"is listed under {acronym}, which does not list" in result.evidence


def test_unlisted_acronyms_and_names_score_as_before() -> None:
    for a, b in [("ZQX", "Zenith Quartz Xylo"), ("Acme Analytics", "Acme Logistics"),
                 ("Goldman Sachs", "Goldman Sacks")]:
        assert builtin.compare(a, None, b, None) == names_only.compare(a, None, b, None)


def test_a_listed_name_never_covers_a_shorter_name() -> None:
    # "American International Group" reads as "american" to the name rule, but the alias
    # "American International Group" of AIG does not make every "American" an AIG.
    assert listed(builtin, "American International Group, Inc.")
    assert not listed(builtin, "American")
    assert builtin.compare("American", None, "AIG", None).match is False


def test_the_index_finds_alias_matches_among_many_deals() -> None:
    deals = [CustomerRecord(f"d{i}", f"p{i}", f"Kestrel Foods {i}", None) for i in range(50)]
    deals.append(CustomerRecord("meta", "p-meta", "Meta Platforms", None))
    deals.append(CustomerRecord("hpe", "p-hpe", "Hewlett Packard Enterprise", "hpe.com"))
    index = CustomerIndex(deals)
    assert [r.canonical_id for r, _ in index.matches("Facebook Inc", None)] == ["meta"]
    assert [r.canonical_id for r, _ in index.matches("HP", None)] == []


def registration(name: str) -> Opportunity:
    return deal(
        "cs_new",
        "partner-b",
        registration__status="submitted",
        customer={"company_name": name, "domain": None},
        products=["ANALYTICS"],
    )


def test_the_conflict_rule_flags_a_registration_under_an_aliased_name() -> None:
    meta = deal(
        "cs_a",
        "partner-a",
        customer={"company_name": "Meta Platforms, Inc.", "domain": None},
        registration__status="approved",
        products=["ANALYTICS"],
    )
    changes = ChannelConflictCheck().apply(None, registration("Facebook"), partner_ctx([meta]))
    assert changes["registration.status"] == "under_review"
    assert "alias: Meta Platforms" in changes["registration.conflict_evidence"]
    quiet = ChannelConflictCheck(matcher=names_only)
    assert quiet.apply(None, registration("Facebook"), partner_ctx([meta])) == {}


# -- the project's families over the built-in ones --------------------------------------------


def test_a_project_family_replaces_the_built_in_family_it_shares_a_name_with() -> None:
    split = AliasTable(
        combine(
            builtin_aliases().families,
            [AliasFamily("Chase Bank", ("Chase",), ("chase.com",)),
             AliasFamily("JPMorgan", ("J.P. Morgan",), ("jpmorgan.com",))],
        )
    )
    matcher = CustomerMatcher(aliases=split)
    assert matcher.compare("Chase", None, "J.P. Morgan", None).match is False
    assert matcher.compare("Chase", None, "Chase Bank NA", None).match is True
    # The built-in JPMorgan Chase family is gone as a whole, not only the names listed again.
    assert not listed(matcher, "JPMC")
    assert listed(builtin, "JPMC")
    # Families the project does not touch stay.
    assert matcher.compare("Facebook", None, "Meta", None).reason is MatchReason.ALIAS


def test_a_project_family_replaces_a_built_in_family_it_shares_a_domain_with() -> None:
    table = AliasTable(
        combine(
            builtin_aliases().families,
            [AliasFamily("Meta Reality Labs", (), ("https://www.meta.com/",))],
        )
    )
    matcher = CustomerMatcher(aliases=table)
    assert matcher.compare("Facebook", None, "Meta Platforms", None).match is False
    assert matcher.compare("Meta Reality Labs", None, "Anyone", "meta.com").match is True


def test_the_project_file_extends_the_built_in_list(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "version: 1\nfamilies:\n"
        "  - name: Kestrel Foods\n    aliases: [Kestrel Lebensmittel GmbH]\n"
        "  - name: GSK\n    aliases: [Glaxo]\n",
        encoding="utf-8",
    )
    matcher = CustomerMatcher(aliases=alias_table(path))
    assert matcher.compare("Kestrel Foods", None, "Kestrel Lebensmittel", None).match is True
    assert matcher.compare("Glaxo", None, "GSK plc", None).match is True
    assert matcher.compare("GlaxoSmithKline", None, "GSK plc", None).match is False  # replaced
    assert matcher.compare("Facebook", None, "Meta", None).match is True  # untouched built-in
    alone = CustomerMatcher(aliases=alias_table(path, builtin=False))
    assert alone.compare("Facebook", None, "Meta", None).match is False
    path.write_text(path.read_text(encoding="utf-8") + "builtin: false\n", encoding="utf-8")
    assert CustomerMatcher(aliases=alias_table(path)).compare(
        "Facebook", None, "Meta", None
    ).match is False


# -- the built-in list ---------------------------------------------------------------------------


def test_the_built_in_list_is_a_broad_list_of_well_known_companies() -> None:
    families = builtin_aliases().families
    assert len(families) >= 300
    assert len({f.name for f in families}) == len(families)
    assert sum(1 for f in families if f.domains) > 0.9 * len(families)


def test_the_built_in_list_never_joins_a_labelled_different_customer_pair() -> None:
    for pair in read_pairs(PAIRS_FILE, need_label=True):
        if pair.label:
            continue
        result = builtin.compare(pair.name_a, pair.domain_a, pair.name_b, pair.domain_b)
        assert result.reason is not MatchReason.ALIAS, pair
