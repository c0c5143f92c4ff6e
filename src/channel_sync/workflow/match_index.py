"""Finding the open deals that may name the same customer as a new registration, quickly.

Comparing one registration with every open deal through the full scorer would cost a Python
call per deal. The index instead narrows the field with lookups and rapidfuzz's C++ loops, then
runs the full comparison on the few survivors:

* the registrable domain, in a dictionary;
* the customer-alias family (by listed name or domain), in a dictionary;
* the name with its words run together, in a dictionary (exact equality after normalisation);
* acronyms: one-word names by their letters, longer names by their initials;
* ``process.extract`` over every normalised name with the two measures that bound the name
  score from above (``match_scoring.fuzzy_bound``), cut off at the threshold. The words are
  stored pre-sorted, so ``token_sort_ratio`` runs as a plain ``ratio`` without re-splitting
  100,000 names per query.

Because the final name score never exceeds that bound (except for exact, acronym and alias
matches, which the dictionaries catch), the narrowing loses nothing: the index returns exactly
what comparing against every deal would.

The conflict rule's index holds every open claim of the hub, so an index keeps per deal only
its record, the two search strings and its position under each lookup key; a key that one deal
alone has (most domains and names) holds that position bare, not in a list of its own. The full
customer key is prepared again for the few candidates a query compares.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from channel_sync.model import Opportunity
from channel_sync.sync.claims import Claim
from channel_sync.workflow.match_compare import (
    CustomerKey,
    CustomerMatcher,
    MatchReason,
    MatchResult,
)
from channel_sync.workflow.match_names import fold
from channel_sync.workflow.match_scoring import ACRONYM_SCORES, LONG_ACRONYM_SCORE

#: Scores are compared after rounding to four places; search a hair below the threshold.
_CUTOFF_MARGIN = 0.01

_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """What the conflict check needs to know about one open deal."""

    canonical_id: str
    #: ``None`` marks a vendor-direct opportunity.
    partner_id: str | None
    company_name: str | None
    domain: str | None
    products: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_claim(cls, claim: Claim) -> CustomerRecord:
        return cls(
            canonical_id=claim.canonical_id,
            partner_id=claim.partner_id,
            company_name=claim.company_name,
            domain=claim.domain,
            products=claim.products,
        )

    @classmethod
    def from_opportunity(cls, deal: Opportunity) -> CustomerRecord:
        return cls.from_claim(Claim.summary(deal))


@dataclass(frozen=True, slots=True)
class ChannelConflict:
    """An open deal that names the same customer as the candidate, with the evidence."""

    existing: CustomerRecord
    result: MatchResult
    #: The candidate's products the existing deal also lists (empty when either lists none).
    shared_products: frozenset[str]
    #: ``False`` when either deal lists no products, so overlap could not be checked.
    products_known: bool

    @property
    def vendor_direct(self) -> bool:
        return self.existing.partner_id is None


def _product_key(product: str) -> str:
    return fold(product).strip()


def _shared_products(candidate: frozenset[str], existing: frozenset[str]) -> frozenset[str]:
    keys = {_product_key(p) for p in existing}
    return frozenset(p for p in candidate if _product_key(p) in keys)


class _ByLength:
    """Strings grouped by length, for ``ratio`` searches that skip hopeless lengths.

    ``ratio`` is at most ``2 * min(la, lb) / (la + lb)``, so for a cut-off ``c`` only lengths
    within ``[la * c / (2 - c), la * (2 - c) / c]`` can reach it; at 0.86 that is roughly
    three quarters to four thirds of the query's length.
    """

    def __init__(self) -> None:
        self._texts: dict[int, list[str]] = defaultdict(list)
        self._positions: dict[int, list[int]] = defaultdict(list)

    def add(self, text: str, position: int) -> None:
        self._texts[len(text)].append(text)
        self._positions[len(text)].append(position)

    def search(self, query: str, cutoff: float) -> Iterator[int]:
        """Positions of the strings whose ``ratio`` with ``query`` is at least ``cutoff``."""
        share = cutoff / 100.0
        if share <= 0.0:
            lengths: Iterable[int] = list(self._texts)
        else:
            size = len(query)
            shortest = math.floor(size * share / (2.0 - share))
            lengths = range(shortest, math.ceil(size * (2.0 - share) / share) + 1)
        for length in lengths:
            texts = self._texts.get(length)
            if not texts:
                continue
            positions = self._positions[length]
            hits = process.extract(query, texts, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
            yield from (positions[index] for _, _, index in hits)


class _Postings(Generic[_K]):
    """The positions of the deals under each lookup key, in the order they were added.

    A key held by one deal alone keeps its position bare rather than in a one-element list.
    """

    def __init__(self) -> None:
        self._held: dict[_K, int | list[int]] = {}

    def add(self, key: _K, position: int) -> None:
        held = self._held.get(key)
        if held is None:
            self._held[key] = position
        elif isinstance(held, int):
            self._held[key] = [held, position]
        else:
            held.append(position)

    def get(self, key: _K) -> Sequence[int]:
        held = self._held.get(key)
        if held is None:
            return ()
        return (held,) if isinstance(held, int) else held


def _reused(derived: str, source: str | None) -> str:
    """``derived``, or the equal ``source`` string itself, so the index keeps no second copy of a
    string the deal's record already holds."""
    return source if source is not None and source == derived else derived


