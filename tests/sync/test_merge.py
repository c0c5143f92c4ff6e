from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channel_sync.sync.merge import (
    Authority,
    FieldPolicy,
    OnConflict,
    Outcome,
    Side,
    merge_fields,
)

REVIEW = FieldPolicy(Authority.SHARED, OnConflict.REVIEW)


def one(side: Side, remote: object, base: object, hub: object, policy: FieldPolicy = REVIEW):
    [decision] = merge_fields(
        side=side, remote={"f": remote}, base={"f": base}, hub={"f": hub}, policies={"f": policy}
    )
    return decision


def test_unchanged_remote_is_not_a_change_even_if_hub_moved() -> None:
    d = one(Side.PARTNER, remote=1, base=1, hub=2)
    assert d.outcome is Outcome.UNCHANGED
    assert not d.hub_changes
    assert not d.is_conflict


def test_change_on_one_side_is_taken() -> None:
    d = one(Side.PARTNER, remote=5, base=1, hub=1)
    assert d.outcome is Outcome.TAKE_REMOTE
    assert d.hub_changes
    assert d.agreed


def test_identical_edits_are_not_a_conflict() -> None:
    d = one(Side.VENDOR, remote=7, base=1, hub=7)
    assert d.outcome is Outcome.IDENTICAL
    assert not d.is_conflict
    assert d.agreed


def test_true_conflict_on_shared_review_field_is_queued() -> None:
    d = one(Side.VENDOR, remote=7, base=1, hub=8)
    assert d.outcome is Outcome.REVIEW
    assert not d.hub_changes
    assert not d.agreed


def test_authority_decides_true_conflicts() -> None:
    vendor_field = FieldPolicy(Authority.VENDOR)
    assert one(Side.VENDOR, 7, 1, 8, vendor_field).outcome is Outcome.REMOTE_WINS
    assert one(Side.PARTNER, 7, 1, 8, vendor_field).outcome is Outcome.HUB_WINS
    shared_partner = FieldPolicy(Authority.SHARED, OnConflict.PARTNER)
    assert one(Side.PARTNER, 7, 1, 8, shared_partner).outcome is Outcome.REMOTE_WINS
    assert one(Side.VENDOR, 7, 1, 8, shared_partner).outcome is Outcome.HUB_WINS


def test_new_link_without_base_treats_missing_as_none() -> None:
    [d] = merge_fields(side=Side.PARTNER, remote={"f": 3}, base={}, hub={}, policies={})
    assert d.outcome is Outcome.TAKE_REMOTE


def test_different_fields_edited_on_two_sides_both_survive() -> None:
    base = {"a": 1, "b": 1}
    hub = {"a": 2, "b": 1}  # the other side changed a
    decisions = merge_fields(
        side=Side.PARTNER, remote={"a": 1, "b": 9}, base=base, hub=hub, policies={}
    )
    by_path = {d.path: d for d in decisions}
    assert by_path["a"].outcome is Outcome.UNCHANGED  # hub's a survives
    assert by_path["b"].outcome is Outcome.TAKE_REMOTE  # remote's b survives
    assert not any(d.is_conflict for d in decisions)


values = st.one_of(st.none(), st.integers(-2, 2))
policies = st.builds(FieldPolicy, st.sampled_from(Authority), st.sampled_from(OnConflict))


@given(side=st.sampled_from(Side), remote=values, base=values, hub=values, policy=policies)
def test_conflict_iff_both_moved_to_different_values(
    side: Side, remote: object, base: object, hub: object, policy: FieldPolicy
) -> None:
    d = one(side, remote, base, hub, policy)
    true_conflict = remote != base and hub != base and remote != hub
    assert d.is_conflict is true_conflict
    # whatever happens, the hub's new value is one of the two inputs, never invented
    new_hub = remote if d.hub_changes else hub
    assert new_hub in (remote, hub)
    # a decided conflict goes to the authoritative side
    if d.outcome is Outcome.REMOTE_WINS:
        assert policy.winner() is side
    if d.outcome is Outcome.HUB_WINS:
        assert policy.winner() not in (None, side)
