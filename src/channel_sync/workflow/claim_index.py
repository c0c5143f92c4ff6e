"""A customer index over the hub's open claims, kept in step with the claims feed.

Built once and then fed the feed's changes, so checking a submission costs a look-up, not a
pass over every open deal. The index only ever adds entries: a claim that changed is added
again and its older entry is skipped at query time (and dropped when the index is rebuilt,
once skipped entries outnumber live ones). A transaction's own, not yet committed claims are
indexed apart, per transaction, and laid over the committed ones.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from channel_sync.sync.claims import ClaimChange, ClaimsFeed, ClaimsToken
from channel_sync.workflow.match_compare import CustomerMatcher, MatchResult
from channel_sync.workflow.match_index import CustomerIndex, CustomerRecord, sort_matches

Match = tuple[CustomerRecord, MatchResult]


@dataclass
class _Layer:
    """An add-only index and, per deal, the entry that is current."""

    matcher: CustomerMatcher
    index: CustomerIndex = field(init=False)
    current: dict[str, CustomerRecord] = field(default_factory=dict)
    stale: int = 0

    def __post_init__(self) -> None:
        self.index = CustomerIndex(matcher=self.matcher)

    def apply(self, changes: Sequence[ClaimChange]) -> None:
        for change in changes:
            if change.canonical_id in self.current:
                self.stale += 1
            claim = change.claim
            if claim is None:
                self.current.pop(change.canonical_id, None)
                continue
            record = CustomerRecord.from_claim(claim)
            self.current[change.canonical_id] = record
            self.index.add(record)
        if self.stale > max(1000, len(self.current)):
            self.index = CustomerIndex(self.current.values(), self.matcher)
            self.stale = 0

    def matches(self, name: str | None, domain: str | None) -> list[Match]:
        return [
            (record, result)
            for record, result in self.index.matches(name, domain)
            if self.current.get(record.canonical_id) is record
        ]


@dataclass
class _Pending:
    layer: _Layer
    seen: int = 0


class ClaimIndex:
    """Open claims (committed ones from a :class:`ClaimsFeed`, plus a transaction's own)."""

    def __init__(self, matcher: CustomerMatcher) -> None:
        self._matcher = matcher
        self._lock = threading.Lock()
        self._committed = _Layer(matcher)
        self._token: ClaimsToken | None = None
        self._feed: ClaimsFeed | None = None
        self._pending: weakref.WeakKeyDictionary[object, _Pending] = (
            weakref.WeakKeyDictionary()
        )

    def matches(
        self,
        feed: ClaimsFeed,
        owner: object,
        pending: Sequence[ClaimChange],
        name: str | None,
        domain: str | None,
    ) -> list[Match]:
        """Every open claim whose customer matches, best first. ``owner`` is the transaction's
        rule context: its ``pending`` changes are indexed once and override committed claims."""
        with self._lock:
            self._follow(feed)
            mine = self._pending.get(owner)
            if mine is None:
                mine = self._pending[owner] = _Pending(_Layer(self._matcher))
            if mine.seen < len(pending):
                mine.layer.apply(pending[mine.seen:])
                mine.seen = len(pending)
            overridden = {change.canonical_id for change in pending}
            found = [
                m for m in self._committed.matches(name, domain)
                if m[0].canonical_id not in overridden
            ]
            found.extend(mine.layer.matches(name, domain))
        return sort_matches(found)

    def _follow(self, feed: ClaimsFeed) -> None:
        if feed is not self._feed:
            self._feed, self._token = feed, None
        token, changes, fresh = feed.changes(self._token)
        if fresh:
            self._committed = _Layer(self._matcher)
        self._committed.apply(changes)
        self._token = token
