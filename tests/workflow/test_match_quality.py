"""Precision and recall of the customer matcher on the labelled company pairs.

``tests/data/company_pairs.csv`` holds 401 hand-labelled pairs. The default threshold was chosen
on the first half only (rows 1-200); the second half is the hold-out. The figures are printed
for both halves and overall, with the built-in customer aliases (what the product ships) and
with the names and domains alone; docs/channel-conflicts.md discusses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from channel_sync.workflow.match_pairs import CompanyPair, read_pairs
from channel_sync.workflow.matching import (
    DEFAULT_THRESHOLD,
    EMPTY_ALIASES,
    AliasTable,
    CustomerMatcher,
)

PAIRS_FILE = Path(__file__).resolve().parent.parent / "data" / "company_pairs.csv"
#: Product goal for both figures; the shipped configuration (built-in aliases) meets it on both
#: halves and overall.
GOAL = 0.95
#: Recall of the names and domains alone, below the goal: most misses need knowledge no string
#: measure has (Petrobras = Petróleo Brasileiro, Facebook = Meta Platforms without a domain).
NAMES_ONLY_RECALL_FLOOR = 0.90


@dataclass(frozen=True)
class Figures:
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        return self.true_pos / (self.true_pos + self.false_pos)

    @property
    def recall(self) -> float:
        return self.true_pos / (self.true_pos + self.false_neg)

    @property
    def f1(self) -> float:
        return 2 * self.true_pos / (2 * self.true_pos + self.false_pos + self.false_neg)


def figures(scored: list[tuple[bool, bool]]) -> Figures:
    return Figures(
        sum(1 for label, match in scored if label and match),
        sum(1 for label, match in scored if not label and match),
        sum(1 for label, match in scored if label and not match),
    )


@pytest.fixture(scope="module")
def pairs() -> list[CompanyPair]:
    return read_pairs(PAIRS_FILE, need_label=True)


def judged(pairs: list[CompanyPair], matcher: CustomerMatcher) -> list[tuple[bool, bool]]:
    return [
        (bool(p.label), matcher.compare(p.name_a, p.domain_a, p.name_b, p.domain_b).match)
        for p in pairs
    ]


def test_the_labelled_set_is_large_and_balanced(pairs: list[CompanyPair]) -> None:
    assert len(pairs) >= 300
    positives = sum(1 for p in pairs if p.label)
    assert 0.4 < positives / len(pairs) < 0.6
    half = len(pairs) // 2
    first, second = (sum(1 for p in part if p.label) for part in (pairs[:half], pairs[half:]))
    assert abs(first - second) < 5


def measured(pairs: list[CompanyPair], aliases: AliasTable | None) -> dict[str, Figures]:
    matcher = CustomerMatcher(aliases=aliases)
    half = len(pairs) // 2
    results = {}
    label = "built-in aliases" if aliases is None else "names alone"
    for name, part in (("tuning", pairs[:half]), ("hold-out", pairs[half:]), ("all", pairs)):
        results[name] = result = figures(judged(part, matcher))
        print(
            f"{label}, {name}: pairs={len(part)} precision={result.precision:.3f} "
            f"recall={result.recall:.3f} f1={result.f1:.3f} threshold={DEFAULT_THRESHOLD}"
        )
    return results


def test_the_shipped_matcher_meets_the_goal_on_both_halves(pairs: list[CompanyPair]) -> None:
    for part, result in measured(pairs, None).items():
        assert result.precision >= GOAL, part
        assert result.recall >= GOAL, part


def test_the_names_alone_keep_their_figures(pairs: list[CompanyPair]) -> None:
    overall = measured(pairs, EMPTY_ALIASES)["all"]
    assert overall.precision >= GOAL
    assert overall.recall >= NAMES_ONLY_RECALL_FLOOR


def test_the_aliases_turn_no_right_answer_wrong(pairs: list[CompanyPair]) -> None:
    def wrong(matcher: CustomerMatcher) -> set[int]:
        return {
            p.row
            for p in pairs
            if matcher.compare(p.name_a, p.domain_a, p.name_b, p.domain_b).match != bool(p.label)
        }

    with_aliases = wrong(CustomerMatcher())
    assert with_aliases < wrong(CustomerMatcher(aliases=EMPTY_ALIASES))


def test_the_default_threshold_is_the_best_one_on_the_tuning_half(
    pairs: list[CompanyPair],
) -> None:
    """The default is reproducible: no threshold beats it on the tuning half."""
    tuning = pairs[: len(pairs) // 2]
    probe = CustomerMatcher(0.01)
    scores = [
        (bool(p.label), probe.compare(p.name_a, p.domain_a, p.name_b, p.domain_b).score)
        for p in tuning
    ]

    def f1_at(threshold: float) -> float:
        return figures([(label, score >= threshold) for label, score in scores]).f1

    best = max(f1_at(score) for _, score in scores)
    assert f1_at(DEFAULT_THRESHOLD) == best
