"""How alike two normalised company names are, as a score from 0 to 1 with its reason.

The score starts from two rapidfuzz measures, taking the better:

* ``token_sort_ratio`` on the words: tolerant of word order ("Ohio Health Department" /
  "Health Department of Ohio") and of typos inside words ("Goldman Sacks");
* ``ratio`` on the words run together: tolerant of spacing ("Pay Pal" / "PayPal").

Measures that reward one name being contained in the other are deliberately not used:
``token_set_ratio`` and ``partial_ratio`` score "Apple" against "Apple Leisure Group" at 100,
``WRatio`` at 90. Jaro-Winkler is not used either: it rewards a shared prefix, which is
exactly what "Acme Analytics" and "Acme Logistics" share.

Then the words are paired one to one (allowing typos, plurals, run-together words and inner
initials such as "NY" for "New York"), and the score is capped when the pairing shows the names
are about different companies: both names keep an unpaired word ("Sony Music" / "Sony
Pictures"), or one name adds a word the other lacks ("Vertex" / "Vertex Pharmaceuticals"), or
their numbers differ ("Fund II" / "Fund III"). A cap never raises a score, so the cheap measures
alone bound the final score from above; the candidate search relies on that.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

from channel_sync.workflow.match_names import NormalizedName

#: Two words this alike (rapidfuzz ``ratio``) are the same word with a typo.
WORD_MATCH = 80.0
#: Shorter words must be equal (or a plural): "Aon" and "Avon" are two companies.
SHORT_WORD = 3
#: Cap when both names keep a word the other lacks.
CONFLICTING_CAP = 0.70
#: Cap when one name adds words to the other.
PARTIAL_CAP = 0.80
#: Cap when the names carry different numbers.
NUMBERS_CAP = 0.50
#: Score of a one-word name that is the initials of the other, by acronym length: the longer
#: the acronym, the less likely an accidental collision.
ACRONYM_SCORES = {2: 0.85, 3: 0.90}
LONG_ACRONYM_SCORE = 0.95


class NameVerdict(StrEnum):
    SAME = "same"
    SIMILAR = "similar"
    ACRONYM = "acronym"
    PARTIAL = "partial"
    CONFLICTING = "conflicting"
    NUMBERS = "numbers"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class NameScore:
    score: float
    verdict: NameVerdict


def fuzzy_bound(a: NormalizedName, b: NormalizedName) -> float:
    """The better of the two rapidfuzz measures: an upper bound of every non-exact score."""
    words = fuzz.ratio(a.sorted_text, b.sorted_text)  # token_sort_ratio, words pre-sorted
    joined = fuzz.ratio(a.compact, b.compact)
    return max(words, joined) / 100.0


def acronym_score(acronym: str) -> float:
    return ACRONYM_SCORES.get(len(acronym), LONG_ACRONYM_SCORE)


def _acronym(a: NormalizedName, b: NormalizedName) -> str | None:
    for short, long in ((a, b), (b, a)):
        if short.acronym is not None and short.acronym in long.initials:
            return short.acronym
    return None


def _words_match(x: str, y: str) -> bool:
    if x == y or x + "s" == y or y + "s" == x:
        return True
    if min(len(x), len(y)) <= SHORT_WORD:
        return False
    return fuzz.ratio(x, y) >= WORD_MATCH


def _pair_runs(left: tuple[str, ...], free_left: set[int], right: tuple[str, ...],
               free_right: set[int]) -> None:
    """Pair a run of 2-3 unpaired words with one word on the other side.

    Covers words written together on one side ("Wal Mart" / "Walmart") and inner initials
    ("NY" / "New York"). Mutates both sets of unpaired positions.
    """
    for size in (3, 2):
        for start in range(len(left) - size + 1):
            run = range(start, start + size)
            if not all(i in free_left for i in run):
                continue
            joined = "".join(left[i] for i in run)
            initials = "".join(left[i][0] for i in run)
            for j in sorted(free_right):
                if right[j] == initials or _words_match(joined, right[j]):
                    free_left.difference_update(run)
                    free_right.discard(j)
                    break


def _unpaired(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, int, int]:
    """Pair the words of two names one to one; return (paired, unpaired in a, unpaired in b)."""
    candidates = sorted(
        ((fuzz.ratio(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)
         if _words_match(x, y)),
        reverse=True,
    )
    free_a, free_b = set(range(len(a))), set(range(len(b)))
    paired = 0
    for _, i, j in candidates:
        if i in free_a and j in free_b:
            free_a.discard(i)
            free_b.discard(j)
            paired += 1
    before = len(free_a) + len(free_b)
    _pair_runs(a, free_a, b, free_b)
    _pair_runs(b, free_b, a, free_a)
    if len(free_a) + len(free_b) < before:
        paired += 1
    return paired, len(free_a), len(free_b)


def score_names(a: NormalizedName, b: NormalizedName, *, acronyms: bool = True) -> NameScore:
    """Score two names; ``verdict`` says which rule decided, for the evidence text.

    ``acronyms=False`` sets the acronym reading aside (when a customer list already says what
    the short name stands for); the words are then compared as they are.
    """
    if not a or not b:
        return NameScore(0.0, NameVerdict.MISSING)
    if a.compact == b.compact:
        return NameScore(1.0, NameVerdict.SAME)
    acronym = _acronym(a, b) if acronyms else None
    if acronym is not None:
        return NameScore(acronym_score(acronym), NameVerdict.ACRONYM)
    score = fuzzy_bound(a, b)
    verdict = NameVerdict.SIMILAR
    paired, extra_a, extra_b = _unpaired(a.tokens, b.tokens)
    if paired and extra_a and extra_b:
        score, verdict = min(score, CONFLICTING_CAP), NameVerdict.CONFLICTING
    elif paired and (extra_a or extra_b):
        score, verdict = min(score, PARTIAL_CAP), NameVerdict.PARTIAL
    if a.numbers != b.numbers:
        score, verdict = min(score, NUMBERS_CAP), NameVerdict.NUMBERS
    return NameScore(score, verdict)
