from __future__ import annotations

import itertools
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from channel_sync.clock import FrozenClock
from channel_sync.model import Stage
from channel_sync.store import MissingRowError, OutboxOp, OutboxStatus, Store, open_store
from store.helpers import make_deal

P, F, C, I = (  # noqa: E741
    OutboxStatus.PENDING,
    OutboxStatus.FAILED,
    OutboxStatus.CONFIRMED,
    OutboxStatus.IN_FLIGHT,
)


def _deals(store: Store, *ids: str) -> None:
    with store.transaction() as tx:
        for canonical_id in ids:
            tx.records.insert(make_deal(canonical_id, partner_id="acme"))


def test_claim_takes_oldest_first_up_to_the_batch_size_per_target(store: Store) -> None:
    _deals(store, "a", "b", "c", "d")
    with store.transaction() as tx:
        for canonical_id in ("a", "b", "c"):
            tx.outbox.enqueue("sf-vendor", canonical_id, {"stage": Stage.PROPOSAL})
        tx.outbox.enqueue("hs-acme", "d", {"amount": Decimal("1.10")})
    batch = store.claim_outbox("sf-vendor", 2)
    assert [e.canonical_id for e in batch.entries] == ["a", "b"]
    assert all(e.status is I and e.batch_id == batch.batch_id for e in batch.entries)
    assert all(e.attempts == 1 and e.partner_id == "acme" for e in batch.entries)
    assert batch.entries[0].fields == {"stage": Stage.PROPOSAL}
    rest = store.claim_outbox("sf-vendor", 10)
    assert [e.canonical_id for e in rest.entries] == ["c"]
    assert store.claim_outbox("sf-vendor", 10).entries == ()
    other = store.claim_outbox("hs-acme", 10)
    assert [(e.canonical_id, e.fields) for e in other.entries] == [
        ("d", {"amount": Decimal("1.1")})
    ]
    with pytest.raises(ValueError, match="at least 1"):
        store.claim_outbox("hs-acme", 0)


def test_pending_upserts_of_one_deal_fold_into_one_write(store: Store) -> None:
    _deals(store, "a")
    with store.transaction() as tx:
        first = tx.outbox.enqueue("sf-vendor", "a", {"stage": Stage.PROPOSAL, "name": "A"})
    with store.transaction() as tx:
        second = tx.outbox.enqueue("sf-vendor", "a", {"stage": Stage.NEGOTIATION})
    assert second.id == first.id
    assert second.fields == {"stage": Stage.NEGOTIATION, "name": "A"}
    with store.transaction() as tx:
        deletion = tx.outbox.enqueue("sf-vendor", "a", {}, op=OutboxOp.DELETE)
    assert deletion.id != first.id


def test_a_deal_in_flight_is_not_claimed_again_until_settled(store: Store) -> None:
    _deals(store, "a", "b")
    with store.transaction() as tx:
        tx.outbox.enqueue("sf-vendor", "a", {"name": "one"})
    in_flight = store.claim_outbox("sf-vendor", 10).entries[0]
    with store.transaction() as tx:
        newer = tx.outbox.enqueue("sf-vendor", "a", {"name": "two"})  # must not fold in flight
        tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})
    assert newer.id != in_flight.id
    assert [e.canonical_id for e in store.claim_outbox("sf-vendor", 10).entries] == ["b"]
    with store.transaction() as tx:
        tx.outbox.confirm(in_flight.id)
    follow_up = store.claim_outbox("sf-vendor", 10).entries
    assert [(e.id, e.fields) for e in follow_up] == [(newer.id, {"name": "two"})]


