"""The open-claims feed over the store, and the conflict index that follows it.

The feed reads only what changed since its last refresh; the index built from its changes must
answer exactly like an index built from scratch over the same claims, also with a
transaction's own uncommitted changes laid over the committed ones.
"""

from __future__ import annotations

import random
from datetime import timedelta

from channel_sync.clock import FrozenClock
from channel_sync.model import Opportunity
from channel_sync.store import Store
from channel_sync.sync.claims import (
    Claim,
    ClaimChange,
    ClaimsFeed,
    claims_customer,
    merged_claims,
)
from channel_sync.workflow.claim_index import ClaimIndex
from channel_sync.workflow.match_compare import CustomerMatcher, MatchResult
from channel_sync.workflow.match_index import CustomerIndex, CustomerRecord
from store.helpers import make_deal

NAMES = ["Acme Corp", "ACME Corporation", "Globex", "Globex Ltd", "Initech", "Umbrella Group",
         "Hooli", "Hooli Inc.", "Stark Industries", "Wayne Enterprises", "Facebook",
         "Meta Platforms"]
DOMAINS = [None, "acme.example", "globex.example", "hooli.example", None]
PARTNERS = [None, "partner-a", "partner-b", "partner-c"]
STATUSES = ["draft", "submitted", "under_review", "approved", "rejected", "withdrawn"]
STAGES = ["prospecting", "proposal", "closed_won", "closed_lost"]


def _deal(rng: random.Random, cid: str, partner: str | None) -> Opportunity:
    registration = {} if partner is None else {"status": rng.choice(STATUSES)}
    return make_deal(
        cid, partner_id=partner, stage=rng.choice(STAGES), registration=registration,
        customer={"company_name": rng.choice(NAMES), "domain": rng.choice(DOMAINS)},
    )


def _keys(found: list[tuple[CustomerRecord, MatchResult]]) -> set[tuple[str, float]]:
    return {(record.canonical_id, round(result.score, 6)) for record, result in found}


def test_the_feed_takes_in_only_committed_changes_and_numbers_them(
    store: Store, clock: FrozenClock
) -> None:
    with store.transaction() as tx:
        tx.records.insert(make_deal("cs_open", registration={"status": "submitted"}))
        tx.records.insert(make_deal("cs_draft", registration={"status": "draft"}))
        tx.records.insert(make_deal("cs_direct", partner_id=None, stage="proposal"))
        tx.records.insert(make_deal("cs_won", partner_id=None, stage="closed_won"))
    feed = ClaimsFeed(store)
    feed.refresh()
    assert {c.canonical_id for c in feed.claims()} == {"cs_open", "cs_direct"}
    token, changes, fresh = feed.changes(None)
    assert fresh
    assert {c.canonical_id for c in changes} == {"cs_open", "cs_direct"}

    clock.advance(timedelta(seconds=5))
    with store.transaction() as tx:
        open_deal = tx.records.get("cs_open")
        assert open_deal is not None
        withdrawn = make_deal("cs_open", registration={"status": "withdrawn"}, stage="closed_lost")
        assert not claims_customer(withdrawn)
        tx.records.update(withdrawn, expected_version=open_deal.version)
        direct = tx.records.get("cs_direct")
        assert direct is not None
        tx.records.mark_deleted("cs_direct", expected_version=direct.version)
        tx.records.insert(make_deal("cs_new", partner_id="partner-b",
                                    registration={"status": "approved"}))
    feed.refresh()
    assert {c.canonical_id for c in feed.claims()} == {"cs_new"}
    _, later, fresh = feed.changes(token)
    assert not fresh
    assert [(c.canonical_id, c.claim is None) for c in later] == sorted(
        [("cs_open", True), ("cs_direct", True), ("cs_new", False)],
        key=lambda item: [c.canonical_id for c in later].index(item[0]),
    )
    feed.refresh()  # nothing new: the overlap re-reads versions, not deals
    assert feed.changes(feed.changes(token)[0])[1] == []


def test_a_write_stamped_before_the_last_refresh_is_still_seen(
    store: Store, clock: FrozenClock
) -> None:
    """A transaction that commits after a later one carries an older timestamp."""
    with store.transaction() as tx:
        tx.records.insert(make_deal("cs_first", registration={"status": "submitted"}))
    feed = ClaimsFeed(store)
    feed.refresh()
    clock.advance(timedelta(seconds=-30))  # the late transaction's own, earlier clock
    with store.transaction() as tx:
        tx.records.insert(make_deal("cs_late", registration={"status": "submitted"}))
    feed.refresh()
    assert {c.canonical_id for c in feed.claims()} == {"cs_first", "cs_late"}


class _Owner:
    """Stands for one transaction's rule context (the index keys its own claims on it)."""


def test_the_followed_index_answers_like_a_fresh_one(store: Store, clock: FrozenClock) -> None:
    rng = random.Random(20261127)
    matcher = CustomerMatcher(aliases=None)
    feed = ClaimsFeed(store)
    index = ClaimIndex(matcher)
    ids = [f"cs_{n:03d}" for n in range(60)]
    owners = {cid: rng.choice(PARTNERS) for cid in ids}
    checked = 0
    for _ in range(6):
        clock.advance(timedelta(seconds=3))
        with store.transaction() as tx:
            for cid in rng.sample(ids, 15):
                stored = tx.records.get(cid)
                deal = _deal(rng, cid, owners[cid])
                if stored is None:
                    tx.records.insert(deal)
                else:
                    tx.records.update(deal, expected_version=stored.version)
        owner = _Owner()
        pending: list[ClaimChange] = []
        overlay: dict[str, Claim | None] = {}
        for cid in rng.sample(ids, 8):  # this transaction's own changes, not committed
            claim = Claim.of(_deal(rng, cid, owners[cid]))
            pending.append(ClaimChange(cid, claim))
            overlay[cid] = claim
            feed.refresh()
            expected_index = CustomerIndex(
                (CustomerRecord.from_claim(c) for c in merged_claims(feed.claims(), overlay)),
                matcher,
            )
            for name in NAMES:
                domain = rng.choice(DOMAINS)
                got = index.matches(feed, owner, pending, name, domain)
                assert _keys(got) == _keys(expected_index.matches(name, domain))
                checked += 1
    assert checked == 6 * 8 * len(NAMES)