class CustomerIndex:
    """Open deals prepared for conflict checks; build once per cycle, query per registration."""

    def __init__(
        self, records: Iterable[CustomerRecord] = (), matcher: CustomerMatcher | None = None
    ) -> None:
        self._matcher = matcher or CustomerMatcher()
        self._records: list[CustomerRecord] = []
        self._texts = _ByLength()
        self._compacts = _ByLength()
        self._by_domain: _Postings[str] = _Postings()
        self._by_compact: _Postings[str] = _Postings()
        self._by_acronym: _Postings[str] = _Postings()
        self._by_initials: _Postings[str] = _Postings()
        self._by_family: _Postings[int] = _Postings()
        for record in records:
            self.add(record)

    @property
    def matcher(self) -> CustomerMatcher:
        return self._matcher

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: CustomerRecord) -> None:
        position = len(self._records)
        key = self._key(record)
        name, domain, compact = key.name, key.evidence_domain, key.name.compact
        self._records.append(record)
        self._texts.add(_reused(name.sorted_text, compact), position)
        self._compacts.add(compact, position)
        if domain is not None:
            self._by_domain.add(_reused(domain, record.domain), position)
        if compact:
            self._by_compact.add(compact, position)
        if name.acronym is not None:
            self._by_acronym.add(name.acronym, position)
        for initials in name.initials:
            self._by_initials.add(initials, position)
        for family in self._matcher.families(key):
            self._by_family.add(family, position)

    @staticmethod
    def _key(record: CustomerRecord) -> CustomerKey:
        return CustomerKey.of(record.company_name, record.domain)

    def _acronym_can_match(self, acronym: str) -> bool:
        score = ACRONYM_SCORES.get(len(acronym), LONG_ACRONYM_SCORE)
        return score >= self._matcher.threshold

    def _candidates(self, key: CustomerKey) -> set[int]:
        found: set[int] = set()
        if key.evidence_domain is not None:
            found.update(self._by_domain.get(key.evidence_domain))
        for family in self._matcher.families(key):
            found.update(self._by_family.get(family))
        name = key.name
        if not name:
            return found
        found.update(self._by_compact.get(name.compact))
        if name.acronym is not None and self._acronym_can_match(name.acronym):
            found.update(self._by_initials.get(name.acronym))
        for initials in name.initials:
            if self._acronym_can_match(initials):
                found.update(self._by_acronym.get(initials))
        cutoff = max(0.0, self._matcher.threshold - _CUTOFF_MARGIN) * 100
        found.update(self._texts.search(name.sorted_text, cutoff))
        found.update(self._compacts.search(name.compact, cutoff))
        return found

    def matches(
        self, name: str | None, domain: str | None
    ) -> list[tuple[CustomerRecord, MatchResult]]:
        """Every indexed deal whose customer matches, ignoring owner and products.

        Best first; at equal scores a shared domain ranks before a name match.
        """
        key = CustomerKey.of(name, domain)
        found = []
        for position in self._candidates(key):
            record = self._records[position]
            result = self._matcher.compare_keys(key, self._key(record))
            if result.match:
                found.append((record, result))
        return sort_matches(found)

    def find_conflicts(
        self, candidate: CustomerRecord, *, products_overlap_required: bool = True
    ) -> list[ChannelConflict]:
        """Deals of *other* owners that claim the candidate's customer, best first.

        A deal of the candidate's own owner (the same partner, or vendor-direct against
        vendor-direct) is never a channel conflict, nor is the candidate itself. With
        ``products_overlap_required`` a deal must share a product with the candidate; when
        either deal lists no products the overlap is unknown and the deal is kept, marked
        ``products_known=False``, so the channel manager decides rather than a blank field.
        """
        return conflicts_among(
            candidate,
            self.matches(candidate.company_name, candidate.domain),
            products_overlap_required=products_overlap_required,
        )


def sort_matches(
    found: list[tuple[CustomerRecord, MatchResult]],
) -> list[tuple[CustomerRecord, MatchResult]]:
    """Best first; at equal scores a shared domain ranks before a name match."""
    found.sort(key=lambda item: (-item[1].score, item[1].reason is not MatchReason.DOMAIN,
                                 item[0].canonical_id))
    return found


def conflicts_among(
    candidate: CustomerRecord,
    matches: Iterable[tuple[CustomerRecord, MatchResult]],
    *,
    products_overlap_required: bool = True,
) -> list[ChannelConflict]:
    """The matches that are channel conflicts for ``candidate`` (see
    :meth:`CustomerIndex.find_conflicts`), in the order given."""
    conflicts: list[ChannelConflict] = []
    for record, result in matches:
        if record.canonical_id == candidate.canonical_id:
            continue
        if record.partner_id == candidate.partner_id:
            continue
        known = bool(candidate.products) and bool(record.products)
        shared = _shared_products(candidate.products, record.products) if known else frozenset()
        if products_overlap_required and known and not shared:
            continue
        conflicts.append(ChannelConflict(record, result, shared, known))
    return conflicts