def test_a_newer_entry_waits_while_an_older_one_backs_off(store: Store, clock: FrozenClock) -> None:
    _deals(store, "a", "b")
    with store.transaction() as tx:
        tx.outbox.enqueue("sf-vendor", "a", {"name": "old"})
    (old,) = store.claim_outbox("sf-vendor", 10).entries
    with store.transaction() as tx:
        tx.outbox.fail(old.id, "503", retriable=True, retry_at=clock.now() + timedelta(minutes=5))
        deletion = tx.outbox.enqueue("sf-vendor", "a", {}, op=OutboxOp.DELETE)
        tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})
    # the delete must not overtake the upsert still waiting to be retried
    assert [e.canonical_id for e in store.claim_outbox("sf-vendor", 10).entries] == ["b"]
    clock.advance(timedelta(minutes=5))
    assert [e.id for e in store.claim_outbox("sf-vendor", 10).entries] == [old.id]
    with store.transaction() as tx:
        tx.outbox.confirm(old.id)
    assert [e.id for e in store.claim_outbox("sf-vendor", 10).entries] == [deletion.id]


def test_failures_requeue_with_back_off_or_fail_for_good(store: Store, clock: FrozenClock) -> None:
    _deals(store, "a", "b", "c")
    with store.transaction() as tx:
        for canonical_id in ("a", "b", "c"):
            tx.outbox.enqueue("sf-vendor", canonical_id, {"name": canonical_id})
    a, b, c = store.claim_outbox("sf-vendor", 10).entries
    with store.transaction() as tx:
        retry = tx.outbox.fail(
            a.id,
            "503 Service Unavailable",
            retriable=True,
            retry_at=clock.now() + timedelta(minutes=1),
        )
        dead = tx.outbox.fail(b.id, "400 INVALID_FIELD " + "x" * 10_000, retriable=False)
        exhausted = tx.outbox.fail(c.id, "timeout", retriable=True, max_attempts=1)
    assert (retry.status, retry.last_error, retry.batch_id) == (P, "503 Service Unavailable", None)
    assert dead.status is F
    assert dead.last_error is not None
    assert len(dead.last_error) == 4000
    assert exhausted.status is F
    assert store.claim_outbox("sf-vendor", 10).entries == ()  # a is backing off
    clock.advance(timedelta(minutes=1))
    again = store.claim_outbox("sf-vendor", 10).entries
    assert [(e.id, e.attempts) for e in again] == [(a.id, 2)]
    with store.transaction() as tx:
        tx.outbox.confirm(a.id)
        with pytest.raises(MissingRowError, match="not in flight"):
            tx.outbox.confirm(a.id)
        revived = tx.outbox.retry_failed(b.id)
    assert revived.status is P


def test_in_flight_entries_survive_a_crash_for_settling(db_url: str, clock: FrozenClock) -> None:
    first = open_store(db_url, clock=clock)
    try:
        _deals(first, "a", "b")
        with first.transaction() as tx:
            tx.outbox.enqueue("sf-vendor", "a", {"name": "a"})
            tx.outbox.enqueue("sf-vendor", "b", {"name": "b"})
        claimed = first.claim_outbox("sf-vendor", 10)
    finally:
        first.dispose()  # the worker dies here, before confirming anything
    restarted = open_store(db_url, clock=clock)
    try:
        settling = restarted.in_flight("sf-vendor")
        assert [e.id for e in settling] == [e.id for e in claimed.entries]
        assert {e.batch_id for e in settling} == {claimed.batch_id}
        with restarted.transaction() as tx:
            tx.outbox.confirm(settling[0].id)  # the read-back found it written
            tx.outbox.release(settling[1].id)  # the read-back did not: send again
        assert restarted.in_flight("sf-vendor") == []
        resent = restarted.claim_outbox("sf-vendor", 10).entries
        assert [(e.canonical_id, e.attempts) for e in resent] == [("b", 1)]
    finally:
        restarted.dispose()


def test_counts_and_purge(store: Store, clock: FrozenClock) -> None:
    _deals(store, "a", "b", "c")
    with store.transaction() as tx:
        for canonical_id in ("a", "b", "c"):
            tx.outbox.enqueue("sf-vendor", canonical_id, {"name": canonical_id})
    a, b = store.claim_outbox("sf-vendor", 2).entries
    with store.transaction() as tx:
        tx.outbox.confirm(a.id)
        tx.outbox.fail(b.id, "bad", retriable=False)
    status = store.status()
    assert status.outbox == {"sf-vendor": {P: 1, I: 0, F: 1}}
    clock.advance(timedelta(days=8))
    with store.transaction() as tx:
        assert tx.outbox.purge_confirmed(clock.now() - timedelta(days=7)) == 1
        assert tx.outbox.get(a.id) is None
        assert [e.canonical_id for e in tx.outbox.pending("sf-vendor")] == ["c"]
        assert [e.canonical_id for e in tx.outbox.failed("sf-vendor")] == ["b"]


