"""Running hub rules inside a transaction: the context they see and how their changes apply."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from channel_sync.clock import Clock
from channel_sync.mapping import build_opportunity, flatten
from channel_sync.model import (
    Opportunity,
    RegistrationStatus,
    check_transition,
)
from channel_sync.store import Transaction
from channel_sync.sync.claims import (
    Claim,
    ClaimChange,
    ClaimsFeed,
    claims_customer,
    merged_claims,
)
from channel_sync.sync.merge import Side
from channel_sync.sync.rules import HubRule

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE = 1000
STATUS = "registration.status"


class HubRuleContext:
    """What a rule may look at.

    With a :class:`ClaimsFeed` the open claims are the feed's committed ones with this
    transaction's own changes laid over them (:meth:`pending_claims`); without one, the hub's
    deals are read once per transaction.
    """

    def __init__(
        self,
        tx: Transaction,
        clock: Clock,
        source: str,
        source_role: Side | None,
        feed: ClaimsFeed | None = None,
    ) -> None:
        self.clock = clock
        self.source = source
        self.source_role = source_role
        self._tx = tx
        self._feed = feed
        self._refreshed = False
        self._claims: list[Opportunity] | None = None
        self._pending: dict[str, Claim | None] = {}
        self._pending_log: list[ClaimChange] = []
        self.current: str | None = None

    def open_registrations(self) -> Iterable[Opportunity]:
        """Every open claim as a whole deal (a pass over all of them; the channel-conflict
        check uses the feed's incremental index instead)."""
        feed = self.claims_feed()
        if feed is not None:
            wanted = [
                c.canonical_id for c in merged_claims(feed.claims(), self._pending)
                if c.canonical_id != self.current
            ]
            deals = self._tx.records.get_many(wanted)
            return [deals[cid].opportunity for cid in wanted if cid in deals]
        if self._claims is None:
            self._claims = [o for o in self._all() if claims_customer(o)]
        return [o for o in self._claims if o.id != self.current]

    def claims_feed(self) -> ClaimsFeed | None:
        """The committed open claims, brought up to date once per transaction."""
        if self._feed is not None and not self._refreshed:
            self._feed.refresh()
            self._refreshed = True
        return self._feed

    def pending_claims(self) -> Mapping[str, Claim | None]:
        """This transaction's own changes to open claims (``None``: no longer a claim)."""
        return self._pending

    def pending_log(self) -> Sequence[ClaimChange]:
        """The same changes in the order they were made (append-only)."""
        return self._pending_log

    def _all(self) -> Iterator[Opportunity]:
        since = _EPOCH
        seen: set[str] = set()
        while True:
            batch = self._tx.records.changed_since(since, limit=_PAGE)
            fresh = [r for r in batch if r.canonical_id not in seen]
            for record in fresh:
                seen.add(record.canonical_id)
                if not record.is_deleted:
                    yield record.opportunity
            if len(batch) < _PAGE or not fresh:
                return
            # Records sharing the last timestamp are re-read; ``seen`` drops the repeats.
            since = batch[-1].updated_at
            since = since.replace(microsecond=max(0, since.microsecond - 1))

    def remember(self, opportunity: Opportunity) -> None:
        """Keep the view current after a change made in this transaction."""
        claim = Claim.of(opportunity)
        self._pending[opportunity.id] = claim
        self._pending_log.append(ClaimChange(opportunity.id, claim))
        if self._claims is None:
            return
        self._claims = [o for o in self._claims if o.id != opportunity.id]
        if claim is not None:
            self._claims.append(opportunity)


def apply_rules(
    rules: Sequence[HubRule],
    before: Opportunity | None,
    after: Opportunity,
    ctx: HubRuleContext,
) -> tuple[Opportunity, dict[str, tuple[str, Any]]]:
    """Run every rule in order; each sees the changes of the ones before it.

    Returns the final deal and, per path a rule set, the rule's name and value. A rule's
    ``RecordError`` propagates (the caller refuses the record); a rule's status move is checked
    like any other.
    """
    extras: dict[str, tuple[str, Any]] = {}
    ctx.current = after.id
    for rule in rules:
        changes = dict(rule.apply(before, after, ctx))
        if not changes:
            continue
        if changes.get(STATUS) is not None:
            check_transition(after.registration.status, RegistrationStatus(changes[STATUS]))
        after = build_opportunity(changes, after)
        name = type(rule).__name__
        extras.update({path: (name, value) for path, value in changes.items()})
    return after, extras


def changed_paths(before: Opportunity | None, after: Opportunity) -> dict[str, Any]:
    """Flat paths whose value differs between two versions of a deal (all, for a new deal)."""
    new = flatten(after)
    if before is None:
        return {p: v for p, v in new.items() if v is not None}
    old = flatten(before)
    return {p: v for p, v in new.items() if old.get(p) != v}
