"""The hub's open claims on customers, kept current for the channel-conflict check.

An open claim is a deal with an open registration, or an open vendor-direct deal. Each new
registration is compared with all of them, so reading every hub deal again for each page (or
for each registration) would make a backfill of N registrations cost N². One feed per engine
holds the *committed* open claims instead, as small summaries (who claims which customer, with
which products): each refresh reads only the deals written since the last one (their ids and
versions first, whole deals only where the version moved), with an overlap that catches
transactions which committed after a later one. Changes are logged by deal id, so a rule can
keep its own index in step without rebuilding it.

A transaction's own, not yet committed changes are not in the feed: the rule context adds them
(see ``HubRuleContext.pending_log``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from channel_sync.model import OPEN_STATUSES, Opportunity
from channel_sync.store import Store

#: How far back each refresh looks again: longer than any page transaction takes to commit.
OVERLAP = timedelta(seconds=60)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The change log is rebuilt from the current claims once it is this much longer than them.
_COMPACT_FACTOR = 4
_COMPACT_MIN = 10_000
#: Deals list a few products of the vendor's catalogue, so a handful of distinct sets covers
#: every open claim; claims share one frozenset per set, up to this many sets.
_PRODUCT_SETS_MAX = 4096
_PRODUCT_SETS: dict[frozenset[str], frozenset[str]] = {}
NO_PRODUCTS: frozenset[str] = frozenset()


def _product_set(products: Iterable[str]) -> frozenset[str]:
    """``products`` as a frozenset, the same object for every claim listing the same ones."""
    found = frozenset(products)
    if not found:
        return NO_PRODUCTS
    shared = _PRODUCT_SETS.get(found)
    if shared is not None:
        return shared
    if len(_PRODUCT_SETS) < _PRODUCT_SETS_MAX:
        return _PRODUCT_SETS.setdefault(found, found)
    return found


def claims_customer(opportunity: Opportunity) -> bool:
    """An open registration, or an open vendor-direct deal: what a new submission may clash with."""
    if opportunity.is_vendor_direct:
        return not opportunity.is_closed
    return opportunity.registration.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Claim:
    """Who claims which customer, with which products: all a conflict check compares."""

    canonical_id: str
    #: ``None`` marks a vendor-direct opportunity.
    partner_id: str | None
    company_name: str | None
    domain: str | None
    products: frozenset[str]

    @classmethod
    def summary(cls, deal: Opportunity) -> Claim:
        """The deal's customer facts, whether or not it claims the customer now."""
        return cls(
            canonical_id=deal.id,
            partner_id=deal.partner_id,
            company_name=deal.customer.company_name,
            domain=deal.customer.domain,
            products=_product_set(deal.products),
        )

    @classmethod
    def of(cls, deal: Opportunity) -> Claim | None:
        """The deal's claim, or ``None`` when it claims nothing (closed, not registered)."""
        return cls.summary(deal) if claims_customer(deal) else None


@dataclass(frozen=True, slots=True)
class ClaimChange:
    canonical_id: str
    #: The deal's claim now; ``None`` once it claims nothing.
    claim: Claim | None


@dataclass(frozen=True, slots=True)
class ClaimsToken:
    """Where a reader of the feed stands: the log's generation and position in it."""

    generation: int
    position: int


class ClaimsFeed:
    """Committed open claims of one store, refreshed incrementally; safe across threads."""

    def __init__(
        self, store: Store, *, overlap: timedelta = OVERLAP,
        summarize: Callable[[Opportunity], Claim | None] = Claim.of,
    ) -> None:
        self._store = store
        self._overlap = overlap
        self._summarize = summarize
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}
        self._claims: dict[str, Claim] = {}
        #: Ids of the deals whose claim changed, in order; readers look the claim up.
        self._log: list[str] = []
        self._generation = 0
        self._mark: datetime | None = None

    def refresh(self) -> None:
        """Take in every deal committed since the last refresh."""
        with self._lock:
            since = _EPOCH if self._mark is None else self._mark - self._overlap
            with self._store.read() as tx:
                stamps = tx.records.versions_since(since)
                moved = [
                    (cid, version) for cid, version, _ in stamps
                    if self._versions.get(cid) != version
                ]
                records = tx.records.get_many([cid for cid, _ in moved]) if moved else {}
            for cid, version in moved:
                record = records.get(cid)
                if record is None:
                    self._apply(cid, None)
                    continue
                claim = None if record.is_deleted else self._summarize(record.opportunity)
                key = cid
                if claim is not None and claim.canonical_id == cid:
                    key = claim.canonical_id  # the claim's own copy: each id is held once
                self._versions[key] = version
                self._apply(key, claim)
            if stamps:
                newest = max(stamp for _, _, stamp in stamps)
                self._mark = newest if self._mark is None else max(self._mark, newest)
            self._compact()

    def claims(self) -> list[Claim]:
        with self._lock:
            return list(self._claims.values())

    def changes(self, token: ClaimsToken | None) -> tuple[ClaimsToken, list[ClaimChange], bool]:
        """Changes since ``token`` (each deal once, with its claim now), the token to pass next
        time, and whether the reader must start over (first call, or the log was rebuilt):
        then the changes are every claim."""
        with self._lock:
            fresh = token is None or token.generation != self._generation
            start = 0 if fresh or token is None else token.position
            ids = dict.fromkeys(self._log[start:])
            return (
                ClaimsToken(self._generation, len(self._log)),
                [ClaimChange(cid, self._claims.get(cid)) for cid in ids],
                fresh,
            )

    def _apply(self, cid: str, claim: Claim | None) -> None:
        if claim is None:
            if self._claims.pop(cid, None) is not None:
                self._log.append(cid)
            return
        if self._claims.get(cid) != claim:
            self._claims[cid] = claim
            self._log.append(cid)

    def _compact(self) -> None:
        if len(self._log) <= max(_COMPACT_MIN, _COMPACT_FACTOR * len(self._claims)):
            return
        self._generation += 1
        self._log = list(self._claims)


def merged_claims(committed: Iterable[Claim], pending: Mapping[str, Claim | None]) -> list[Claim]:
    """The committed claims with a transaction's own changes laid over them."""
    out = [c for c in committed if c.canonical_id not in pending]
    out.extend(c for c in pending.values() if c is not None)
    return out