def test_enqueue_for_an_unknown_deal_is_refused(store: Store) -> None:
    with pytest.raises(MissingRowError), store.transaction() as tx:
        tx.outbox.enqueue("sf-vendor", "ghost", {"name": "x"})


STEPS = int(os.environ.get("CHANNEL_SYNC_TEST_OUTBOX_STEPS", "20"))
EXAMPLES = int(os.environ.get("CHANNEL_SYNC_TEST_OUTBOX_EXAMPLES", "10"))


def test_outbox_state_machine(store: Store, clock: FrozenClock) -> None:
    """Random enqueue/claim/confirm/fail/release sequences against a model of the rules.

    Reproduce a failure with ``--hypothesis-seed=<seed>`` (pytest prints it) or the printed blob.
    """
    deals = ["d0", "d1", "d2"]
    _deals(store, *deals)
    targets = itertools.count()

    class Outbox(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.target = f"t{next(targets)}"
            # model: entry id -> (deal, status, attempts, fields)
            self.model: dict[int, tuple[str, OutboxStatus, int, dict[str, object]]] = {}

        @rule(deal=st.sampled_from(deals), name=st.text("abc", min_size=1, max_size=3))
        def enqueue(self, deal: str, name: str) -> None:
            with store.transaction() as tx:
                entry = tx.outbox.enqueue(self.target, deal, {"name": name})
            folded = [i for i, (d, s, _, _) in self.model.items() if d == deal and s is P]
            if folded:
                assert entry.id == max(folded)
                d, s, n, fields = self.model[entry.id]
                self.model[entry.id] = (d, s, n, {**fields, "name": name})
            else:
                assert entry.id not in self.model
                self.model[entry.id] = (deal, P, 0, {"name": name})

        @rule(size=st.integers(1, 4))
        def claim(self, size: int) -> None:
            batch = store.claim_outbox(self.target, size)
            busy = {d for d, s, _, _ in self.model.values() if s is I}
            expected: list[int] = []
            for i in sorted(self.model):
                deal, status, _, _ = self.model[i]
                if status is P and deal not in busy and len(expected) < size:
                    expected.append(i)
                    busy.add(deal)
            assert [e.id for e in batch.entries] == expected
            for entry in batch.entries:
                deal, _, attempts, fields = self.model[entry.id]
                assert entry.fields == fields
                self.model[entry.id] = (deal, I, attempts + 1, fields)

        @rule(data=st.data(), outcome=st.sampled_from(["confirm", "retry", "fail", "release"]))
        def settle(self, data: st.DataObject, outcome: str) -> None:
            flying = sorted(i for i, (_, s, _, _) in self.model.items() if s is I)
            if not flying:
                return
            entry_id = data.draw(st.sampled_from(flying))
            deal, _, attempts, fields = self.model[entry_id]
            with store.transaction() as tx:
                if outcome == "confirm":
                    tx.outbox.confirm(entry_id)
                    self.model[entry_id] = (deal, C, attempts, fields)
                elif outcome == "retry":
                    tx.outbox.fail(entry_id, "503", retriable=True)
                    self.model[entry_id] = (deal, P, attempts, fields)
                elif outcome == "fail":
                    tx.outbox.fail(entry_id, "400", retriable=False)
                    self.model[entry_id] = (deal, F, attempts, fields)
                else:
                    tx.outbox.release(entry_id)
                    self.model[entry_id] = (deal, P, attempts - 1, fields)

        @invariant()
        def store_matches_model(self) -> None:
            with store.read() as tx:
                for entry_id, (deal, status, attempts, _) in self.model.items():
                    entry = tx.outbox.get(entry_id)
                    assert entry is not None
                    assert (entry.canonical_id, entry.status, entry.attempts) == (
                        deal,
                        status,
                        attempts,
                    )

    run_state_machine_as_test(
        Outbox,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
