"""Running hub rules inside a transaction: the context they see and how their changes apply."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from channel_sync.clock import Clock
from channel_sync.mapping import build_opportunity, flatten
from channel_sync.model import (
    OPEN_STATUSES,
    Opportunity,
    RegistrationStatus,
    check_transition,
)
from channel_sync.store import Transaction
from channel_sync.sync.merge import Side
from channel_sync.sync.rules import HubRule

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE = 1000
STATUS = "registration.status"


def claims_customer(opportunity: Opportunity) -> bool:
    """An open registration, or an open vendor-direct deal: what a new submission may clash with."""
    if opportunity.is_vendor_direct:
        return not opportunity.is_closed
    return opportunity.registration.status in OPEN_STATUSES


class HubRuleContext:
    """What a rule may look at; the hub's other deals are read lazily, once per transaction."""

    def __init__(
        self, tx: Transaction, clock: Clock, source: str, source_role: Side | None
    ) -> None:
        self.clock = clock
        self.source = source
        self.source_role = source_role
        self._tx = tx
        self._claims: list[Opportunity] | None = None
        self.current: str | None = None

    def open_registrations(self) -> Iterable[Opportunity]:
        if self._claims is None:
            self._claims = [o for o in self._all() if claims_customer(o)]
        return [o for o in self._claims if o.id != self.current]

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
        """Keep the cached view current after a change made in this transaction."""
        if self._claims is None:
            return
        self._claims = [o for o in self._claims if o.id != opportunity.id]
        if claims_customer(opportunity):
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
