"""Units of the customer matcher: name and domain normalisation, and the name score."""

from __future__ import annotations

import pytest

from channel_sync.workflow.match_domains import evidence_domain, registrable_domain
from channel_sync.workflow.match_names import normalize_name
from channel_sync.workflow.match_scoring import (
    CONFLICTING_CAP,
    NUMBERS_CAP,
    PARTIAL_CAP,
    NameVerdict,
    fuzzy_bound,
    score_names,
)


def tokens(name: str) -> tuple[str, ...]:
    return normalize_name(name).tokens


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ACME Corporation", ("acme",)),
        ("The Procter & Gamble Co.", ("procter", "gamble")),
        ("Procter and Gamble Company", ("procter", "gamble")),
        ("Nestlé S.A.", ("nestle",)),
        ("A.P. Møller - Mærsk A/S", ("ap", "moller", "maersk")),
        ("Straße Bau GmbH", ("strasse", "bau")),
        ("Łukasiewicz Research Network", ("lukasiewicz", "research", "network")),
        ("Toyota Motor Co., Ltd.", ("toyota", "motor")),
        ("Grupo Bimbo S.A.B. de C.V.", ("bimbo",)),
        ("Henkel AG & Co. KGaA", ("henkel",)),
        ("Carrefour S. A.", ("carrefour",)),
        ("McDonald's Corporation", ("mcdonalds",)),
        ("Amazon.com, Inc.", ("amazon",)),
        ("Honeywell International Inc", ("honeywell",)),
        ("Acme Analytics EMEA", ("acme", "analytics")),
        ("Int'l Flavors & Fragrances", ("international", "flavors", "fragrances")),
        ("Texas, University of", ("texas", "university")),
        ("Dr. Reddy's Labs", ("dr", "reddys", "laboratories")),
    ],
)
def test_normalisation_keeps_only_identifying_words(name: str, expected: tuple[str, ...]) -> None:
    assert tokens(name) == expected


def test_a_leading_article_in_another_language_is_part_of_the_name() -> None:
    assert tokens("De Beers Group") == ("de", "beers")
    assert tokens("La Poste") == ("la", "poste")


def test_noise_and_legal_words_never_strip_a_name_to_nothing() -> None:
    assert tokens("The Company") == ("company",)
    assert tokens("Global Group") == ("global",)
    assert tokens("Inc") == ("inc",)


def test_empty_and_punctuation_only_names_have_no_words() -> None:
    for name in (None, "", "   ", "&&", "..."):
        normalized = normalize_name(name)
        assert not normalized
        assert normalized.tokens == ()


def test_numbers_and_roman_numerals_are_kept_apart() -> None:
    assert normalize_name("Acme Capital Fund III").numbers == {"iii"}
    assert normalize_name("7-Eleven Inc").numbers == {"7"}
    assert normalize_name("X Corp").numbers == frozenset()  # a first word is a word


def test_initials_cover_the_name_with_and_without_its_legal_form() -> None:
    name = normalize_name("Taiwan Semiconductor Manufacturing Company")
    assert {"tsm", "tsmc"} <= name.initials
    assert normalize_name("American International Group").initials == {"aig"}
    assert normalize_name("KPMG").acronym == "kpmg"
    assert normalize_name("Salesforce").acronym is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("eu.sales.acme.com", "acme.com"),
        ("jane.doe@Sales.Acme.com", "acme.com"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("fabrikam.com.au", "fabrikam.com.au"),
        ("maple.myshopify.com", "maple.myshopify.com"),
        ("a.b.maple.github.io", "maple.github.io"),
        ("co.uk", None),
        ("github.io", None),
        ("localhost", None),
        ("10.0.0.1", None),
        ("acme..com", None),
        ("", None),
        (None, None),
    ],
)
def test_registrable_domain(value: str | None, expected: str | None) -> None:
    assert registrable_domain(value) == expected


def test_free_mail_domains_are_not_evidence() -> None:
    assert registrable_domain("bob@gmail.com") == "gmail.com"
    assert evidence_domain("bob@gmail.com") is None
    assert evidence_domain("yahoo.co.uk") is None
    assert evidence_domain("acme.com") == "acme.com"


def score(a: str, b: str) -> tuple[float, NameVerdict]:
    result = score_names(normalize_name(a), normalize_name(b))
    return result.score, result.verdict


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Corp", "ACME Corporation"),
        ("Johnson & Johnson", "Johnson and Johnson"),
        ("Wal-Mart Stores", "Walmart Stores"),
        ("The Walt Disney Company", "Walt Disney Co."),
        ("Société Générale", "Societe Generale"),
    ],
)
def test_spelling_variants_are_the_same_name(a: str, b: str) -> None:
    assert score(a, b) == (1.0, NameVerdict.SAME)


def test_word_order_and_typos_score_high_but_below_exact() -> None:
    assert score("Health Department of Ohio", "Ohio Health Department") == (
        1.0,
        NameVerdict.SIMILAR,
    )
    value, verdict = score("Goldman Sachs", "Goldman Sacks")
    assert verdict is NameVerdict.SIMILAR
    assert 0.9 < value < 1.0


def test_a_different_word_on_each_side_caps_the_score() -> None:
    value, verdict = score("Acme Analytics", "Acme Logistics")
    assert verdict is NameVerdict.CONFLICTING
    assert value <= CONFLICTING_CAP
    assert score("Sony Music Entertainment", "Sony Pictures Entertainment")[1] is (
        NameVerdict.CONFLICTING
    )


def test_an_added_word_caps_the_score() -> None:
    value, verdict = score("Vertex", "Vertex Pharmaceuticals")
    assert verdict is NameVerdict.PARTIAL
    assert value <= PARTIAL_CAP


def test_different_numbers_cap_the_score() -> None:
    value, verdict = score("Acme Capital Fund II", "Acme Capital Fund III")
    assert verdict is NameVerdict.NUMBERS
    assert value <= NUMBERS_CAP


def test_acronyms_score_by_length() -> None:
    assert score("IBM", "International Business Machines Corp") == (0.90, NameVerdict.ACRONYM)
    assert score("KPMG", "Klynveld Peat Marwick Goerdeler") == (0.95, NameVerdict.ACRONYM)
    assert score("GE", "General Electric Company") == (0.85, NameVerdict.ACRONYM)
    assert score("IBMX", "International Business Machines")[1] is not NameVerdict.ACRONYM


def test_run_together_words_and_inner_initials_pair_up() -> None:
    assert score("Wal Mart Store", "Walmart Stores")[1] is NameVerdict.SIMILAR
    assert score("Bank of New York Mellon", "Bank of NY Mellon")[1] is NameVerdict.SIMILAR


def test_short_words_must_be_equal_to_pair() -> None:
    # "Aon" and "Avon" differ by one letter, which in a three-letter word is a different word.
    assert score("Aon Risk", "Avon Risk")[1] is NameVerdict.CONFLICTING


def test_a_missing_name_scores_zero() -> None:
    assert score("", "Acme") == (0.0, NameVerdict.MISSING)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Analytics", "Acme Logistics"),
        ("Vertex", "Vertex Pharmaceuticals"),
        ("Microsoft", "Microsfot"),
        ("Acme Capital Fund II", "Acme Capital Fund III"),
        ("Bank of New York Mellon", "Bank of NY Mellon"),
    ],
)
def test_non_exact_scores_never_exceed_the_fuzzy_bound(a: str, b: str) -> None:
    na, nb = normalize_name(a), normalize_name(b)
    assert score_names(na, nb).score <= fuzzy_bound(na, nb)
